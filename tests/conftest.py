from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import Settings
from pyarch_lint.storage import open_store

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
