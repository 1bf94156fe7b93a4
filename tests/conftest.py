"""What several test modules share: the user's cache folder (autouse), the loopback Messages
API server, isolated git, the CLI in-process, the SARIF schema, and cache-entry helpers."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from llm_server import MessagesServer

from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.cli import main
from pyarch_lint.config import Settings
from pyarch_lint.excerpt import Excerpt, excerpt_of_bytes
from pyarch_lint.findings import Finding, RawFinding
from pyarch_lint.storage import open_store

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The official OASIS SARIF 2.1.0 schema, shipped with the tests so that a fresh clone has it.
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
FIXED_DATE = "2024-01-01T00:00:00+00:00"  # a snapshot of the same tree gets the same commit id

# Hypothesis keeps no example database: runs stay independent of earlier ones.
hypothesis_settings.register_profile("pyarch-lint", database=None)
hypothesis_settings.load_profile("pyarch-lint")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def with_rule_class(settings: Settings, code: str, rule: type) -> Settings:
    """`settings` whose rule `code` is run by `rule` (a test double), in the worker processes
    too: the rules travel with the settings."""
    path = f"{rule.__module__}:{rule.__qualname__}"
    info = dataclasses.replace(settings.rules.by_code[code], rule_class=path)
    rules = RuleSet({**settings.rules.by_code, code: info}, settings.rules.plugins)
    return dataclasses.replace(settings, rules=rules)


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis's own files (its caches of constants and Unicode data, written as test
    modules are imported) go to a temporary folder, never to `.hypothesis/` in the checkout."""
    home = tempfile.mkdtemp(prefix="pyarch-lint-hypothesis-")
    set_hypothesis_home_dir(home)
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


@pytest.fixture(autouse=True)
def user_cache_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The user's cache folder, where the cache key is made on first use: one per test session
    (per xdist worker), never the real one. Subprocesses inherit it."""
    home = tmp_path_factory.getbasetemp() / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("PYARCH_LINT_CACHE_KEY", raising=False)
    return home


def cache_payload(path: Path) -> bytes:
    """What a cache entry holds, without the signature line in front of it."""
    return path.read_bytes().split(b"\n", 1)[1]


def sign_cache_entry(path: Path, payload: bytes) -> None:
    """Write `payload` as the cache entry at `path` (`<cache>/<folder>/<file>`), signed with
    this session's cache key: what pyarch-lint itself could have written."""
    store = open_store(path.parent.parent, lambda _note: None)
    store.write(f"{path.parent.name}/{path.name}", payload)


@pytest.fixture
def server() -> Iterator[MessagesServer]:
    """The loopback Messages API server (tests/llm_server.py)."""
    with MessagesServer() as running:
        yield running


def llm_env(server: MessagesServer, api_key: str | None) -> dict[str, str | None]:
    """The environment of an in-process CLI run that escalates to `server` with `api_key`."""
    env = {"ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": api_key}
    env.update(dict.fromkeys(("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS", "NO_COLOR")))
    return env


def invoke(*args: str) -> Result:
    """The CLI, in-process."""
    return CliRunner().invoke(main, list(args))


def git_env() -> dict[str, str]:
    """git and pre-commit without the machine's own git configuration, key or colour."""
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "GIT_DIR")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_AUTHOR_DATE=FIXED_DATE,
        GIT_COMMITTER_DATE=FIXED_DATE,
        NO_COLOR="1",
    )
    return env


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=folder, env=git_env(), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_huge(path: Path) -> None:
    with path.open("wb") as stream:  # sparse: 200 MB that cost no disk
        stream.truncate(200 * 1024 * 1024)


def excerpts(findings: Sequence[Finding]) -> dict[str, Excerpt]:
    """What analysis keeps of each findings' file for its reports, for findings made up in a
    test about rendering (each path a file that exists)."""
    by_path: dict[str, list[RawFinding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append((*f[1:6], f.message))
    return {path: excerpt_of_bytes(Path(path).read_bytes(), raw) for path, raw in by_path.items()}
