"""`pyarch-lint server`: the language server, over stdio (pygls), on the library API.

Each open Python document is checked from the editor's text, never the file on disk: when it
opens, when it is saved, and as it changes. Edits are debounced by the analysis itself: the
first edit after a pause is checked at once (what the user waits for is the analysis, nothing
more), and the edits that arrive while it runs are checked together, as one text, once it is
done: one analysis at a time per document, of its newest text. Its settings are the file's, found
as the command line finds them (`api.plan_source` of its path: the nearest pyproject.toml with
the table, its per-file ignores and excludes); they are read again when a pyproject.toml
changes. Project-wide rules, which need every file's facts, are left to the command line.

The analysis, and the fixes (`fixes.quick_fixes`, `fixes.fix_source`) the code actions offer,
run in one warm worker process (`workers.WarmWorker`): LibCST is imported once, and a text that
crashes or hangs the parser costs a PA003 diagnostic, never the server; the per-file timeout
(`file-timeout`) holds. The model's critique (`pyarch-lint.critique`) runs only
when asked for, through `api.review`: the command line's redaction, spend ceiling and cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import io
import logging
import os
import re
import tempfile
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

from pyarch_lint import __version__, api
from pyarch_lint.add_noqa import with_noqa
from pyarch_lint.catalogue import RuleDoc, documents, rules_dir
from pyarch_lint.engine import failure_message
from pyarch_lint.errors import LintError
from pyarch_lint.findings import Applicability, CritiqueItem, Finding, Severity
from pyarch_lint.report import counted
from pyarch_lint.workers import Failure, WarmWorker

if TYPE_CHECKING:
    from pyarch_lint.fixes import QuickFix

SOURCE = "pyarch-lint"
CRITIQUE_SOURCE = "pyarch-lint critique"
CRITIQUE_COMMAND = "pyarch-lint.critique"
CRITIQUE_ACTION = "source.pyarch-lint.critique"
FIX_ALL = f"{lsp.CodeActionKind.SourceFixAll.value}.pyarch-lint"
# Fixing a text analyses it once per pass, up to `fixes.MAX_PASSES` times (not imported here:
# fixes imports LibCST); `api.fix` bounds it the same way.
FIX_PASSES = 10
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's line breaks (str.splitlines has more)
_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}

log = logging.getLogger(__name__)


def serve() -> None:
    """Serve the editor on stdin and stdout until it says exit."""
    server = create_server()
    server.start_io()


def create_server() -> LanguageServer:
    """A server with pyarch-lint's features, not yet started."""
    server = LanguageServer(
        "pyarch-lint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental
    )
    session = _Session(server)
    session.register()
    session.worker.start()  # LibCST loads while the editor initializes
    return server


# -- the analysis, in the worker process ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """What the worker is asked about one text: its findings, or its fixes."""

    plan: api.Plan  # the document's, with its one file (`api.plan_source`)
    source: bytes
    fixes: Literal["each", "all"] | None = None  # each finding's alone; all the safe ones


# The worker's answers: findings, quick fixes, the text with every safe fix applied.
_Answer = api.Checked | list["QuickFix"] | bytes


def _worker(_argument: None) -> Callable[[_Job], _Answer]:
    """The worker's work, its imports (LibCST, the rules, the fixes) paid now rather than at
    the first edit. The worker's stdout is the editor's connection: what anything would print
    there goes to stderr instead, where editors keep the server's log."""
    os.dup2(2, 1)
    from pyarch_lint import fixes
    from pyarch_lint.analysis import visitors
    from pyarch_lint.config import Settings

    visitors(Settings.default())

    def work(job: _Job) -> _Answer:
        if job.fixes is None:
            return api.check_source(job.plan, job.source, isolated=False)
        [group] = job.plan.groups
        [file] = group.files
        if job.fixes == "each":
            return fixes.quick_fixes(job.source, str(file.path), group.settings)
        return fixes.fix_source(job.source, str(file.path), group.settings).source

    return work


def _as_text(data: bytes) -> str:
    """The fixed bytes as the editor's text (`_as_bytes` undone)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return data.decode("utf-8", "surrogateescape")


def _as_bytes(text: str) -> bytes:
    """The editor's text as the file's bytes: in the encoding its coding declaration names (the
    analysis reads that declaration), else UTF-8."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data if encoding in ("utf-8", "utf-8-sig") else text.encode(encoding)
    except (SyntaxError, LookupError, UnicodeError):
        return data  # the analysis says what is wrong with it


# -- the session ---------------------------------------------------------------------------------


@dataclass
class _Document:
    """What the server knows of one open document."""

    version: int | None = None  # of the text `checked` is of
    text: str = ""  # that text
    checked: api.Checked | None = None
    findings: tuple[Finding, ...] = ()  # PA003 for a worker's failure, else `checked`'s
    critique: tuple[CritiqueItem, ...] = ()  # its lines moved with the edits since
    stale: bool = False  # changed since the analysis under way or done
    pending: asyncio.Task[None] | None = None  # the analyses of its newest text


@dataclass
class _Session:
    server: LanguageServer
    worker: WarmWorker[_Job, _Answer] = field(default_factory=lambda: WarmWorker(_worker, None))
    documents: dict[str, _Document] = field(default_factory=dict)
    plans: dict[Path, api.Plan] = field(default_factory=dict)  # by file; cleared on reload
    shown_error: str | None = None  # the configuration error last shown, not shown again

    def register(self) -> None:
        def feature(name: str, method: Callable[..., Any], options: Any = None) -> None:
            self.server.feature(name, options)(_function(method))

        feature(lsp.INITIALIZED, self.initialized)
        feature(lsp.SHUTDOWN, self.shutdown)
        feature(lsp.TEXT_DOCUMENT_DID_OPEN, self.did_open)
        feature(lsp.TEXT_DOCUMENT_DID_CHANGE, self.did_change)
        feature(lsp.TEXT_DOCUMENT_DID_SAVE, self.did_save)
        feature(lsp.TEXT_DOCUMENT_DID_CLOSE, self.did_close)
        feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, self.watched_files_changed)
        feature(lsp.TEXT_DOCUMENT_HOVER, self.hover)
        kinds = [lsp.CodeActionKind.QuickFix, FIX_ALL, CRITIQUE_ACTION]
        feature(
            lsp.TEXT_DOCUMENT_CODE_ACTION,
            self.code_action,
            lsp.CodeActionOptions(code_action_kinds=kinds),
        )
        self.server.command(CRITIQUE_COMMAND)(_function(self.critique))

    # -- lifecycle

    async def initialized(self, _params: lsp.InitializedParams) -> None:
        """Ask to hear of pyproject.toml changes, when the editor can watch files for us."""
        capabilities = self.server.client_capabilities.workspace
        watching = capabilities and capabilities.did_change_watched_files
        if not (watching and watching.dynamic_registration):
            return  # saving a pyproject.toml open in the editor still reloads
        watchers = [lsp.FileSystemWatcher(glob_pattern="**/pyproject.toml")]
        registration = lsp.Registration(
            id="pyarch-lint-pyproject",
            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )
        try:
            await self.server.client_register_capability_async(
                lsp.RegistrationParams(registrations=[registration])
            )
        except Exception as error:  # the editor refused: saving one still reloads
            log.warning("cannot watch pyproject.toml files: %s", error)

    def shutdown(self, _params: None) -> None:
        self.worker.close()

    # -- documents

    def did_open(self, params: lsp.DidOpenTextDocumentParams) -> None:
        if _is_python(params.text_document.uri, params.text_document.language_id):
            self.documents[params.text_document.uri] = _Document()
            self._schedule(params.text_document.uri)

    def did_change(self, params: lsp.DidChangeTextDocumentParams) -> None:
        state = self.documents.get(params.text_document.uri)
        if state is not None and state.critique:
            state.critique = _moved(state.critique, params.content_changes)
        self._schedule(params.text_document.uri)

    def did_save(self, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if _is_pyproject(uri):
            self._reload()
        elif uri in self.documents:
            path = _path_of(uri)
            if path is not None:  # a .gitignore may have changed what is excluded
                self.plans.pop(path, None)
            self._schedule(uri)

    def did_close(self, params: lsp.DidCloseTextDocumentParams) -> None:
        state = self.documents.pop(params.text_document.uri, None)
        if state is not None:
            if state.pending is not None:
                state.pending.cancel()
            self._publish_empty(params.text_document.uri)

    def watched_files_changed(self, params: lsp.DidChangeWatchedFilesParams) -> None:
        if any(_is_pyproject(change.uri) for change in params.changes):
            self._reload()

    def _reload(self) -> None:
        """Settings read afresh for every document, and every document checked with them."""
        self.plans.clear()
        self.shown_error = None
        for uri in self.documents:
            self._schedule(uri)

    def _schedule(self, uri: str) -> None:
        """Check the document's newest text now, or after the analysis under way, which then
        checks it again."""
        state = self.documents.get(uri)
        if state is None:
            return
        state.stale = True
        if state.pending is None or state.pending.done():
            state.pending = asyncio.create_task(self._check_while_stale(uri, state))

    async def _check_while_stale(self, uri: str, state: _Document) -> None:
        while state.stale and self.documents.get(uri) is state:
            state.stale = False
            try:
                await self._check(uri, self.server.workspace.get_text_document(uri), state)
            except Exception:  # a bug: said in the editor's log; the next edit tries again
                log.exception("pyarch-lint: checking %s failed", uri)
                return

    async def _check(self, uri: str, document: TextDocument, state: _Document) -> None:
        path = _path_of(uri)
        plan = None if path is None else self._plan(path)
        if plan is None:
            self._publish_empty(uri)
            return
        version, text = document.version, document.source
        timeout = plan.settings.file_timeout
        outcome = await asyncio.to_thread(self.worker.run, _Job(plan, _as_bytes(text)), timeout)
        if isinstance(outcome, Failure):  # the worker timed out or died
            info = plan.settings.rules.by_code["PA003"]
            message = failure_message(outcome)
            problem = Finding(uri, 1, 1, 1, 1, info.code, info.name, info.severity, message)
            state.checked, state.findings = None, (problem,)
        elif isinstance(outcome, api.Checked):
            state.checked, state.findings = outcome, outcome.findings
        state.version, state.text = version, text
        if self.documents.get(uri) is state:
            self._publish(uri, document, state)

    def _plan(self, path: Path) -> api.Plan | None:
        """The file's plan (its settings), or None when its configuration is invalid (shown
        once, until a pyproject.toml changes)."""
        found = self.plans.get(path)
        if found is None:
            try:
                found = api.plan_source(path, api.LintOptions())
            except LintError as error:
                if str(error) != self.shown_error:
                    self.shown_error = str(error)
                    self._tell(lsp.MessageType.Error, f"pyarch-lint: {error}")
                return None
            self.plans[path] = found
        return found

    # -- diagnostics

    def _publish(self, uri: str, document: TextDocument, state: _Document) -> None:
        """The document's findings and critique, placed in the text they are of."""
        lines = _lines(state.text)
        diagnostics = [_diagnostic(f, document, lines) for f in state.findings]
        diagnostics += [_critique_diagnostic(item, document, lines) for item in state.critique]
        self.server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=state.version)
        )

    def _publish_empty(self, uri: str) -> None:
        self.server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    # -- hover

    def hover(self, params: lsp.HoverParams) -> lsp.Hover | None:
        """The summary of each rule whose diagnostic covers the position, and the critique's
        suggestion for each of its items there."""
        state = self.documents.get(params.text_document.uri)
        if state is None:
            return None
        document = self.server.workspace.get_text_document(params.text_document.uri)
        lines = _lines(document.source)
        at = document.position_codec.position_from_client_units(lines, params.position)
        parts = []
        docs = {} if state.checked is None else documents(state.checked.plan.settings.rules)
        for finding in state.findings:
            if _covers(finding.line, finding.end_line, at) and finding.code in docs:
                parts.append(_rule_hover(finding, docs[finding.code]))
        for item in state.critique:
            if _covers(item.line, item.end_line, at):
                parts.append(_critique_hover(item))
        if not parts:
            return None
        text = "\n\n---\n\n".join(parts)
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))

    # -- code actions

    async def code_action(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        """For the diagnostics in the request: each one's fix and its noqa comment; for the
        document: every safe fix at once ("fix all"), and the model's critique."""
        uri = params.text_document.uri
        state = self.documents.get(uri)
        if state is None:
            return None
        document = self.server.workspace.get_text_document(uri)
        wanted = params.context.only
        actions: list[lsp.CodeAction] = []
        checked = state.checked if state.version == document.version else None
        if checked is not None and _wants(wanted, lsp.CodeActionKind.QuickFix):
            actions += await self._quick_fixes(uri, document, checked, params.context.diagnostics)
        if checked is not None and _wants(wanted, FIX_ALL):
            actions += await self._fix_all(uri, document, checked)
        if _wants(wanted, CRITIQUE_ACTION):
            command = lsp.Command(
                title="pyarch-lint: ask the model for a critique of this file",
                command=CRITIQUE_COMMAND,
                arguments=[uri],
            )
            actions.append(
                lsp.CodeAction(title=command.title, kind=CRITIQUE_ACTION, command=command)
            )
        return actions

    async def _quick_fixes(
        self,
        uri: str,
        document: TextDocument,
        checked: api.Checked,
        diagnostics: Sequence[lsp.Diagnostic],
    ) -> list[lsp.CodeAction]:
        """Each of our diagnostics' fix, when its rule has one, and its noqa comment."""
        ours = [
            (diagnostic, finding)
            for diagnostic in diagnostics
            if (finding := _finding_of(diagnostic, checked.findings, document)) is not None
        ]
        offered: list[QuickFix] = []
        if any(finding.fix is not None for _, finding in ours):
            answer = await self._fixes(checked, document, "each")
            offered = answer if isinstance(answer, list) else []
        actions = [
            _fix_action(uri, document, diagnostic, quick)
            for diagnostic, finding in ours
            for quick in offered
            if _place(quick.finding) == _place(finding) and quick.finding.code == finding.code
        ]
        for diagnostic, finding in ours:
            action = _noqa_action(uri, document, diagnostic, finding)
            if action is not None:
                actions.append(action)
        return actions

    async def _fix_all(
        self, uri: str, document: TextDocument, checked: api.Checked
    ) -> list[lsp.CodeAction]:
        """Every safe fix at once, when there is one."""
        if not any(f.fix is Applicability.SAFE for f in checked.findings):
            return []
        answer = await self._fixes(checked, document, "all")
        text = _as_text(answer) if isinstance(answer, bytes) else document.source
        if text == document.source:
            return []
        edit = _edit(document, document.source, text)
        return [
            lsp.CodeAction(
                title="pyarch-lint: apply every safe fix",
                kind=FIX_ALL,
                edit=lsp.WorkspaceEdit(changes={uri: [edit]}),
            )
        ]

    async def _fixes(
        self, checked: api.Checked, document: TextDocument, fixes: Literal["each", "all"]
    ) -> _Answer | Failure:
        """The worker's fixes of the document's text (a Failure when fixing it died or ran
        out of time: no action offered then)."""
        timeout = checked.plan.settings.file_timeout
        if fixes == "all":
            timeout *= FIX_PASSES
        job = _Job(checked.plan, _as_bytes(document.source), fixes)
        return await asyncio.to_thread(self.worker.run, job, timeout)

    # -- the critique

    async def critique(self, _server: LanguageServer, *arguments: object) -> None:
        """`pyarch-lint.critique URI`: the model's critique of the document's text, published
        beside its findings under the source "pyarch-lint critique"; why there is none, said.
        (pygls passes the server first to a command whose first parameter is annotated so.)"""
        uri = arguments[0] if arguments else None
        if isinstance(uri, dict):  # some editors pass the text document identifier
            uri = uri.get("uri")
        state = self.documents.get(uri) if isinstance(uri, str) else None
        if not isinstance(uri, str) or state is None:
            self._tell(lsp.MessageType.Error, f"pyarch-lint.critique: no open document {uri!r}")
            return
        document = self.server.workspace.get_text_document(uri)
        if state.version != document.version:
            self._schedule(uri)
        if state.pending is not None:
            await state.pending
        checked = state.checked
        if checked is None or not checked.files:
            why = "its settings exclude it, or its analysis failed"
            self._tell(lsp.MessageType.Warning, f"pyarch-lint: no critique: {why}")
            return
        said: list[str] = []
        result = await asyncio.to_thread(_review, checked, state.text, said.append)
        critiques = result.outcome.critiques
        if not critiques:
            self._tell(lsp.MessageType.Warning, _why_no_critique(checked, result, said))
            return
        state.critique = critiques[0].items
        self._publish(uri, document, state)
        done = f"pyarch-lint: the model's critique: {counted(len(state.critique), 'item')}"
        self._tell(lsp.MessageType.Info, done + (" (cached)" if critiques[0].cached else ""))

    def _tell(self, kind: lsp.MessageType, message: str) -> None:
        self.server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))


def _function(method: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method as the plain function pygls registers (it sets attributes on it), with
    the method's signature (pygls reads it) and its being a coroutine or not."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def waited(*arguments: Any) -> Any:
            return await method(*arguments)

        return waited

    @functools.wraps(method)
    def called(*arguments: Any) -> Any:
        return method(*arguments)

    return called


def _review(checked: api.Checked, text: str, status: Callable[[str], None]) -> api.LintResult:
    """`api.review` of the editor's text rather than of the file on disk: the model is shown
    the text checked, from a private copy, under the file's own name."""
    with tempfile.TemporaryDirectory(prefix="pyarch-lint-") as folder:
        copies = {}
        for display, path in checked.sources.items():
            copy = Path(folder) / path.name
            copy.write_bytes(_as_bytes(text))
            copies[display] = copy
        return api.review(dataclasses.replace(checked, sources=copies), status=status)


def _moved(
    items: Sequence[CritiqueItem], changes: Sequence[lsp.TextDocumentContentChangeEvent]
) -> tuple[CritiqueItem, ...]:
    """The critique's items, their lines moved by the lines the edits add or remove above them
    (an item an edit touches keeps its place; a new whole text drops them all)."""
    for change in changes:
        if not isinstance(change, lsp.TextDocumentContentChangePartial):
            return ()
        first, last = change.range.start.line + 1, change.range.end.line + 1  # 1-based
        added = len(_LINE_BREAK.findall(change.text)) - (last - first)
        if added:
            items = [_moved_item(item, first, last, added) for item in items]
    return tuple(items)


def _moved_item(item: CritiqueItem, first: int, last: int, added: int) -> CritiqueItem:
    if item.line > last:  # below the edit
        return dataclasses.replace(item, line=item.line + added, end_line=item.end_line + added)
    if item.end_line >= first:  # the edit is within it, or ends in it
        return dataclasses.replace(item, end_line=max(item.line, item.end_line + added))
    return item


def _why_no_critique(checked: api.Checked, result: api.LintResult, said: Sequence[str]) -> str:
    reasons = [f"{item.reason}" for item in result.outcome.not_reviewed]
    reasons += [line.removeprefix("llm: ") for line in said]
    if not reasons:
        llm = checked.plan.settings.llm
        reasons = [
            f"the model critiques files with a finding at llm.min-severity ({llm.min_severity})"
            " or above, and this text has none"
        ]
    return "pyarch-lint: no critique: " + "; ".join(reasons)


# -- positions and ranges ------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """The text's lines as the analysis counts them (without their line breaks)."""
    return _LINE_BREAK.split(text)


Place = tuple[int, int, int, int]  # line, column, end line, end column: 1-based, in characters


def _range(document: TextDocument, lines: Sequence[str], place: Place) -> lsp.Range:
    """A place in the text -> the editor's 0-based units."""
    line, column, end_line, end_column = place
    codec = document.position_codec
    start = codec.position_to_client_units(lines, ServerTextPosition(line - 1, column - 1))
    end = codec.position_to_client_units(lines, ServerTextPosition(end_line - 1, end_column - 1))
    return lsp.Range(start=start, end=end)


def _place(finding: Finding) -> Place:
    return finding.line, finding.column, finding.end_line, finding.end_column


def _covers(line: int, end_line: int, at: ServerTextPosition) -> bool:
    return line - 1 <= at.line <= end_line - 1


def _path_of(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return None if path is None else Path(path)


def _is_python(uri: str, language: str) -> bool:
    return uri.startswith("file:") and (language == "python" or uri.endswith((".py", ".pyi")))


def _is_pyproject(uri: str) -> bool:
    return uri.startswith("file:") and uri.endswith("/pyproject.toml")


@functools.cache
def _document_url(code: str, name: str) -> str | None:
    """Where the rule's document is: the installed package's copy (a checkout's rules/)."""
    document = rules_dir() / f"{code}-{name}.md"
    return document.as_uri() if document.is_file() else None


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    """Does the editor ask for actions of `kind` (an `only` of "source" covers "source.x")?"""
    return only is None or any(kind == o or kind.startswith(f"{o}.") for o in only)


def _finding_of(
    diagnostic: lsp.Diagnostic, findings: Sequence[Finding], document: TextDocument
) -> Finding | None:
    if diagnostic.source != SOURCE:
        return None
    lines = _lines(document.source)
    for finding in findings:
        place = _range(document, lines, _place(finding))
        if finding.code == diagnostic.code and place == diagnostic.range:
            return finding
    return None


def _fix_action(
    uri: str, document: TextDocument, diagnostic: lsp.Diagnostic, quick: QuickFix
) -> lsp.CodeAction:
    lines = _lines(document.source)
    edits = [
        lsp.TextEdit(
            range=_range(document, lines, (e.line, e.column, e.end_line, e.end_column)),
            new_text=e.text,
        )
        for e in quick.edits
    ]
    safe = quick.applicability is Applicability.SAFE
    return lsp.CodeAction(
        title=quick.title if safe else f"{quick.title} (unsafe: check what it changes)",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=lsp.WorkspaceEdit(changes={uri: edits}),
    )


def _noqa_action(
    uri: str, document: TextDocument, diagnostic: lsp.Diagnostic, finding: Finding
) -> lsp.CodeAction | None:
    text = document.source
    new_text = with_noqa(text, [finding])
    if new_text is None or new_text == text:
        return None
    edit = _edit(document, text, new_text)
    return lsp.CodeAction(
        title=f"Suppress {finding.code} on this line (# noqa)",
        kind=lsp.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=lsp.WorkspaceEdit(changes={uri: [edit]}),
    )


def _edit(document: TextDocument, old: str, new: str) -> lsp.TextEdit:
    """One edit that turns `old` into `new`: the span between what they share at each end."""
    start = 0
    shortest = min(len(old), len(new))
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[-1 - end] == new[-1 - end]:
        end += 1
    lines = _lines(old)
    first = _position(document, lines, old, start)
    last = _position(document, lines, old, len(old) - end)
    replaced = lsp.Range(start=first, end=last)
    return lsp.TextEdit(range=replaced, new_text=new[start : len(new) - end])


def _position(document: TextDocument, lines: Sequence[str], text: str, offset: int) -> lsp.Position:
    line = len(_LINE_BREAK.findall(text, 0, offset))
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    if offset and text[offset - 1] == "\r" and text[offset : offset + 1] == "\n":
        line -= 1  # between the two characters of one \r\n: still the line they end
        start = text.rfind("\n", 0, offset - 1) + 1
    codec = document.position_codec
    return codec.position_to_client_units(lines, ServerTextPosition(line, offset - start))


# -- hover texts ---------------------------------------------------------------------------------


def _rule_hover(finding: Finding, doc: RuleDoc) -> str:
    text = f"**{finding.code} {finding.name}**: {doc.summary}"
    href = _document_url(finding.code, finding.name)
    return text if href is None else f"{text}\n\n[The rule's documentation]({href})"


def _critique_hover(item: CritiqueItem) -> str:
    text = f"**{item.principle}** (the model's critique): {item.problem}\n\n{item.suggestion}"
    if item.example:
        text += f"\n\n```python\n{item.example}\n```"
    return text


def _diagnostic(finding: Finding, document: TextDocument, lines: Sequence[str]) -> lsp.Diagnostic:
    place = _range(document, lines, _place(finding))
    href = _document_url(finding.code, finding.name)
    return lsp.Diagnostic(
        range=place,
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=None if href is None else lsp.CodeDescription(href=href),
        source=SOURCE,
    )


def _critique_diagnostic(
    item: CritiqueItem, document: TextDocument, lines: Sequence[str]
) -> lsp.Diagnostic:
    last = min(item.end_line, len(lines))
    end_column = len(lines[last - 1]) + 1 if last >= 1 else 1
    return lsp.Diagnostic(
        range=_range(document, lines, (item.line, 1, last, end_column)),
        message=f"{item.principle}: {item.problem}",
        severity=_SEVERITY[item.severity],
        source=CRITIQUE_SOURCE,
    )
