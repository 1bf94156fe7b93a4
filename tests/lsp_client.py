"""An editor for the language server's tests and benchmark: pygls's own LSP client, starting
`pyarch-lint server` as a subprocess over stdio, with what the server publishes collected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

WAIT = 60.0  # seconds any one answer may take on a loaded machine


def server_command() -> list[str]:
    """The console script beside this Python (what an editor runs), else `python -m`."""
    script = Path(sys.executable).with_name("pyarch-lint")
    if script.is_file():
        return [str(script), "server"]
    return [sys.executable, "-m", "pyarch_lint", "server"]


@dataclass
class Editor:
    client: LanguageClient
    published: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = field(
        default_factory=asyncio.Queue
    )
    messages: asyncio.Queue[lsp.ShowMessageParams] = field(default_factory=asyncio.Queue)
    versions: dict[str, int] = field(default_factory=dict)

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.versions[uri] = 1
        document = lsp.TextDocumentItem(
            uri=uri,
            language_id="python",
            version=1,
            text=path.read_text(encoding="utf-8") if text is None else text,
        )
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=document))
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Send the whole new text (a full-document change); its version."""
        self.versions[uri] += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return self.versions[uri]

    def edit(self, uri: str, place: lsp.Range, text: str) -> int:
        """Send an incremental change, as editors do as one types; the new version."""
        self.versions[uri] += 1
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[lsp.TextDocumentContentChangePartial(range=place, text=text)],
            )
        )
        return self.versions[uri]

    async def diagnostics(
        self, uri: str, version: int | None = None
    ) -> tuple[float, list[lsp.Diagnostic]]:
        """The next diagnostics published for `uri` (of `version` when given), and when they
        arrived (time.perf_counter)."""
        while True:
            arrived, params = await asyncio.wait_for(self.published.get(), WAIT)
            if params.uri == uri and (version is None or params.version == version):
                return arrived, list(params.diagnostics)

    async def message(self) -> lsp.ShowMessageParams:
        return await asyncio.wait_for(self.messages.get(), WAIT)


@contextlib.asynccontextmanager
async def editor(folder: Path, env: Mapping[str, str | None] = {}) -> AsyncIterator[Editor]:
    """An initialized session with a server started in `folder` with `env` on top of ours
    (None: unset)."""
    client = LanguageClient("pyarch-lint-tests", "1")
    session = Editor(client)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams) -> None:
        session.published.put_nowait((time.perf_counter(), params))

    @client.feature(lsp.WINDOW_SHOW_MESSAGE)
    def shown(params: lsp.ShowMessageParams) -> None:
        session.messages.put_nowait(params)

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def registered(_params: lsp.RegistrationParams) -> None:
        return None

    environment = {**os.environ}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = server_command()
    await client.start_io(command[0], *command[1:], cwd=folder, env=environment)
    capabilities = lsp.ClientCapabilities(
        workspace=lsp.WorkspaceClientCapabilities(
            did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            )
        ),
        text_document=lsp.TextDocumentClientCapabilities(
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True)
        ),
    )
    await asyncio.wait_for(
        client.initialize_async(
            lsp.InitializeParams(
                capabilities=capabilities,
                root_uri=folder.as_uri(),
                workspace_folders=[lsp.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
            )
        ),
        WAIT,
    )
    client.initialized(lsp.InitializedParams())
    try:
        yield session
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_async(None), WAIT)
            client.exit(None)
        await client.stop()
