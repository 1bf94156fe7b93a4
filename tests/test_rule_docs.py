"""A rule is declared once, on its class, and everything else agrees with it: the registry's
index, its document (whose bad examples are flagged with its code and good ones are clean of it),
its options' help, the configuration and the README's rule table."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import pyarch_lint.checks
from pyarch_lint import api
from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.checks.base import Rule
from pyarch_lint.checks.options import option_help
from pyarch_lint.checks.registry import (
    BUILTIN,
    BUILTIN_RULES,
    ENGINE_CODES,
    RuleInfo,
    load_rule_class,
)
from pyarch_lint.cli import main
from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import check_source

CATALOGUE = load_catalogue()
ENGINE = {info.code for info in ENGINE_CODES}
SECTIONS = ["What it does", "Why is this bad?", "Example", "Use instead", "How to fix", "Options"]


# Rules over the whole project: each section's examples are one project, see `_project_cases`.
PROJECT = {code for code, info in BUILTIN.by_code.items() if info.project_rule is not None}
_TOML_BLOCK = re.compile(r"^```toml\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _cases(section: str) -> list[tuple[str, int, str]]:
    return [
        (code, index, example)
        for code, doc in sorted(CATALOGUE.items())
        if code not in ENGINE and code not in PROJECT
        for index, example in enumerate(doc.examples(section))
    ]


def _project_cases(section: str) -> list[tuple[str, dict[str, str], str]]:
    """A project rule's examples of one section as a project: each Python block is a file named
    by its first line (`# shop/orders.py`), a TOML block the `[tool.pyarch-lint]` table's
    other keys."""
    cases = []
    for code in sorted(PROJECT):
        files = {}
        for example in CATALOGUE[code].examples(section):
            first, _, _ = example.partition("\n")
            files[first.removeprefix("# ")] = example
        config = "\n".join(_TOML_BLOCK.findall(CATALOGUE[code].sections.get(section, "")))
        cases.append((code, files, config))
    return cases


def _lint_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, files: dict[str, str], config: str
) -> api.Checked:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    table = f'[tool.pyarch-lint]\nselect = ["{code}"]\n\n{config}'
    (tmp_path / "pyproject.toml").write_text(table, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return api.check(api.plan(api.LintOptions(cache=False, escalate=False, jobs=1)))


@pytest.mark.parametrize(("code", "files", "config"), _project_cases("Example"))
def test_a_project_rules_bad_example_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, files: dict[str, str], config: str
) -> None:
    checked = _lint_project(tmp_path, monkeypatch, code, files, config)
    assert any(f.code == code for f in checked.findings), f"{code}'s example not flagged"
    assert checked.warnings == checked.crashes == ()


@pytest.mark.parametrize(("code", "files", "config"), _project_cases("Use instead"))
def test_a_project_rules_good_example_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, files: dict[str, str], config: str
) -> None:
    checked = _lint_project(tmp_path, monkeypatch, code, files, config)
    assert not [f for f in checked.findings if f.code == code], checked.findings
    assert checked.warnings == checked.crashes == ()


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


# PA607 has no class: the engine reports it from the file's tokens (`analysis`).
RULE_CLASSES = [info for info in BUILTIN_RULES if info.rule_class is not None]


@pytest.mark.parametrize("info", RULE_CLASSES, ids=lambda info: info.code)
def test_the_index_says_what_the_rule_class_declares(info: RuleInfo) -> None:
    assert RuleInfo.of(load_rule_class(info)) == info


def _declared_rules() -> set[str]:
    """Every class in the rule modules that declares a code of its own."""
    found = set()
    for module in pkgutil.iter_modules(pyarch_lint.checks.__path__, "pyarch_lint.checks."):
        for value in vars(importlib.import_module(module.name)).values():
            if inspect.isclass(value) and issubclass(value, Rule) and "CODE" in vars(value):
                found.add(f"{value.__module__}:{value.__qualname__}")
    return found


def test_every_rule_class_is_in_the_index() -> None:
    assert _declared_rules() == {info.rule_class for info in RULE_CLASSES}


def test_every_code_has_a_document_and_every_document_a_code() -> None:
    names = {code: info.name for code, info in BUILTIN.by_code.items()}
    assert {code: doc.name for code, doc in CATALOGUE.items()} == names


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_document_has_every_section(code: str) -> None:
    doc = CATALOGUE[code]
    missing = [s for s in SECTIONS if s not in doc.sections]
    assert not missing, f"{code} lacks sections {missing}"
    if code not in ENGINE:
        assert doc.examples("Example"), f"{code} has no bad example"
        assert doc.examples("Use instead"), f"{code} has no good example"
        assert re.search(r"\b(PEP 20|Zen)\b|\*[^*]+\.\*", doc.sections["Why is this bad?"])


@pytest.mark.parametrize(
    "rule", [r for r in BUILTIN_RULES if r.options_type is not None], ids=lambda r: r.code
)
def test_every_option_is_documented_and_configurable(rule: RuleInfo) -> None:
    doc = CATALOGUE[rule.code]
    kind = rule.options_type
    assert kind is not None
    assert kind in BUILTIN.option_types().values()
    for field in dataclasses.fields(kind):
        key = field.name.replace("_", "-")
        assert key in doc.sections["Options"], f"{rule.code} does not document `{key}`"
        assert option_help(field), f"{rule.code}: `{key}` has no help in its field's metadata"
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


def test_the_readme_rule_table_is_every_rule_in_order() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("| code | name | severity | what it flags |\n", 1)[1].split("\n\n")[0]
    rows = [line.split(" | ")[:3] for line in table.splitlines()[1:]]
    expected = [
        [f"| {code}", info.name, info.severity.label]
        for code, info in sorted(BUILTIN.by_code.items())
    ]
    assert rows == expected, "README's rule table differs from the rules' declarations"


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


def _prose(text: str) -> str:
    """Text with comment markers and line wrapping undone, to find a wrapped sentence in it."""
    return " ".join(line.strip().removeprefix("# ") for line in text.splitlines())


@pytest.mark.parametrize(
    "rule", [r for r in BUILTIN_RULES if r.options_type is not None], ids=lambda r: r.code
)
def test_option_help_comes_from_the_options_metadata(rule: RuleInfo) -> None:
    runner = CliRunner()
    printed = {
        "init": _prose(runner.invoke(main, ["init", "--print"]).stdout),
        "rule": _prose(runner.invoke(main, ["rule", rule.code]).stdout),
        "--show-settings": _prose(runner.invoke(main, ["--show-settings"]).stdout),
    }
    assert rule.options_type is not None
    for field in dataclasses.fields(rule.options_type):
        for command, text in printed.items():
            assert option_help(field) in text, f"`{command}` lacks the help of {field.name}"
