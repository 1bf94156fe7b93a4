"""PA501 (import cycles) and PA502 (architecture contracts) over the import graph that every
file's facts give: module names from paths, edges as import-linter draws them, the cycles and
the contracts, their configuration, and the same findings whatever the order of the files."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest
from conftest import FIXTURES

from pyarch_lint import api
from pyarch_lint.architecture import (
    build_graph,
    contract_findings,
    import_cycles,
    module_names,
    strongly_connected,
)
from pyarch_lint.checks.options import ArchitectureOptions, Contract
from pyarch_lint.config import ConfigError, settings_from_toml
from pyarch_lint.facts import FileFacts, facts_of
from pyarch_lint.files import split_lines

PROJECTS = FIXTURES / "architecture"
_MARKER = re.compile(r"#.*\b(PA5\d\d)\b")


def facts(files: dict[str, str]) -> dict[str, FileFacts]:
    return {path: facts_of(ast.parse(text), split_lines(text)) for path, text in files.items()}


def marked(project: Path) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if match := _MARKER.search(line):
                found.append((path.relative_to(project).as_posix(), number, match[1]))
    return found


def lint(project: Path, *paths: str, jobs: int = 1) -> api.Checked:
    options = api.LintOptions(
        paths=tuple(Path(p) for p in paths), jobs=jobs, cache=False, escalate=False
    )
    return api.check(api.plan(options))


@pytest.mark.parametrize("name", sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()))
def test_mini_projects_report_exactly_the_marked_imports(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = PROJECTS / name
    monkeypatch.chdir(project)
    checked = lint(project)
    found = sorted((f.path, f.line, f.code) for f in checked.findings)
    assert found == marked(project), "\n".join(f"{f.path}:{f.line}: {f.message}" for f in checked.findings)
    assert checked.crashes == ()
    assert checked.warnings == ()
