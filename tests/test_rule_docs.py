"""The rule documents are the rules' examples: every bad example is flagged with its code, every
good one is clean of it, and the documents agree with the registry and the configuration."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.checks.registry import ENGINE_CODES, RULES
from pyarch_lint.config import Settings, option_types, settings_from_toml
from pyarch_lint.engine import check_source

CATALOGUE = load_catalogue()
SECTIONS = ["What it does", "Why is this bad?", "Example", "Use instead", "How to fix", "Options"]


def _cases(section: str) -> list[tuple[str, int, str]]:
    return [
        (code, index, example)
        for code, doc in sorted(CATALOGUE.items())
        if code not in ENGINE_CODES
        for index, example in enumerate(doc.examples(section))
    ]


def _settings(code: str) -> Settings:
    return settings_from_toml(f'select = ["{code}"]')


@pytest.mark.parametrize(("code", "index", "example"), _cases("Example"))
def test_bad_example_is_flagged(code: str, index: int, example: str) -> None:
    findings = check_source(example.encode(), f"{code}_bad_{index}.py", _settings(code))
    assert any(f.code == code for f in findings), f"{code} example {index} not flagged"


@pytest.mark.parametrize(("code", "index", "example"), _cases("Use instead"))
def test_good_example_is_clean(code: str, index: int, example: str) -> None:
    findings = check_source(example.encode(), f"{code}_good_{index}.py", _settings(code))
    assert not [f for f in findings if f.code == code], findings


def test_every_code_has_a_document_and_every_document_a_code() -> None:
    names = {code: name for code, (name, _) in ENGINE_CODES.items()}
    names.update({rule.code: rule.name for rule in RULES})
    assert {code: doc.name for code, doc in CATALOGUE.items()} == names


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_document_has_every_section(code: str) -> None:
    doc = CATALOGUE[code]
    missing = [s for s in SECTIONS if s not in doc.sections]
    assert not missing, f"{code} lacks sections {missing}"
    if code not in ENGINE_CODES:
        assert doc.examples("Example"), f"{code} has no bad example"
        assert doc.examples("Use instead"), f"{code} has no good example"
        assert re.search(r"\b(PEP 20|Zen)\b|\*[^*]+\.\*", doc.sections["Why is this bad?"])


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.options_type is not None], ids=lambda r: r.code
)
def test_every_option_is_documented_and_configurable(rule: type) -> None:
    doc = CATALOGUE[rule.code]
    kind = rule.options_type
    assert kind in option_types().values()
    for field in dataclasses.fields(kind):
        key = field.name.replace("_", "-")
        assert key in doc.sections["Options"], f"{rule.code} does not document `{key}`"
        # The key is accepted in its section, with its documented default's type.
        value = getattr(kind(), field.name)
        toml = _toml_value(value)
        settings = settings_from_toml(f"[{kind.SECTION}]\n{key} = {toml}")
        assert getattr(settings.rule_options[kind], field.name) == value


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = "{v}"' for k, v in value.items()) + "}"
    return str(value)


def test_readme_lists_every_rule() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for code, doc in CATALOGUE.items():
        assert f"| {code} | {doc.name} |" in readme, f"README's rule table lacks {code}"


def test_rule_documents_ship_in_the_wheel(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pyarch_lint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(name).name for name in archive.namelist() if "/_rules/" in name}
    assert shipped == {p.name for p in (root / "rules").glob("PA*.md")}
