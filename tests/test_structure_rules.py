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
    assert "2 blocks deep" in finding.message
    assert "max-nesting-depth is 1" in finding.message
    assert finding.severity is Severity.WARNING


def test_depth_zero_flags_every_outermost_block_once() -> None:
    source = """\
    import os

    if os.name:
        print(1)
        print(2)
    for name in os.environ:
        print(name)
    """
    assert _lines(source, "PA101", "max-nesting-depth = 0") == [3, 6]


def test_long_elif_chain_is_one_level() -> None:
    branches = "".join(
        f"    elif value == {i}:\n        if value:\n            pass\n" for i in range(30)
    )
    source = f"def f(value):\n    if value is None:\n        pass\n{branches}"
    assert _lines(source, "PA101", "max-nesting-depth = 2") == []
    # Each branch's inner `if` is its own too-deep block.
    assert _lines(source, "PA101", "max-nesting-depth = 1") == list(range(5, 95, 3))


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
    assert "takes 2 parameters" in finding.message
    assert "max-parameters is 1" in finding.message


@pytest.mark.parametrize("key", ["max-nesting-depth", "max-complexity", "max-parameters"])
def test_negative_limits_are_rejected(key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        settings_from_toml(f"[structure]\n{key} = -1")


def test_defaults_are_the_documented_ones() -> None:
    options = Settings.default().rule_options[StructureOptions]
    assert (options.max_nesting_depth, options.max_complexity, options.max_parameters) == (4, 10, 6)
