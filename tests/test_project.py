"""The project phase: a rule over every file's facts, whose findings are like any other's
(selection, severities, noqa, per-file-ignores, sorting, code frames, baseline keys), the same
from a cold and a warm run and for any job count, and which sees the whole project whichever
files are named. The rules here exist only in this test, registered like ours."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from conftest import cache_payload, sign_cache_entry

from pyarch_lint import api, baseline
from pyarch_lint.cache import Cache
from pyarch_lint.checks.registry import BUILTIN, RuleInfo, RuleSet
from pyarch_lint.config import Settings
from pyarch_lint.discovery import discover
from pyarch_lint.engine import RunResult, run, settings_fingerprint
from pyarch_lint.facts import FileFacts
from pyarch_lint.findings import Severity
from pyarch_lint.project import ProjectFinding, ProjectRule
from pyarch_lint.report import Outcome
from pyarch_lint.report.text import render
from pyarch_lint.storage import open_store

SEEN: list[dict[str, FileFacts]] = []  # the facts each run gave the rule


def _module(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def mutual_imports(facts: Mapping[str, FileFacts], _settings: Settings) -> Iterator[ProjectFinding]:
    """Each import, run when its module loads, of a project module that imports this one back."""
    SEEN.append(dict(facts))
    runtime = {
        _module(path): {
            i.module: i for i in file.imports if not (i.type_checking or i.in_function or i.level)
        }
        for path, file in facts.items()
    }
    for path in facts:
        here = _module(path)
        for imported in runtime[here].values():
            if here in runtime.get(imported.module, {}):
                end = imported.column + len(f"import {imported.module}")
                message = f"{here} and {imported.module} import each other"
                yield ProjectFinding(
                    path, imported.line, imported.column, imported.line, end, message
                )


def crash(_facts: Mapping[str, FileFacts], _settings: Settings) -> list[ProjectFinding]:
    raise KeyError("boom")


def stray(_facts: Mapping[str, FileFacts], _settings: Settings) -> list[ProjectFinding]:
    return [ProjectFinding("elsewhere.py", 1, 1, 1, 2, "m")]


MUTUAL = ProjectRule("PA999", "mutual-import", Severity.WARNING, mutual_imports)
CRASHING = ProjectRule("PA997", "crashing", Severity.ERROR, crash)
STRAY = ProjectRule("PA998", "stray", Severity.ERROR, stray)
# The rules as a run knows them: ours, and these three, found by their location in this module.
RULES = RuleSet(
    {
        **BUILTIN.by_code,
        **{
            rule.code: RuleInfo.of_project(rule, f"{__name__}:{name}")
            for name, rule in (("MUTUAL", MUTUAL), ("CRASHING", CRASHING), ("STRAY", STRAY))
        },
    }
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    files = {
        "a.py": "import os\nimport b\ntry:\n    pass\nexcept:\n    pass\n",
        "b.py": '"""B."""\nimport a\n',
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import d\n",
        "d.py": "import c\n\n\ndef f():\n    import e\n",
        "e.py": "import d\n",
        "pkg/__init__.py": "import pkg.f  # noqa: PA999\n",
        "pkg/f.py": "import pkg\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    SEEN.clear()
    return tmp_path


def settings_for(root: Path, **changes: object) -> Settings:
    default = {"select": ("PA301", "PA004", "PA999"), "root": root}
    return dataclasses.replace(Settings.default(RULES), **{**default, **changes})  # type: ignore[arg-type]


def lint(root: Path, jobs: int = 1, cached: bool = False, **changes: object) -> RunResult:
    settings = settings_for(root, **changes)
    files = discover([root], settings, cwd=root)
    store = open_store(root / ".cache", lambda _note: None)
    cache = Cache(store, settings_fingerprint(settings)) if cached else None
    return run(files, settings, jobs, cache)


def places(result: RunResult) -> list[tuple[str, int, int, str]]:
    return [(f.path, f.line, f.column, f.code) for f in result.findings]


def test_project_findings_are_placed_sorted_and_suppressed_like_any_other(project: Path) -> None:
    result = lint(project)
    assert places(result) == [
        ("a.py", 2, 1, "PA999"),
        ("a.py", 5, 1, "PA301"),
        ("b.py", 2, 1, "PA999"),
        ("pkg/f.py", 1, 1, "PA999"),  # the other side has its noqa comment for PA999
    ]
    finding = result.findings[0]
    assert (finding.name, finding.severity, finding.end_column) == (
        "mutual-import",
        Severity.WARNING,
        9,
    )
    assert finding.message == "a and b import each other"
    assert result.crashes == []
    assert set(SEEN[0]) == {"a.py", "b.py", "c.py", "d.py", "e.py", "pkg/__init__.py", "pkg/f.py"}


def test_selection_file_level_noqa_and_per_file_ignores_apply(project: Path) -> None:
    ignoring = lint(project, select=None, ignore=("PA9",))
    assert "PA999" not in {f.code for f in ignoring.findings}
    assert SEEN == []  # a rule that is not selected does not run
    (project / "b.py").write_text('"""B."""\n# pyarch-lint: noqa: PA9\nimport a\n', "utf-8")
    ignoring = lint(project, per_file_ignores={"pkg/*": ("PA999",)})
    assert [(f.path, f.line) for f in ignoring.findings if f.code == "PA999"] == [("a.py", 2)]


def test_a_warm_run_gives_the_rule_the_same_facts_and_the_same_findings(project: Path) -> None:
    cold = lint(project, cached=True)
    warm = lint(project, cached=True, jobs=2)
    assert warm.findings == cold.findings
    assert warm.excerpts == cold.excerpts
    assert SEEN[1] == SEEN[0]
    assert SEEN[0]["d.py"].imports[1].in_function


def test_reports_show_a_project_finding_like_any_other(project: Path) -> None:
    result = lint(project, cached=True)
    outcome = Outcome(result.findings, [], [], 7, 3, 0, excerpts=result.excerpts)
    text = render(outcome).split("\n\n")
    assert text[2].splitlines() == [
        "b.py:2:1: PA999 b and a import each other",
        "  |",
        '1 | """B."""',
        "2 | import a",
        "  | ^^^^^^^^",
    ]
    keys = baseline.keys(result.findings, result.excerpts, {})
    assert keys[2] == baseline.Key(
        "b.py", "PA999", "", baseline.fingerprint("PA999", "", "import a")
    )


def test_a_rule_that_crashes_or_reports_elsewhere_is_named_and_the_run_goes_on(
    project: Path,
) -> None:
    result = lint(project, select=("PA9",))
    assert result.crashes == [
        "project rule PA997 (crashing) crashed: KeyError: 'boom'",
        "project rule PA998 (stray) reported in 'elsewhere.py', which is not a file of the "
        "project; its findings are dropped",
    ]
    assert [f.code for f in result.findings].count("PA999") == 3


@pytest.mark.parametrize(
    "facts",
    [
        "[[], [], []]",  # a part missing
        '[[["b", null, null, 0, 1, 1, "no", false]], [], [], []]',  # a flag that is no bool
        '[[["b", null, null, 0, 99, 1, false, false]], [], [], []]',  # a line past the file
        '{"imports": []}',
        "[[",
    ],
)
def test_facts_in_the_cache_that_do_not_fit_the_file_are_recomputed(
    project: Path, facts: str
) -> None:
    cold = lint(project, cached=True)
    for shard in (project / ".cache" / "findings").iterdir():
        document = json.loads(cache_payload(shard))
        for entry in document["files"].values():
            entry[3] = facts
        sign_cache_entry(shard, json.dumps(document).encode())  # as if a bug of ours wrote it
    warm = lint(project, cached=True)
    assert warm.findings == cold.findings
    assert SEEN[1] == SEEN[0]
    assert any("ignoring invalid cache entry" in warning for warning in warm.warnings)


def test_severities_and_noqa_comments_of_a_project_rule(project: Path) -> None:
    (project / "e.py").write_text("import d  # noqa: PA999\n", encoding="utf-8")
    settings = settings_for(project)
    louder = dataclasses.replace(
        settings, rules=settings.rules.with_severities({"PA999": Severity.ERROR})
    )
    result = run(discover([project], louder, cwd=project), louder, 1, None)
    assert {f.severity for f in result.findings if f.code == "PA999"} == {Severity.ERROR}
    # Neither the comment that hides a finding (pkg/__init__.py) nor one with nothing to hide
    # (e.py: its import of d is function-level on d's side) is judged by PA004: a file's
    # analysis cannot see a project rule's findings.
    assert "PA004" not in {f.code for f in result.findings}


def test_named_files_see_the_whole_project_and_only_they_are_reported(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setattr(api, "load_rule_set", lambda: RULES)
    options = api.LintOptions(paths=(Path("b.py"),), select=("PA999",), jobs=1)
    # No pyproject.toml, no git, no --config: the working folder only stands in for a project
    # root (it may be the home folder), so the named file is all the rule sees.
    assert [g.context for g in api.plan(options).groups] == [()]
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n", encoding="utf-8")
    checked = api.check(api.plan(options))
    assert [(f.path, f.line, f.code) for f in checked.findings] == [("b.py", 2, "PA999")]
    assert checked.files == 1
    assert set(SEEN[-1]) == {"a.py", "b.py", "c.py", "d.py", "e.py", "pkg/__init__.py", "pkg/f.py"}
    # A folder, as named, is what the rule sees; and without a project rule, nothing else.
    folder = api.plan(dataclasses.replace(options, paths=(Path("pkg"),)))
    assert [g.context for g in folder.groups] == [()]
    plain = api.plan(dataclasses.replace(options, select=("PA301",)))
    assert [g.context for g in plain.groups] == [()]
