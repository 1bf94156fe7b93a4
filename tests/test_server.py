"""`pyarch-lint server`: a real LSP client (pygls's) starts the server as a subprocess and
talks to it over stdio, as an editor does."""

from __future__ import annotations

import asyncio
import ctypes
import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from conftest import llm_env
from llm_server import MessagesServer, critique, item
from lsp_client import Editor, editor
from lsprotocol import types as lsp

from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.fixes import MAX_PASSES
from pyarch_lint.server import FIX_PASSES
from pyarch_lint.workers import Failure, WarmWorker

BLOCKING = textwrap.dedent(
    """\
    import time


    async def handler() -> None:
        time.sleep(1)
        return None
    """
)
SLEEP_LINE = 4  # 0-based, as LSP counts


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(BLOCKING, encoding="utf-8")
    return tmp_path


def _codes(diagnostics: list[lsp.Diagnostic]) -> list[object]:
    return [d.code for d in diagnostics]


def _apply(text: str, edit: lsp.TextEdit) -> str:
    """An edit within ASCII text, applied as an editor would."""
    lines = text.splitlines(keepends=True)

    def offset(position: lsp.Position) -> int:
        return sum(len(line) for line in lines[: position.line]) + position.character

    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]


def test_a_blocking_call_is_diagnosed_suppressed_and_cleared(project: Path) -> None:
    async def scenario() -> None:
        async with editor(project) as session:
            uri = session.open(project / "app.py")
            _, diagnostics = await session.diagnostics(uri)
            [blocking] = [d for d in diagnostics if d.code == "PA401"]
            assert blocking.range.start == lsp.Position(line=SLEEP_LINE, character=4)
            assert blocking.source == "pyarch-lint"
            assert blocking.severity == lsp.DiagnosticSeverity.Error
            assert blocking.code_description is not None
            href = blocking.code_description.href
            assert href.endswith("/PA401-blocking-call-in-async.md")
            assert Path(url2pathname(urlparse(href).path)).is_file()

            context = lsp.CodeActionContext(diagnostics=[blocking])
            actions = await session.client.text_document_code_action_async(
                lsp.CodeActionParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    range=blocking.range,
                    context=context,
                )
            )
            assert actions is not None
            [noqa] = [
                a for a in actions if isinstance(a, lsp.CodeAction) and "noqa" in a.title.lower()
            ]
            assert noqa.kind == lsp.CodeActionKind.QuickFix
            # pygls's client decodes a code action that carries a command as a bare command
            # (the command's own fields lost): its title is what survives.
            assert any("critique" in action.title for action in actions)
            assert noqa.edit is not None
            assert noqa.edit.changes is not None
            [change] = noqa.edit.changes[uri]
            suppressed = _apply(BLOCKING, change)
            assert suppressed.splitlines()[SLEEP_LINE] == "    time.sleep(1)  # noqa: PA401"

            version = session.replace(uri, suppressed)
            _, diagnostics = await session.diagnostics(uri, version)
            assert "PA401" not in _codes(diagnostics)

            version = session.replace(uri, BLOCKING)
            _, diagnostics = await session.diagnostics(uri, version)
            assert "PA401" in _codes(diagnostics)

            # Typing the call away, one incremental edit at a time: the last text is what counts.
            start = lsp.Position(line=SLEEP_LINE, character=4)
            for _ in range(len("time.sleep(1)")):
                end = lsp.Position(line=SLEEP_LINE, character=5)
                version = session.edit(uri, lsp.Range(start=start, end=end), "")
            _, diagnostics = await session.diagnostics(uri, version)
            assert "PA401" not in _codes(diagnostics)
            assert (project / "app.py").read_text(encoding="utf-8") == BLOCKING  # disk untouched

    asyncio.run(scenario())


FIXABLE = textwrap.dedent(
    """\
    import asyncio
    import time


    async def handler() -> None:
        time.sleep(1)
        await asyncio.sleep(0)


    def report(x: int):
        print(x)


    value = 1  # noqa: PA401
    """
)


def test_quick_fixes_and_fix_all_are_code_actions(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nextend-select = ["PA004"]\n', encoding="utf-8"
    )
    (project / "app.py").write_text(FIXABLE, encoding="utf-8")

    async def actions(
        session: Editor, uri: str, diagnostics: list[lsp.Diagnostic], only: list[str] | None
    ) -> list[lsp.CodeAction]:
        everywhere = lsp.Range(
            start=lsp.Position(line=0, character=0), end=lsp.Position(line=14, character=0)
        )
        found = await session.client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=diagnostics[0].range if diagnostics else everywhere,
                context=lsp.CodeActionContext(diagnostics=diagnostics, only=only),
            )
        )
        return [a for a in found or [] if isinstance(a, lsp.CodeAction)]

    async def scenario() -> None:
        async with editor(project) as session:
            uri = session.open(project / "app.py")
            _, diagnostics = await session.diagnostics(uri)
            assert sorted(map(str, _codes(diagnostics))) == ["PA004", "PA202", "PA401"]
            [blocking] = [d for d in diagnostics if d.code == "PA401"]

            offered = await actions(session, uri, [blocking], None)
            [fix] = [a for a in offered if "asyncio.sleep" in a.title]
            assert fix.kind == lsp.CodeActionKind.QuickFix
            assert "unsafe" in fix.title  # it changes when the sleep runs: said
            assert fix.edit is not None
            assert fix.edit.changes is not None
            [change] = fix.edit.changes[uri]
            assert _apply(FIXABLE, change).splitlines()[5] == "    await asyncio.sleep(1)"
            assert any("noqa" in a.title for a in offered)

            [fix_all] = await actions(session, uri, [], ["source.fixAll.pyarch-lint"])
            assert fix_all.kind == "source.fixAll.pyarch-lint"
            assert fix_all.edit is not None
            assert fix_all.edit.changes is not None
            [change] = fix_all.edit.changes[uri]
            fixed = _apply(FIXABLE, change)
            assert "def report(x: int) -> None:" in fixed
            assert "value = 1\n" in fixed
            assert "    time.sleep(1)" in fixed  # unsafe: not in "fix all"
            version = session.replace(uri, fixed)
            _, diagnostics = await session.diagnostics(uri, version)
            assert _codes(diagnostics) == ["PA401"]

    asyncio.run(scenario())


def test_hover_on_a_diagnostic_shows_the_rule_summary(project: Path) -> None:
    async def scenario() -> None:
        async with editor(project) as session:
            uri = session.open(project / "app.py")
            await session.diagnostics(uri)
            hover = await session.client.text_document_hover_async(
                lsp.HoverParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=SLEEP_LINE, character=8),
                )
            )
            assert hover is not None
            assert isinstance(hover.contents, lsp.MarkupContent)
            assert "PA401 blocking-call-in-async" in hover.contents.value
            assert load_catalogue()["PA401"].summary in hover.contents.value
            elsewhere = await session.client.text_document_hover_async(
                lsp.HoverParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=0, character=2),
                )
            )
            assert elsewhere is None

    asyncio.run(scenario())


def test_settings_follow_the_pyproject_and_reload_when_it_changes(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[tool.pyarch-lint]\nignore = ["PA401"]\n', encoding="utf-8")

    async def changed(session: Editor) -> None:
        session.client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[lsp.FileEvent(uri=pyproject.as_uri(), type=lsp.FileChangeType.Changed)]
            )
        )

    async def scenario() -> None:
        async with editor(project) as session:
            uri = session.open(project / "app.py")
            _, diagnostics = await session.diagnostics(uri)
            assert "PA401" not in _codes(diagnostics)

            pyproject.write_text('[tool.pyarch-lint]\nignore = ["PA9"]\n', encoding="utf-8")
            await changed(session)
            shown = await session.message()  # a bad configuration is said, naming the key
            assert shown.type == lsp.MessageType.Error
            assert "ignore" in shown.message
            assert "PA9" in shown.message
            _, diagnostics = await session.diagnostics(uri)
            assert diagnostics == []

            pyproject.write_text("[tool.pyarch-lint]\n", encoding="utf-8")
            # An editor that does not watch files sends the save of the pyproject.toml instead.
            session.client.text_document_did_save(
                lsp.DidSaveTextDocumentParams(
                    text_document=lsp.TextDocumentIdentifier(uri=pyproject.as_uri())
                )
            )
            _, diagnostics = await session.diagnostics(uri)
            assert "PA401" in _codes(diagnostics)

    asyncio.run(scenario())


def test_excludes_and_per_file_ignores_apply_by_the_document_s_path(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.pyarch-lint]\nextend-exclude = ["generated"]\n'
        '[tool.pyarch-lint.per-file-ignores]\n"tests/**" = ["PA4"]\n',
        encoding="utf-8",
    )
    for folder in ("generated", "tests"):
        (project / folder).mkdir()
        (project / folder / "app.py").write_text(BLOCKING, encoding="utf-8")

    async def scenario() -> None:
        async with editor(project) as session:
            for name, expected in (("generated", []), ("tests", []), (".", ["PA401"])):
                uri = session.open(project / name / "app.py")
                _, diagnostics = await session.diagnostics(uri)
                assert _codes(diagnostics) == expected, name

    asyncio.run(scenario())


def test_the_critique_command_publishes_the_model_s_items_of_the_editor_s_text(
    project: Path, server: MessagesServer
) -> None:
    server.script(critique(items=[item(SLEEP_LINE + 1, problem="Sleeps on the event loop.")]))
    marker = "# only in the editor, never saved"

    async def scenario() -> None:
        async with editor(project, llm_env(server, "test-key")) as session:
            uri = session.open(project / "app.py")
            await session.diagnostics(uri)
            version = session.replace(uri, BLOCKING + marker + "\n")
            await session.diagnostics(uri, version)
            await session.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="pyarch-lint.critique", arguments=[uri])
            )
            _, diagnostics = await session.diagnostics(uri)
            [said] = [d for d in diagnostics if d.source == "pyarch-lint critique"]
            assert said.range.start.line == SLEEP_LINE
            assert "Sleeps on the event loop." in said.message
            assert "PA401" in _codes(diagnostics)  # the rules' findings stay
            done = await session.message()
            assert done.type == lsp.MessageType.Info

            # Two lines typed above it: the item moves down with its line.
            top = lsp.Range(
                start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)
            )
            version = session.edit(uri, top, "# one\n# two\n")
            _, diagnostics = await session.diagnostics(uri, version)
            [said] = [d for d in diagnostics if d.source == "pyarch-lint critique"]
            assert said.range.start.line == SLEEP_LINE + 2
            session.replace(uri, BLOCKING + marker + "\n")

            # Asked again for the same text: the cache answers, the model is not asked again.
            await session.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="pyarch-lint.critique", arguments=[uri])
            )
            again = await session.message()
            assert "cached" in again.message

    asyncio.run(scenario())
    [request] = server.requests
    assert marker in request.user_text
    assert str(project) not in request.user_text  # the file's name, never where it lies


def test_the_critique_command_without_a_key_says_why(project: Path, server: MessagesServer) -> None:
    async def scenario() -> None:
        async with editor(project, llm_env(server, None)) as session:
            uri = session.open(project / "app.py")
            await session.diagnostics(uri)
            await session.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="pyarch-lint.critique", arguments=[uri])
            )
            shown = await session.message()
            assert shown.type == lsp.MessageType.Warning
            assert "ANTHROPIC_API_KEY" in shown.message
            # Still serving.
            version = session.replace(uri, "x = 1\n")
            _, diagnostics = await session.diagnostics(uri, version)
            assert diagnostics == []

    asyncio.run(scenario())
    assert server.requests == []


def test_a_text_past_file_timeout_costs_a_diagnostic_and_the_server_goes_on(
    project: Path,
) -> None:
    (project / "pyproject.toml").write_text("[tool.pyarch-lint]\nfile-timeout = 2\n", "utf-8")
    # Valid Python that LibCST's native parser takes about a minute over, holding the GIL.
    slow = "x = a" + "[0]" * 2_900 + "\n"

    async def scenario() -> None:
        async with editor(project) as session:
            uri = session.open(project / "app.py", slow)
            _, diagnostics = await session.diagnostics(uri)
            [stopped] = diagnostics
            assert stopped.code == "PA003"
            assert stopped.message == "analysis exceeded file-timeout (2 s) and was stopped"
            version = session.replace(uri, BLOCKING)
            _, diagnostics = await session.diagnostics(uri, version)
            assert _codes(diagnostics) == ["PA401"]

    asyncio.run(scenario())


# -- the warm worker -----------------------------------------------------------------------------


def _risky(_argument: None) -> Callable[[str], str]:
    def work(item: str) -> str:
        if item == "crash":
            ctypes.string_at(0)  # a real SIGSEGV
        if item == "hang":
            time.sleep(600)
        return f"{item} in {os.getpid()}"

    return work


def test_the_warm_worker_serves_on_after_a_crash_or_a_timeout() -> None:
    worker = WarmWorker(_risky, None)
    try:
        first = worker.run("a", 60)
        assert isinstance(first, str)
        assert worker.run("b", 60) == first.replace("a in", "b in")  # the same process
        assert worker.run("crash", 60) == Failure(False, "killed by SIGSEGV")
        assert isinstance(worker.run("c", 60), str)
        started = time.monotonic()
        assert worker.run("hang", 1) == Failure(True, "1 s")
        assert time.monotonic() - started < 10
        after = worker.run("d", 60)
        assert isinstance(after, str)
        assert after != first.replace("a in", "d in")  # a fresh process
    finally:
        worker.close()


def test_fix_all_is_bounded_as_the_command_line_bounds_it() -> None:
    # The server cannot import `fixes` (LibCST) to read it; a change to one must reach both.
    assert FIX_PASSES == MAX_PASSES
