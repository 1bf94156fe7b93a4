"""PA602-PA606: options, the file's place, and edge cases the fixtures do not show."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyarch_lint.checks.options import OperationsOptions
from pyarch_lint.cli import main
from pyarch_lint.config import ConfigError, settings_from_toml
from pyarch_lint.engine import check_source


def _lines(code: str, source: str, path: str = "pkg/module.py", config: str = "") -> list[int]:
    settings = settings_from_toml(f'select = ["{code}"]\n{config}')
    found = check_source(textwrap.dedent(source).encode(), path, settings)
    return [f.line for f in found if f.code == code]


# --- PA602 -------------------------------------------------------------------------------------


def test_an_added_method_sink_is_found_in_a_file_without_any_builtin_sink_name() -> None:
    # Nothing in this file passes the built-in pre-filter: only the option's name does.
    source = 'def report(db, day):\n    db.run_query(f"SELECT * FROM t WHERE day = {day}")\n'
    assert _lines("PA602", source) == []
    config = '[operations]\nextend-sql-sinks = [".run_query"]'
    assert _lines("PA602", source, config=config) == [2]


def test_an_added_function_sink_is_matched_through_the_imports() -> None:
    source = """\
        from warehouse.sql import raw as q

        def report(day):
            q("SELECT * FROM t WHERE day = '%s'" % day)
            raw("SELECT * FROM t WHERE day = '%s'" % day)
        """
    config = '[operations]\nextend-sql-sinks = ["warehouse.sql.raw"]'
    assert _lines("PA602", source, config=config) == [4]


@pytest.mark.parametrize("sink", ["", "run query", ".", "mylib..raw", "..raw"])
def test_a_sink_that_is_no_name_is_a_configuration_error(sink: str) -> None:
    with pytest.raises(ConfigError, match="extend-sql-sinks"):
        settings_from_toml(f'[operations]\nextend-sql-sinks = ["{sink}"]')


def test_only_one_local_assignment_is_followed() -> None:
    source = """\
        def run(cursor, uid):
            inner = f"id = {uid}"
            where = inner
            cursor.execute("SELECT * FROM t WHERE " + where)
            query = f"SELECT * FROM t WHERE id = {uid}"
            if uid:
                query = "SELECT 1"
            cursor.execute(query)
        """
    # `where` is one assignment away from a name, not from an interpolation, so it is a value
    # of its own; `query` may still hold the f-string when it reaches the sink.
    assert _lines("PA602", source) == [4, 8]


def test_a_module_constant_reassigned_from_a_call_is_not_a_constant() -> None:
    source = """\
        import os

        TABLE = "users"
        if os.environ.get("TABLE"):
            TABLE = os.environ["TABLE"]

        def run(cursor):
            cursor.execute(f"SELECT * FROM {TABLE}")
        """
    settings = settings_from_toml('select = ["PA602"]')
    [finding] = check_source(textwrap.dedent(source).encode(), "m.py", settings)
    assert finding.message.startswith("SQL built with an f-string from `TABLE`")


# --- PA606 -------------------------------------------------------------------------------------

PRINTS = "def load(path):\n    print(path)\n"


@pytest.mark.parametrize(
    "path",
    [
        "pkg/__main__.py",
        "setup.py",
        "tests/unit/helpers.py",
        "pkg/test_load.py",
        "pkg/load_test.py",
        "conftest.py",
        "scripts/release.py",
        "bin/tool.py",
        "examples/demo.py",
        "docs/conf.py",
    ],
)
def test_files_that_are_run_may_print(path: str) -> None:
    assert _lines("PA606", PRINTS, path) == []


@pytest.mark.parametrize("path", ["pkg/load.py", "pkg/testing_utils.py", "latest.py"])
def test_library_files_may_not(path: str) -> None:
    assert _lines("PA606", PRINTS, path) == [2]


@pytest.mark.parametrize(
    ("allowed", "path", "reported"),
    [
        ("mypkg.cli", "src/mypkg/cli.py", False),
        ("mypkg.cli", "mypkg/cli/commands.py", False),
        ("mypkg.cli", "mypkg/cli/__init__.py", False),
        ("mypkg.cli", "mypkg/client.py", True),
        ("mypkg.cli", "mypkg/climate/cli.py", True),
        ("cli", "anything/cli.py", False),
    ],
)
def test_print_allowed_matches_whole_dotted_segments(
    allowed: str, path: str, reported: bool
) -> None:
    config = f'[operations]\nprint-allowed = ["{allowed}"]'
    assert _lines("PA606", PRINTS, path, config) == ([2] if reported else [])


def test_a_print_allowed_entry_must_be_a_dotted_name() -> None:
    with pytest.raises(ConfigError, match="print-allowed"):
        settings_from_toml('[operations]\nprint-allowed = ["mypkg/cli.py"]')


@pytest.mark.parametrize(
    "head",
    [
        "#!/usr/bin/env python3\n",
        "import click\n",
        "from typer import Typer\n",
        "import argparse\n",
        "import pytest\n",
        "from unittest import mock\n",
        "def test_load():\n    pass\n",
    ],
)
def test_scripts_command_line_programs_and_tests_may_print(head: str) -> None:
    assert _lines("PA606", head + PRINTS) == []


def test_a_late_import_of_argparse_makes_the_module_a_program() -> None:
    source = PRINTS + "def main():\n    import argparse\n    argparse.ArgumentParser()\n"
    assert _lines("PA606", source) == []


def test_only_what_the_main_guard_calls_is_an_entry_point() -> None:
    source = """\
        def helper():
            print("helper")

        def main():
            print("main")

        if __name__ == "__main__":
            main()
        """
    assert _lines("PA606", source) == [2]


def test_the_place_rule_runs_after_the_cache_and_on_every_run(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA606"]\n')
    for folder in ("pkg", "scripts"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "load.py").write_text(PRINTS)
    runner = CliRunner()
    for _ in range(2):  # cold, then from the cache
        result = runner.invoke(
            main, ["--no-llm", "--format", "concise", str(tmp_path)], catch_exceptions=False
        )
        assert result.output.count("PA606") == 1
        assert "pkg/load.py:2:5: PA606" in result.output


def test_allows_print_in_is_a_place_rule_only() -> None:
    options = OperationsOptions(print_allowed=("tools.report",))
    assert options.allows_print_in("src/tools/report.py")
    assert options.allows_print_in("src/tools/report/__init__.py")
    assert not options.allows_print_in("src/tools/reports.py")
    assert not OperationsOptions().allows_print_in("src/tools/report.py")


def test_pa602_follows_a_query_grown_with_plus_equals_only_from_text() -> None:
    settings = settings_from_toml('select = ["PA602"]', where="test")
    grown = """\
        def find(cur, name):
            query = "SELECT * FROM users WHERE 1 = 1"
            query += name
            cur.execute(query)
    """
    statement = """\
        def find(session, n):
            stmt = lambda_stmt(lambda: select(User))
            stmt += lambda s: s.where(User.id == n)
            session.execute(stmt)
    """
    found = [
        [f.line for f in check_source(textwrap.dedent(code).encode(), "q.py", settings)]
        for code in (grown, statement)
    ]
    assert found == [[4], []]  # SQLAlchemy's lambda statements grow with `+=` too: no text
