"""Each tests/fixtures/rules/<CODE>*.py(i) runs with only <CODE> selected; the findings must be
exactly the lines marked `# <CODE>` (or the line after a `# next: <CODE>` comment line). A marker
`# <CODE> @<column>: <message>` also pins the finding's column and message, and every rule has
at least one such marker."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyarch_lint.checks.registry import BUILTIN_RULES
from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import check_source

RULE_FIXTURES = Path(__file__).parent / "fixtures" / "rules"
_NAME = re.compile(r"^(PA\d{3})")


def _fixture_files() -> list[Path]:
    return sorted(p for p in RULE_FIXTURES.glob("PA*") if p.suffix in (".py", ".pyi"))


# What a marker may add after the code: the finding's exact column and message.
Exact = tuple[int, str] | None


def _exact(marker: re.Match[str]) -> Exact:
    return (int(marker["column"]), marker["message"].strip()) if marker["column"] else None


def _expected(lines: list[str], code: str) -> dict[int, Exact]:
    """Marked line -> its pinned (column, message), or None when only the line is marked."""
    exact = rf"\b{code}\b(?:\s+@(?P<column>\d+):(?P<message>.*))?"
    marker = re.compile(rf"#.*?{exact}")
    next_marker = re.compile(rf"#\s*next:.*?{exact}")
    expected: dict[int, Exact] = {}
    pending: list[Exact] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            found = next_marker.match(stripped)
            if found:
                pending.append(_exact(found))
            continue
        if pending and stripped:
            expected[number] = pending[0]
            pending = []
        elif found := marker.search(line):
            expected[number] = _exact(found)
    return expected


def _config(lines: list[str], code: str) -> str:
    body = [
        line.removeprefix("# config:").strip() for line in lines if line.startswith("# config:")
    ]
    table_start = next((i for i, line in enumerate(body) if line.startswith("[")), len(body))
    head = [f'select = ["{code}"]', *body[:table_start]]
    return "\n".join([*head, *body[table_start:]])


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: p.name)
def test_fixture_findings_match_markers(path: Path) -> None:
    match = _NAME.match(path.name)
    assert match, f"fixture {path.name} must start with its rule code"
    code = match[1]
    source = path.read_bytes()
    lines = source.decode("utf-8").splitlines()
    settings = settings_from_toml(_config(lines, code), where=path.name)
    findings = check_source(source, path.name, settings)
    reported = {f.line for f in findings if f.code == code}
    expected = _expected(lines, code)
    assert expected or "no-findings" in path.name, "a fixture must mark at least one finding"
    missing = sorted(expected.keys() - reported)
    unexpected = sorted(reported - expected.keys())
    details = "\n".join(f"  {f.line}: {f.message}" for f in findings if f.line in unexpected)
    assert (missing, unexpected) == ([], []), (
        f"missing (marked, not reported): {missing}\nunexpected (reported, not marked): "
        f"{unexpected}\n{details}"
    )
    engine_errors = [f for f in findings if f.code in ("PA001", "PA002", "PA003")]
    assert not engine_errors, engine_errors
    for line, exact in expected.items():
        if exact is not None:
            found = {(f.column, f.message) for f in findings if f.code == code and f.line == line}
            assert exact in found, f"line {line}: expected column and message {exact}, got {found}"


# Project rules (PA5xx) are pinned in the mini projects of test_architecture.
@pytest.mark.parametrize("code", [info.code for info in BUILTIN_RULES if info.project_rule is None])
def test_every_rule_has_a_fixture_that_pins_a_column_and_message(code: str) -> None:
    pinned = [
        path.name
        for path in _fixture_files()
        if path.name.startswith(code)
        and any(
            exact is not None
            for exact in _expected(path.read_text(encoding="utf-8").splitlines(), code).values()
        )
    ]
    assert pinned, f"no fixture of {code} gives a finding's column and message (`# {code} @5: ...`)"
