"""PA101-PA103: options, messages and the McCabe count, beyond what the fixtures show."""

from __future__ import annotations

import textwrap

import pytest

from pyarch_lint.checks.options import StructureOptions
from pyarch_lint.config import ConfigError, Settings, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.findings import Finding, Severity


def _findings(source: str, code: str, options: str = "") -> list[Finding]:
    settings = settings_from_toml(f'select = ["{code}"]\n[structure]\n{options}')
    found = check_source(textwrap.dedent(source).encode(), "module.py", settings)
    return [f for f in found if f.code == code]


def _lines(source: str, code: str, options: str = "") -> list[int]:
    return [f.line for f in _findings(source, code, options)]


DEEP = """\
def f(rows):
    for row in rows:
        if row:
            with row.lock:
                row.save()
"""


def test_max_nesting_depth_option_changes_the_limit() -> None:
    assert _lines(DEEP, "PA101") == []
    assert _lines(DEEP, "PA101", "max-nesting-depth = 2") == [4]
    assert _lines(DEEP, "PA101", "max-nesting-depth = 3") == []


def test_nesting_message_names_depth_and_limit() -> None:
    [finding] = _findings(DEEP, "PA101", "max-nesting-depth = 1")
    assert finding.line == 3
    assert "3 blocks deep" in finding.message  # the deepest, reported at the first too deep
    assert "max-nesting-depth is 1" in finding.message
    assert finding.severity is Severity.WARNING


def test_depth_zero_flags_the_first_outermost_block_and_counts_the_others() -> None:
    source = """\
    import os

    if os.name:
        print(1)
        print(2)
    for name in os.environ:
        print(name)
    """
    [finding] = _findings(source, "PA101", "max-nesting-depth = 0")
    assert finding.line == 3
    assert "(max-nesting-depth is 0; 1 more block passes it too at module level)" in (
        finding.message
    )


def test_sibling_deep_blocks_are_one_finding_per_function_with_the_deepest_depth() -> None:
    source = """\
    def f(rows):
        for row in rows:
            if row:
                for cell in row:
                    if cell:
                        while cell.busy:
                            cell.wait()
                        for x in cell:
                            if x:
                                print(x)
                        with cell.lock:
                            print(cell)
                    print(row)
                if row.last:
                    for cell in row:
                        if cell:
                            try:
                                print(cell)
                            except OSError:
                                pass

    def g(rows):
        for row in rows:
            if row:
                for cell in row:
                    if cell:
                        while cell.busy:
                            cell.wait()
    """
    found = _findings(source, "PA101")
    assert [(f.line, f.column) for f in found] == [(6, 21), (27, 21)]
    assert found[0].message.startswith(
        "Nested 6 blocks deep (max-nesting-depth is 4; 3 more blocks pass it too in `f`): "
    )
    assert found[1].message.startswith("Nested 5 blocks deep (max-nesting-depth is 4): ")


def test_class_body_and_methods_are_scopes_of_their_own() -> None:
    source = """\
    class C:
        if A:
            if B:
                x = 1
            if D:
                y = 2

        def m(self):
            if A:
                if B:
                    return 1
    """
    found = _findings(source, "PA101", "max-nesting-depth = 1")
    in_class = (
        "Nested 2 blocks deep (max-nesting-depth is 1; 1 more block passes it too in class `C`)"
    )
    assert [(f.line, f.message.split(":")[0]) for f in found] == [
        (3, in_class),
        (10, "Nested 2 blocks deep (max-nesting-depth is 1)"),
    ]


def test_long_elif_chain_is_one_level() -> None:
    branches = "".join(
        f"    elif value == {i}:\n        if value:\n            pass\n" for i in range(30)
    )
    source = f"def f(value):\n    if value is None:\n        pass\n{branches}"
    assert _lines(source, "PA101", "max-nesting-depth = 2") == []
    # Each branch's inner `if` is its own too-deep block, all at depth 2, counted in one finding.
    [finding] = _findings(source, "PA101", "max-nesting-depth = 1")
    assert finding.line == 5
    assert "Nested 2 blocks deep (max-nesting-depth is 1; 29 more blocks pass" in finding.message


def _score(source: str) -> int | None:
    found = _findings(source, "PA102", "max-complexity = 0")
    if not found:
        return None
    [finding] = found
    return int(finding.message.split("complexity ")[1].split(" ")[0])


# Expected scores are what mccabe 0.7.0 computes for the same function.
MCCABE_SCORES = [
    ("def f():\n    pass\n", 1),
    ("def f():\n    if a:\n        pass\n    elif b:\n        pass\n    else:\n        pass\n", 3),
    ("def f():\n    for x in y:\n        pass\n    else:\n        pass\n", 2),
    ("def f():\n    while a:\n        pass\n", 2),
    ("def f():\n    try:\n        pass\n    except A:\n        pass\n", 3),
    (
        "def f():\n    try:\n        pass\n    except A:\n        pass\n    except B:\n"
        "        pass\n    else:\n        pass\n    finally:\n        pass\n",
        4,
    ),
    ("def f():\n    try:\n        pass\n    finally:\n        pass\n", 2),
    ("def f():\n    with a:\n        if b:\n            pass\n", 2),
    ("def f():\n    return a and b or c if d else [x for x in y if x]\n", 1),
    ("def f():\n    def g():\n        if a:\n            pass\n", 3),
    ("def f():\n    class A:\n        def g(self):\n            if a:\n                pass\n", 3),
    ("async def f():\n    async for x in y:\n        pass\n    async with a:\n        pass\n", 2),
]


@pytest.mark.parametrize(("source", "expected"), MCCABE_SCORES)
def test_complexity_matches_mccabe(source: str, expected: int) -> None:
    assert _score(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Where mccabe 0.7.0 sees nothing, we count like ruff.
        ("def f():\n    try:\n        pass\n    finally:\n        if a:\n            pass\n", 3),
        (
            "def f():\n    match x:\n        case 1:\n            pass\n        case 2:\n"
            "            pass\n",
            3,
        ),
        (
            "def f():\n    match x:\n        case 1:\n            pass\n        case _:\n"
            "            pass\n",
            2,
        ),
        (
            "def f():\n    match x:\n        case 1:\n            pass\n        case y if y:\n"
            "            pass\n",
            3,
        ),
        ("def f():\n    try:\n        pass\n    except* A:\n        if a:\n            pass\n", 4),
    ],
)
def test_complexity_where_mccabe_is_blind(source: str, expected: int) -> None:
    assert _score(source) == expected


def test_max_complexity_option_changes_the_limit() -> None:
    source = (
        "def f(a, b):\n    if a:\n        return 1\n    if b:\n        return 2\n    return 3\n"
    )
    assert _lines(source, "PA102") == []
    assert _lines(source, "PA102", "max-complexity = 2") == [1]
    assert _lines(source, "PA102", "max-complexity = 3") == []


def test_complexity_message_has_score_and_limit() -> None:
    source = "def f(a):\n    if a:\n        return 1\n    return 2\n"
    [finding] = _findings(source, "PA102", "max-complexity = 1")
    assert "`f`" in finding.message
    assert "complexity 2" in finding.message
    assert "max-complexity is 1" in finding.message


def test_max_parameters_option_changes_the_limit() -> None:
    source = "def f(a, b, c):\n    pass\n"
    assert _lines(source, "PA103") == []
    assert _lines(source, "PA103", "max-parameters = 2") == [1]
    assert _lines(source, "PA103", "max-parameters = 3") == []


def test_parameter_message_has_count_and_limit() -> None:
    source = "class C:\n    def m(self, a, b, *args, **kwargs):\n        pass\n"
    [finding] = _findings(source, "PA103", "max-parameters = 1")
    assert "takes 2 positional parameters" in finding.message
    assert "max-parameters is 1" in finding.message


@pytest.mark.parametrize("key", ["max-nesting-depth", "max-complexity", "max-parameters"])
def test_negative_limits_are_rejected(key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        settings_from_toml(f"[structure]\n{key} = -1")


def test_defaults_are_the_documented_ones() -> None:
    options = Settings.default().rule_options[StructureOptions]
    assert (options.max_nesting_depth, options.max_complexity, options.max_parameters) == (4, 10, 6)


def test_keyword_only_parameters_count_only_when_asked() -> None:
    source = """\
    def connect(host, port, *, user, password, timeout, retries, verify):
        pass

    def spread(a, b, c, d, *, e):
        pass
    """
    assert _lines(source, "PA103") == []
    [both] = _findings(source, "PA103", "count-keyword-only = true\nmax-parameters = 5")
    assert both.line == 1
    assert both.message.startswith("`connect` takes 7 parameters (max-parameters is 5)")
    [positional] = _findings(source, "PA103", "max-parameters = 3")
    assert positional.message.startswith("`spread` takes 4 positional parameters")


@pytest.mark.parametrize(
    ("header", "decorator"),
    [
        ("import click", "@click.command()"),
        ("import click", "@click.group(invoke_without_command=True)"),
        ("from click import command as cmd", "@cmd('sync')"),
        ("import click", '@click.option("--name")'),
        ("import click\ncli = click.Group()", "@cli.command()"),
        ("import typer\napp = typer.Typer()", "@app.command()"),
        ("import typer\napp = typer.Typer()", "@app.command"),
        ("import pytest", "@pytest.fixture"),
        ("from pytest import fixture", '@fixture(scope="module")'),
    ],
)
def test_framework_entry_points_are_exempt(header: str, decorator: str) -> None:
    source = f"{header}\n\n{decorator}\ndef sync(a, b, c, d, e, f, g):\n    pass\n"
    assert _findings(source, "PA103") == []


def test_entry_point_decorators_resolve_names_and_can_be_replaced() -> None:
    source = """\
    from mylib import command
    import pytest

    @command
    def not_click(a, b, c, d, e, f, g):
        pass

    @pytest.fixture
    def fixture(a, b, c, d, e, f, g):
        pass

    @app.route("/")
    def view(a, b, c, d, e, f, g):
        pass
    """
    assert _lines(source, "PA103") == [5, 13]
    assert _lines(source, "PA103", 'entry-point-decorators = ["*.route"]') == [5, 9]
    assert _lines(source, "PA103", 'entry-point-decorators = ["mylib.command"]') == [9, 13]


def test_an_entry_point_decorator_must_be_a_dotted_name() -> None:
    with pytest.raises(ConfigError, match="is not a decorator name"):
        settings_from_toml('[structure]\nentry-point-decorators = ["click command"]')
