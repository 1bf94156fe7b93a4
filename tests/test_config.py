"""Configuration: where it is found, how it is validated (every error names the file, the key and
what was expected, exit 2), and how selection works: codes and prefixes, select / ignore /
extend-select / per-file-ignores, and the command line over the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pyarch_lint import config
from pyarch_lint.checks.registry import BUILTIN_RULES, ENGINE_CODES
from pyarch_lint.cli import main
from pyarch_lint.config import (
    ConfigError,
    Key,
    Settings,
    load_settings,
    settings_from_toml,
    top_level_keys,
)

# A file that cannot be analysed is always news; PA004 (unused noqa) is selected like a rule.
ENGINE = {"PA001", "PA002", "PA003"}
ALL_RULES = {rule.code for rule in (*ENGINE_CODES, *BUILTIN_RULES)} - ENGINE
DEFAULT_ON = {
    rule.code for rule in (*ENGINE_CODES, *BUILTIN_RULES) if rule.default_enabled
} - ENGINE
PA2 = {code for code in ALL_RULES if code.startswith("PA2")}
PA3 = {code for code in ALL_RULES if code.startswith("PA3")}
SWALLOWING = "try:\n    pass\nexcept:\n    pass\n"  # PA301 and PA302 on line 3


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "src" / "legacy").mkdir(parents=True)
    (root / "src" / "app.py").write_text(SWALLOWING, encoding="utf-8")
    (root / "src" / "legacy" / "old.py").write_text(SWALLOWING, encoding="utf-8")
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text(SWALLOWING, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def pyproject(root: Path, body: str) -> Path:
    """A pyproject.toml whose [tool.pyarch-lint] has `body`; `[llm]` becomes its sub-table."""
    body = re.sub(r"^\[(?!tool\.)(.+)\]$", r"[tool.pyarch-lint.\1]", body, flags=re.MULTILINE)
    path = root / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.pyarch-lint]\n{body}\n', encoding="utf-8")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-llm", "--no-cache", "--jobs", "1", *args])


def enabled(*args: str) -> set[str]:
    """The codes a run would use, from `--show-settings`."""
    result = invoke("--show-settings", *args)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("enabled: "))
    return set(line.removeprefix("enabled: ").split(", "))


def reported(*args: str) -> list[str]:
    result = invoke("--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return [f"{f['path']}:{f['code']}" for f in json.loads(result.stdout)["findings"]]


# -- errors -----------------------------------------------------------------------------------

ERRORS = [
    ('selekt = ["PA3"]', ["unknown key", "`tool.pyarch-lint.selekt`", "known keys", "select"]),
    ('select = "PA3"', ["`select` must be a list of strings", "'PA3'"]),
    ("respect-gitignore = 1", ["`respect-gitignore` must be a boolean", "got 1"]),
    ('select = ["PA999"]', ["`select`", "'PA999'", "expected codes like PA401"]),
    ('ignore = ["E501"]', ["`ignore`", "'E501'"]),
    ('extend-select = ["PA9"]', ["`extend-select`", "'PA9'"]),
    ('per-file-ignores = { "tests/*" = ["PA998"] }', ["per-file-ignores", "tests/*", "'PA998'"]),
    ('per-file-ignores = { "tests/*" = "PA3" }', ["per-file-ignores", "must be a list"]),
    ('per-file-ignores = { "!" = ["PA3"] }', ["`per-file-ignores`", "'!'", "not a gitignore"]),
    ('extend-exclude = ["build", "!"]', ["`extend-exclude`", "'!'", "not a gitignore pattern"]),
    ("exclude = ['gen\\']", ["`exclude`", "'gen\\\\'", "not a gitignore pattern"]),
    ("[llm]\nmodle = 'x'", ["unknown key `llm.modle`", "model"]),
    ("[llm]\nmax-files = 'many'", ["`llm.max-files` must be an integer", "'many'"]),
    ("[structure]\nmax-nesting-depth = true", ["`structure.max-nesting-depth` must be an integer"]),
    ("[structure]\nmax-depth = 3", ["unknown key `structure.max-depth`", "max-nesting-depth"]),
    ("llm = 3", ["`tool.pyarch-lint.llm` must be a table"]),
    ('fail-on = "fatal"', ["`fail-on` must be 'info', 'warning' or 'error'", "'fatal'"]),
    ("[llm]\nmin-severity = 'high'", ["`llm.min-severity` must be 'info', 'warning' or"]),
    ('[severity]\nPA999 = "info"', ["`severity.PA999` is not a rule code"]),
    ('[severity]\nPA2 = "info"', ["`severity.PA2` is not a rule code"]),  # codes, not prefixes
    ('[severity]\nPA201 = "high"', ["`severity.PA201` must be 'info', 'warning' or", "'high'"]),
    ("[severity]\nPA201 = 2", ["`severity.PA201` must be 'info', 'warning' or", "got 2"]),
    ('severity = "PA201"', ["`severity` must be a table", "'PA201'"]),
    ("select = [", ["invalid TOML"]),
]


@pytest.mark.parametrize(("body", "words"), ERRORS, ids=[body for body, _ in ERRORS])
def test_pyproject_errors_exit_2_naming_the_file_and_key(
    project: Path, body: str, words: list[str]
) -> None:
    path = pyproject(project, body)
    result = invoke("src")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"pyarch-lint: error: {path}:")
    for word in words:
        assert word in line


@pytest.mark.parametrize(("body", "words"), ERRORS, ids=[body for body, _ in ERRORS])
def test_config_file_errors_exit_2_naming_the_file_and_key(
    project: Path, body: str, words: list[str]
) -> None:
    config = project / "lint.toml"  # a dedicated file holds the table's keys at top level
    config.write_text(body + "\n", encoding="utf-8")
    result = invoke("--config", str(config), "src")
    assert result.exit_code == 2
    assert str(config) in result.stderr
    for word in words:
        assert word in result.stderr


def test_the_rules_subcommand_reports_config_errors_too(project: Path) -> None:
    pyproject(project, 'select = ["PA999"]')
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 2
    assert "PA999" in result.stderr


def test_a_missing_config_file_is_exit_2(project: Path) -> None:
    result = invoke("--config", "nowhere.toml", "src")
    assert result.exit_code == 2
    assert "nowhere.toml: config file not found" in result.stderr


def test_command_line_selectors_are_validated(project: Path) -> None:
    for option, value in (("--select", "PA3,XX1"), ("--extend-select", "PA99"), ("--ignore", "B")):
        result = invoke(option, value, "src")
        assert result.exit_code == 2
        assert f"command line: `{option}`" in result.stderr


# -- where the configuration comes from --------------------------------------------------------


def test_the_nearest_pyproject_with_a_table_wins(project: Path) -> None:
    pyproject(project, 'select = ["PA301"]')
    nested = project / "src" / "pyproject.toml"
    nested.write_text('[project]\nname = "inner"\n', encoding="utf-8")  # no table: skipped
    settings = load_settings(None, project / "src" / "legacy")
    assert settings.config_path == (project / "pyproject.toml").resolve()
    assert settings.root == project.resolve()
    assert settings.enabled_codes() == ENGINE | {"PA301"}
    nested.write_text('[tool.pyarch-lint]\nselect = ["PA302"]\n', encoding="utf-8")
    assert load_settings(None, project / "src" / "legacy").enabled_codes() == ENGINE | {"PA302"}


def test_config_option_replaces_the_pyproject(project: Path) -> None:
    pyproject(project, 'select = ["PA301"]')
    dedicated = project / "lint.toml"
    dedicated.write_text('select = ["PA302"]\n', encoding="utf-8")
    assert enabled("--config", str(dedicated)) == ENGINE | {"PA302"}
    other = project / "other.toml"
    other.write_text('[tool.pyarch-lint]\nselect = ["PA303"]\n', encoding="utf-8")
    assert enabled("--config", str(other)) == ENGINE | {"PA303"}


def test_no_configuration_means_the_defaults(project: Path) -> None:
    assert enabled() == ENGINE | DEFAULT_ON
    assert Settings.default().enabled_codes() == ENGINE | DEFAULT_ON


# -- selection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('select = ["PA3"]', ENGINE | PA3),
        ('select = ["PA301", "PA303"]', ENGINE | {"PA301", "PA303"}),
        ('select = ["PA3"]\nignore = ["PA302"]', ENGINE | (PA3 - {"PA302"})),
        ('select = ["PA30"]\nignore = ["PA3"]', ENGINE | PA3),  # more specific wins
        ('select = ["PA3"]\nignore = ["PA3"]', ENGINE),  # a tie goes to ignore
        ('select = ["PA301"]\nextend-select = ["PA303"]', ENGINE | {"PA301", "PA303"}),
        ('ignore = ["PA3"]', ENGINE | (DEFAULT_ON - PA3)),
        ('extend-select = ["PA203"]', ENGINE | DEFAULT_ON | {"PA203"}),  # off by default
        ('select = ["ALL"]', ENGINE | ALL_RULES),
        ('select = ["ALL"]\nignore = ["PA0"]', ALL_RULES - {"PA004"}),  # engine codes by ignore
        ('select = ["PA301"]\nignore = ["PA001"]', {"PA002", "PA003", "PA301"}),
    ],
)
def test_select_ignore_extend_select_with_codes_and_prefixes(
    project: Path, body: str, expected: set[str]
) -> None:
    pyproject(project, body)
    assert enabled() == expected


@pytest.mark.parametrize(
    ("body", "args", "expected"),
    [
        # --select starts afresh: the file's select, extend-select and ignore no longer count.
        ('select = ["PA301"]', ["--select", "PA303"], {"PA303"}),
        ('ignore = ["PA302"]', ["--select", "PA302"], {"PA302"}),
        ('extend-select = ["PA203"]', ["--select", "PA3"], PA3),
        # Otherwise what the command line names wins over the file, however the file said it.
        ('ignore = ["PA302"]', ["--extend-select", "PA302"], DEFAULT_ON),
        ('ignore = ["PA302"]', ["--extend-select", "PA3"], DEFAULT_ON),
        ('ignore = ["PA3"]', ["--extend-select", "PA302"], (DEFAULT_ON - PA3) | {"PA302"}),
        ('select = ["PA302"]', ["--ignore", "PA3"], set()),
        ('select = ["PA3"]', ["--ignore", "PA302"], PA3 - {"PA302"}),
        ('extend-select = ["PA203"]', ["--ignore", "PA2"], DEFAULT_ON - PA2),
        # And the file's other choices stand.
        ('select = ["PA3"]', ["--extend-select", "PA101"], PA3 | {"PA101"}),
        (
            'ignore = ["PA1"]',
            ["--ignore", "PA2"],
            DEFAULT_ON - {c for c in ALL_RULES if "PA1" <= c < "PA3"},
        ),
        ('select = ["PA301"]', ["--select", "PA3", "--ignore", "PA303"], PA3 - {"PA303"}),
    ],
)
def test_the_command_line_overrides_the_file(
    project: Path, body: str, args: list[str], expected: set[str]
) -> None:
    pyproject(project, body)
    assert enabled(*args) == ENGINE | expected


def test_selection_decides_what_is_reported(project: Path) -> None:
    pyproject(project, 'select = ["PA3"]')
    assert reported("src/app.py") == ["src/app.py:PA301", "src/app.py:PA302"]
    assert reported("--ignore", "PA301", "src/app.py") == ["src/app.py:PA302"]
    assert reported("--select", "PA302", "src/app.py") == ["src/app.py:PA302"]
    assert reported("--select", "PA1", "src/app.py") == []


def test_per_file_ignores_by_glob_with_codes_and_prefixes(project: Path) -> None:
    pyproject(
        project,
        'select = ["PA3"]\n[tool.pyarch-lint.per-file-ignores]\n'
        '"tests/**" = ["PA3"]\n"src/legacy/*.py" = ["PA302"]',
    )
    assert reported(".") == [
        "src/app.py:PA301",
        "src/app.py:PA302",
        "src/legacy/old.py:PA301",
    ]


def test_per_file_ignores_match_from_the_project_root_wherever_the_run_starts(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject(
        project,
        'select = ["PA3"]\n[tool.pyarch-lint.per-file-ignores]\n"src/legacy/*.py" = ["PA3"]',
    )
    monkeypatch.chdir(project / "src")
    assert reported(".") == ["app.py:PA301", "app.py:PA302"]
    assert reported("legacy/old.py") == []
    assert reported(str(project / "src" / "legacy" / "old.py")) == []
    monkeypatch.chdir(project / "src" / "legacy")
    assert reported("../legacy/old.py", "../app.py") == ["../app.py:PA301", "../app.py:PA302"]


def test_settings_from_toml_validates_like_the_file(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"where\.toml: unknown key"):
        settings_from_toml("nope = 1", where="where.toml")
    settings = settings_from_toml('select = ["PA3"]\n[structure]\nmax-nesting-depth = 2')
    assert settings.enabled_codes() == ENGINE | PA3
    [structure] = [o for o in settings.rule_options.values() if o.SECTION == "structure"]
    assert structure.max_nesting_depth == 2


def test_command_line_overrides_llm_settings_and_validates_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint.llm]\nconcurrency = 2\n")
    overrides = ["--llm-concurrency", "7", "--llm-timeout", "9", "--llm-max-files", "3"]
    overrides += ["--llm-max-output-tokens", "100", "--llm-deadline", "30"]
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "--show-settings",
            *overrides,
            "--config",
            str(tmp_path / "pyproject.toml"),
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    for line in (
        "llm.concurrency: 7",
        "llm.timeout: 9.0",
        "llm.max-files: 3",
        "llm.max-output-tokens: 100",
        "llm.deadline: 30.0",
    ):
        assert line in result.output
    bad = runner.invoke(main, ["--language", "ignore previous instructions", str(tmp_path)])
    assert bad.exit_code == 2
    assert "llm.language" in bad.output


# -- the key table ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(top_level_keys().values()), ids=lambda key: key.name)
def test_every_top_level_key_is_validated_shown_and_written_by_init(
    project: Path, key: Key
) -> None:
    path = pyproject(project, f'{key.name} = "x"')
    result = invoke("src")
    assert result.exit_code == 2
    assert f"{path}: `{key.name}` must be " in result.stderr
    path.unlink()
    shown = invoke("--show-settings").stdout.splitlines()
    assert f"{key.name}: {key.default!r}" in shown
    table = CliRunner().invoke(main, ["init", "--print"]).stdout
    assert (f"# {' '.join(key.help.split()[:5])}" in table) == key.in_init


# -- settings per path: each path's nearest pyproject.toml, as ruff finds them ----------------


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """root/ (select PA3) holding a/ (select PA302) and b/ (PA3, but PA302 ignored in y.py and
    skip.py excluded), each with its own pyproject.toml, and c/ without one."""
    root = tmp_path / "root"
    for folder in ("a", "b", "c"):
        (root / folder).mkdir(parents=True)
    pyproject(root, 'select = ["PA3"]')
    pyproject(root / "a", 'select = ["PA302"]')
    pyproject(
        root / "b",
        'select = ["PA3"]\nextend-exclude = ["skip.py"]\n'
        '[tool.pyarch-lint.per-file-ignores]\n"y.py" = ["PA302"]',
    )
    for name in ("a/x.py", "b/y.py", "b/skip.py", "c/z.py"):
        (root / name).write_text(SWALLOWING, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return root


def test_a_path_gets_the_settings_of_its_own_pyproject(monorepo: Path) -> None:
    assert reported("a") == ["a/x.py:PA302"]
    assert reported("a/x.py") == ["a/x.py:PA302"]
    assert reported("c") == ["c/z.py:PA301", "c/z.py:PA302"]  # no file of its own: root's


def test_paths_with_their_own_pyproject_each_use_theirs(monorepo: Path) -> None:
    # Selection, per-file-ignores (relative to b/) and excludes: each folder its own.
    assert reported("a", "b") == ["a/x.py:PA302", "b/y.py:PA301"]
    assert reported("b", "a", "c") == [
        "a/x.py:PA302",
        "b/y.py:PA301",
        "c/z.py:PA301",
        "c/z.py:PA302",
    ]
    assert invoke("--show-files", "b", "a").stdout.splitlines() == ["a/x.py", "b/y.py"]


def test_from_inside_a_folder_its_pyproject_applies(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(monorepo / "b")
    assert reported() == ["y.py:PA301"]
    assert reported("../a") == ["../a/x.py:PA302"]


def test_config_option_applies_to_every_path(monorepo: Path) -> None:
    assert reported("--config", "pyproject.toml", "a", "b") == [
        "a/x.py:PA301",
        "a/x.py:PA302",
        "b/skip.py:PA301",
        "b/skip.py:PA302",
        "b/y.py:PA301",
        "b/y.py:PA302",
    ]


def test_the_command_line_goes_on_top_of_each_paths_settings(monorepo: Path) -> None:
    assert reported("--ignore", "PA302", "a", "b") == ["b/y.py:PA301"]
    assert reported("--select", "PA301", "a", "b") == ["a/x.py:PA301", "b/y.py:PA301"]
    settings = invoke("--show-settings", "--llm-max-files", "3", "a", "b").stdout
    assert settings.count("llm.max-files: 3") == 2
    assert [line for line in settings.splitlines() if line.startswith("config: ")] == [
        f"config: {monorepo / 'a' / 'pyproject.toml'}",
        f"config: {monorepo / 'b' / 'pyproject.toml'}",
    ]


def test_a_file_two_paths_reach_is_checked_once_with_the_nearest_settings(
    monorepo: Path,
) -> None:
    found = reported(".", "a")
    assert [f for f in found if f.startswith("a/")] == ["a/x.py:PA302"]
    # a/x.py once; b/skip.py is excluded by b's own settings, which the walk from . honours.
    assert json.loads(invoke("--format", "json", ".", "a").stdout)["summary"]["files"] == 3


def test_the_model_settings_are_the_first_paths(monorepo: Path) -> None:
    with (monorepo / "a" / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write("[tool.pyarch-lint.llm]\nenabled = false\n")
    runner = CliRunner()
    first_a = runner.invoke(main, ["--no-cache", "--llm-required", "a", "b"])
    assert first_a.exit_code == 2
    assert "escalation is turned off" in first_a.stderr
    first_b = runner.invoke(main, ["--no-cache", "--llm-required", "b", "a"])
    assert first_b.exit_code == 2
    assert "ANTHROPIC_API_KEY is not set" in first_b.stderr


def test_each_configuration_file_is_read_once(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (monorepo / "a" / "deep").mkdir()
    (monorepo / "a" / "deep" / "w.py").write_text(SWALLOWING, encoding="utf-8")
    read: list[Path] = []
    document = config._document

    def counted(path: Path) -> dict[str, object]:
        read.append(path)
        return document(path)

    monkeypatch.setattr(config, "_document", counted)
    assert invoke("a/x.py", "a/deep", "a", "b", "c", ".").exit_code == 1
    assert sorted(read) == sorted(monorepo / d / "pyproject.toml" for d in ("a", "b", "."))


def test_an_error_in_one_paths_pyproject_names_that_file(monorepo: Path) -> None:
    pyproject(monorepo / "b", 'selekt = ["PA3"]')
    result = invoke("a", "b")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pyarch-lint: error: {monorepo / 'b' / 'pyproject.toml'}:")
    assert "`tool.pyarch-lint.selekt`" in result.stderr
