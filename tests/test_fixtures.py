"""Each tests/fixtures/rules/<CODE>*.py(i) runs with only <CODE> selected; the findings must be
exactly the lines marked `# <CODE>` (or the line after a `# next: <CODE>` comment line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import check_source

RULE_FIXTURES = Path(__file__).parent / "fixtures" / "rules"
_NAME = re.compile(r"^(PA\d{3})")


def _fixture_files() -> list[Path]:
    return sorted(p for p in RULE_FIXTURES.glob("PA*") if p.suffix in (".py", ".pyi"))


def _expected(lines: list[str], code: str) -> set[int]:
    marker = re.compile(rf"#.*\b{code}\b")
    expected: set[int] = set()
    pending = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            if re.match(rf"#\s*next:.*\b{code}\b", stripped):
                pending += 1
            continue
        if pending and stripped:
            expected.add(number)
            pending = 0
        elif marker.search(line) and not stripped.startswith("#"):
            expected.add(number)
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
    missing = sorted(expected - reported)
    unexpected = sorted(reported - expected)
    details = "\n".join(f"  {f.line}: {f.message}" for f in findings if f.line in unexpected)
    assert (missing, unexpected) == ([], []), (
        f"missing (marked, not reported): {missing}\nunexpected (reported, not marked): "
        f"{unexpected}\n{details}"
    )
    engine_errors = [f for f in findings if f.code in ("PA001", "PA002", "PA003")]
    assert not engine_errors, engine_errors
