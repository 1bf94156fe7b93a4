"""The project around a flagged file and the project's guidance, as the model receives them: the
CLI, the real SDK, the loopback Messages API server (which records every request)."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import llm_env
from llm_server import MessagesServer, Recorded

from pyarch_lint.cli import main
from pyarch_lint.escalation.context import context_of, project_of
from pyarch_lint.facts import facts_of
from pyarch_lint.files import split_lines
from pyarch_lint.findings import Finding, Severity

KEY = "sk-ant-api03-CONTEXTTESTKEY-never-to-be-seen-0000000000"
TOKEN = "ghp_FAKEfakeFAKEfake0123456789abcdefABCD"  # a fake GitHub token, in a neighbour's doc
GUIDANCE = "DOMAIN-GUIDANCE: pure domain logic, no I/O and no framework imports"

REPO = f'''\
"""Orders, stored."""
from __future__ import annotations


class Repository:
    """Keeps orders; token {TOKEN} for the mirror."""  # noqa: PA607

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, key: str, *, fresh: bool = False) -> dict[str, int] | None:
        """One order."""
        BODY_MARKER_GET = 1
        return None

    def _private(self) -> None:
        BODY_MARKER_PRIVATE = 2


async def connect(url: str, /, timeout: float = 1.0, *args: int, **options: str) -> Repository:
    BODY_MARKER_CONNECT = 3
    return Repository(url)


def _helper() -> None:
    pass
'''

SERVICE = """\
from shop.domain.repo import Repository


def load(key: str) -> object:
    try:
        return Repository("db").get(key)
    except:
        return None
"""

MODEL = """\
def price(value: int) -> int:
    try:
        return value * 2
    except:
        return 0
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pyarch-lint.llm]\ntimeout = 10\nconcurrency = 1\n\n"
        f'[tool.pyarch-lint.llm.guidance]\n"shop/domain/**" = "{GUIDANCE}"\n'
    )
    files = {
        "shop/__init__.py": "",
        "shop/domain/__init__.py": "",
        "shop/domain/repo.py": REPO,
        "shop/domain/model.py": MODEL,
        "shop/service.py": SERVICE,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(server: MessagesServer, *args: str, key: str | None = KEY) -> Result:
    env = llm_env(server, key)
    return CliRunner().invoke(main, ["--jobs", "1", *args], env=env, catch_exceptions=False)


def request_for(server: MessagesServer, path: str) -> Recorded:
    (found,) = [r for r in server.requests if r.user_text.startswith(f"Path: {json.dumps(path)}")]
    return found


def test_the_request_holds_the_imported_modules_signatures_and_none_of_their_bodies(
    server, project
):
    result = lint(server, "--format", "json", ".")

    assert result.exit_code == 1, result.output
    text = request_for(server, "shop/service.py").user_text
    assert "module shop.domain.repo  # Orders, stored." in text
    assert "  class Repository  # Keeps orders; token <redacted:" in text
    assert "    def __init__(self, url: str) -> None" in text
    assert "    def get(self, key: str, *, fresh: bool = ...) -> dict[str, int] | None" in text
    assert (
        "  async def connect(url: str, /, timeout: float = ..., *args: int, **options: str)"
        " -> Repository" in text
    )
    for request in server.requests:
        raw = request.raw.decode()
        assert "BODY_MARKER" not in raw
        assert "_private" not in raw
        assert "_helper" not in raw
        assert TOKEN not in raw
    # The context is fenced as data, before the source.
    assert text.index("<<<PROJECT-CONTEXT-") < text.index("<<<UNTRUSTED-SOURCE-")


def test_the_request_says_what_the_architecture_contracts_ask_of_the_module(server, project):
    with (project / "pyproject.toml").open("a") as config:
        config.write(
            "\n[[tool.pyarch-lint.architecture.contracts]]\n"
            'name = "service over domain"\ntype = "layers"\n'
            'layers = ["shop.service", "shop.domain"]\nhint = "the domain knows no service"\n'
            "\n[[tool.pyarch-lint.architecture.contracts]]\n"
            'name = "pure domain"\ntype = "forbidden"\n'
            'source-modules = ["shop.domain"]\nforbidden-modules = ["sqlalchemy"]\n'
        )
    lint(server, "--format", "json", ".")

    model = request_for(server, "shop/domain/model.py").user_text
    assert "The project's architecture contracts that bind this module:" in model
    assert (
        "  contract 'service over domain': layers, high to low: shop.service, shop.domain; "
        "`shop.domain.model` may import the layers below its own, never those above "
        "(the domain knows no service)" in model
    )
    assert "  contract 'pure domain': `shop.domain.model` must not import sqlalchemy" in model
    service = request_for(server, "shop/service.py").user_text
    assert "contract 'service over domain'" in service
    assert "contract 'pure domain'" not in service


def test_a_globs_guidance_goes_with_matching_files_only(server, project):
    lint(server, "--format", "json", ".")

    model = request_for(server, "shop/domain/model.py").user_text
    service = request_for(server, "shop/service.py").user_text
    assert GUIDANCE in model
    assert "Project review guidance for this path:\n<<<PROJECT-GUIDANCE-" in model
    assert GUIDANCE not in service
    assert "PROJECT-GUIDANCE" not in service


def test_a_changed_neighbour_asks_again_for_the_files_that_import_it_only(server, project):
    lint(server, "--format", "json", ".")
    assert len(server.requests) == 2
    again = lint(server, "--format", "json", ".")
    assert len(server.requests) == 2  # all cached
    assert all(c["cached"] for c in json.loads(again.stdout)["critiques"])

    repo = project / "shop" / "domain" / "repo.py"
    repo.write_text(REPO.replace("fresh: bool = False", "fresh: bool = False, limit: int = 9"))
    changed = lint(server, "--format", "json", ".")

    assert [r.user_text.split("\n")[0] for r in server.requests[2:]] == ['Path: "shop/service.py"']
    cached = {c["path"]: c["cached"] for c in json.loads(changed.stdout)["critiques"]}
    assert cached == {"shop/domain/model.py": True, "shop/service.py": False}


def test_show_prompt_prints_the_exact_request_that_a_run_then_sends(server, project):
    shown = lint(server, "--llm-dry-run", "--show-prompt", "shop/service.py", ".")
    assert shown.exit_code == 0, shown.output
    assert server.requests == []
    request = json.loads(shown.stdout)
    assert TOKEN not in shown.stdout

    lint(server, "--format", "json", ".")
    assert request == request_for(server, "shop/service.py").body


def test_show_prompt_refuses_what_it_cannot_show(server, project):
    without = lint(server, "--show-prompt", "shop/service.py", ".")
    assert without.exit_code == 2
    assert "--llm-dry-run" in without.stderr
    clean = lint(server, "--llm-dry-run", "--show-prompt", "shop/domain/repo.py", ".")
    assert clean.exit_code == 2
    assert "no finding at or above llm.min-severity" in clean.stderr
    assert server.requests == []


def test_context_tokens_bound_the_context_and_zero_sends_none(server, project):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("timeout", "context-tokens = 80\ntimeout"))
    cut = json.loads(lint(server, "--llm-dry-run", "--show-prompt", "shop/service.py").stdout)
    text = cut["messages"][0]["content"][0]["text"]
    block = text[text.index("<<<PROJECT-CONTEXT-") : text.index("<<<UNTRUSTED-SOURCE-")]
    assert "the rest omitted: over llm.context-tokens = 80" in block
    assert len(block) < 80 * 3 + 100  # the budget, and the fence's two markers

    pyproject.write_text(pyproject.read_text().replace("context-tokens = 80", "context-tokens = 0"))
    none = json.loads(lint(server, "--llm-dry-run", "--show-prompt", "shop/service.py").stdout)
    assert "PROJECT-CONTEXT" not in none["messages"][0]["content"][0]["text"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f'"{"x" * 501}"', "must be a short text: 1 to 500 characters, got 501"),
        ("3", "must be a string, got 3"),
        ('""', "must be a short text: 1 to 500 characters, got 0"),
    ],
)
def test_guidance_that_is_not_a_short_text_is_a_configuration_error(
    server, project, value, expected
):
    (project / "pyproject.toml").write_text(
        f'[tool.pyarch-lint.llm.guidance]\n"app/**" = {value}\n'
    )
    result = lint(server, "--no-llm", ".")
    assert result.exit_code == 2
    assert f"`llm.guidance.'app/**'` {expected}" in result.stderr


# -- the context itself ----------------------------------------------------------------------


def facts(source: str):
    text = textwrap.dedent(source)
    return facts_of(ast.parse(text), split_lines(text))


def test_project_findings_in_other_files_that_name_the_module_are_in_its_context(tmp_path):
    sources = {
        "app/__init__.py": "",
        "app/a.py": "from app import b\n",
        "app/b.py": "from . import a\ndef f(x: int) -> str: ...\n",
        "app/ab.py": "",
    }
    for path, text in sources.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    files = {path: (tmp_path / path, facts(text)) for path, text in sources.items()}
    cycle = Finding(
        "app/a.py", 1, 1, 1, 1, "PA501", "import-cycle", Severity.WARNING, "app.a -> app.b -> app.a"
    )
    other = Finding("app/a.py", 1, 1, 1, 1, "PA301", "bare-except", Severity.WARNING, "app.b")
    project = project_of(tmp_path, files, [cycle, other])

    context = context_of("app/b.py", project, 2000)
    assert context.splitlines() == [
        "Project-wide findings in other files that involve this module:",
        "  PA501 import-cycle in app.a: app.a -> app.b -> app.a",
        "Imported by: app.a",
        "This module (app.b) imports these modules of the project; their public outline:",
        "module app.a",
    ]
    # Not `app.ab`, which only starts like `app.a`; and the same text every time.
    assert "PA501" not in context_of("app/ab.py", project, 2000)
    assert context_of("app/b.py", project, 2000) == context
    assert context_of("app/b.py", project, 0) == ""


def test_a_file_named_alone_gets_the_same_context_as_in_a_whole_run(server, project):
    """Pre-commit names the changed files only: the project around them is still all there, so
    the request, and the cache key, are those of a run over the whole tree."""
    lint(server, "--format", "json", ".")
    alone = lint(server, "--format", "json", "shop/service.py")

    assert len(server.requests) == 2
    assert [(c["path"], c["cached"]) for c in json.loads(alone.stdout)["critiques"]] == [
        ("shop/service.py", True)
    ]


def test_two_files_of_one_module_name_get_no_outline_and_imports_resolve_as_python_does(
    tmp_path,
):
    sources = {
        "one/setup.py": "",
        "two/setup.py": "",
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "from .. import tools\nfrom ... import nowhere\n",
        "pkg/tools.py": "import setup\ndef run(*, fast: bool = True) -> None: ...\n",
    }
    for path, text in sources.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    files = {path: (tmp_path / path, facts(text)) for path, text in sources.items()}
    project = project_of(tmp_path, files, [])

    assert project.names == {
        "pkg/__init__.py": "pkg",
        "pkg/sub/__init__.py": "pkg.sub",
        "pkg/tools.py": "pkg.tools",
    }
    assert context_of("pkg/sub/__init__.py", project, 2000).splitlines() == [
        "This module (pkg.sub) imports these modules of the project; their public outline:",
        "module pkg.tools",
        "  def run(*, fast: bool = ...) -> None",
    ]
    assert context_of("pkg/tools.py", project, 2000) == "Imported by: pkg.sub"  # not setup
