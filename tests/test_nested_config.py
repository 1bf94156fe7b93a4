"""Each file is checked with the settings of the nearest configuration around it, as ruff does,
whether its folder was named or reached by a walk; inside git, with git's own ignore rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, invoke

SWALLOWING = "def f():\n    try:\n        pass\n    except:\n        pass\n"  # PA301, PA302
DEEP = (  # PA101 (five blocks deep), and nothing of PA3
    "def g(x):\n"
    "    if x:\n        if x:\n            if x:\n                if x:\n"
    "                    if x:\n                        return 1\n"
    "    return 0\n"
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def table(body: str) -> str:
    return f"[tool.pyarch-lint]\n{body}\n"


def codes_by_file(*args: str) -> dict[str, set[str]]:
    result = invoke("--no-llm", "--no-cache", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    found: dict[str, set[str]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        found.setdefault(finding["path"], set()).add(finding["code"])
    return found


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "pyproject.toml", table('select = ["PA3"]'))
    write(tmp_path / "top.py", SWALLOWING + DEEP)
    write(tmp_path / "svc" / "pyproject.toml", table('select = ["PA1"]\nextend-exclude = ["gen"]'))
    write(tmp_path / "svc" / "app.py", SWALLOWING + DEEP)
    write(tmp_path / "svc" / "gen" / "made.py", SWALLOWING + DEEP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_walk_checks_a_subfolder_with_its_own_configuration(monorepo: Path) -> None:
    assert codes_by_file(".") == {"top.py": {"PA301", "PA302"}, "svc/app.py": {"PA101"}}


def test_naming_the_subfolder_or_running_inside_it_gives_the_same(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert codes_by_file("svc") == {"svc/app.py": {"PA101"}}
    monkeypatch.chdir(monorepo / "svc")
    assert codes_by_file() == {"app.py": {"PA101"}}


def test_config_names_one_file_for_every_path(monorepo: Path) -> None:
    found = codes_by_file("--config", "pyproject.toml", ".")
    # The outer settings everywhere: PA3 only, and svc's exclude of gen/ no longer applies.
    assert found == {f: {"PA301", "PA302"} for f in ("top.py", "svc/app.py", "svc/gen/made.py")}


def test_in_git_a_subfolder_run_honours_its_settings_and_every_ignore_git_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path / ".gitignore", "generated/\n")
    write(tmp_path / ".git" / "info" / "exclude", "scratch_*.py\n")
    write(tmp_path / "svc" / "pyproject.toml", table('select = ["PA1"]'))
    for name in ("svc/app.py", "svc/generated/made.py", "svc/scratch_notes.py"):
        write(tmp_path / name, SWALLOWING + DEEP)
    monkeypatch.chdir(tmp_path / "svc")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    assert codes_by_file() == {"app.py": {"PA101"}}
