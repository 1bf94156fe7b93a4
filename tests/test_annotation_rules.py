"""PA201-PA204: each option, severities and selection, beyond what the fixtures show."""

from __future__ import annotations

import textwrap

import pytest

from pyarch_lint.checks.options import AnnotationOptions
from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.findings import Finding, Severity


def _findings(source: str, code: str, options: str = "", path: str = "module.py") -> list[Finding]:
    settings = settings_from_toml(f'select = ["{code}"]\n[annotations]\n{options}')
    found = check_source(textwrap.dedent(source).encode(), path, settings)
    return [f for f in found if f.code == code]


def _lines(source: str, code: str, options: str = "") -> list[int]:
    return [f.line for f in _findings(source, code, options)]


# Every function checked, those without any hint included (not the default).
EVERY = "ignore-fully-untyped = false"


@pytest.mark.parametrize("code", ["PA201", "PA202"])
def test_ignore_private_skips_private_functions_but_not_dunders(code: str) -> None:
    source = """\
    def _helper(value):
        return value

    class C:
        def __eq__(self, other):
            return True

    def typed() -> None: ...
    """
    assert _lines(source, code, EVERY) == [1, 5]
    assert _lines(source, code, f"{EVERY}\nignore-private = true") == [5]


@pytest.mark.parametrize("code", ["PA201", "PA202"])
def test_ignore_nested_skips_functions_inside_functions(code: str) -> None:
    source = """\
    def outer(value: int) -> None:
        def inner(item):
            return item

        class Local:
            def method(self, item):
                return item
    """
    assert _lines(source, code, EVERY) == [2, 6]
    assert _lines(source, code, f"{EVERY}\nignore-nested = true") == []


@pytest.mark.parametrize("code", ["PA201", "PA202"])
def test_by_default_only_functions_without_any_hint_are_skipped(code: str) -> None:
    source = """\
    def untyped(value):
        return value

    def started(value: int, other):
        return value
    """
    assert _lines(source, code) == [4]
    assert _lines(source, code, EVERY) == [1, 4]


def test_an_annotated_self_makes_a_method_typed_for_ignore_fully_untyped() -> None:
    source = """\
    class C:
        def m(self: "C", value):
            return value
    """
    assert _lines(source, "PA201") == [2]


def test_suppress_dummy_args_skips_dummy_parameter_names() -> None:
    source = "def f(_, _unused, *_args, __dunder__, keep) -> None:\n    pass\n"
    names = [f.message.split("`")[1] for f in _findings(source, "PA201")]
    assert names == ["_", "_unused", "*_args", "__dunder__", "keep"]
    quiet = _findings(source, "PA201", "suppress-dummy-args = true")
    assert [f.message.split("`")[1] for f in quiet] == ["__dunder__", "keep"]


def test_suppress_dummy_args_does_not_touch_returns() -> None:
    source = "def f(_):\n    pass\n"
    options = f"suppress-dummy-args = true\n{EVERY}"
    assert _lines(source, "PA202", options) == [1]


def test_mypy_init_return_needs_one_annotated_argument() -> None:
    source = """\
    class Typed:
        def __init__(self, value: int):
            self.value = value

    class Untyped:
        def __init__(self, value):
            self.value = value
    """
    assert _lines(source, "PA202", EVERY) == [6]
    assert _lines(source, "PA202", f"{EVERY}\nmypy-init-return = false") == [2, 6]


def test_init_message_suggests_none() -> None:
    source = "class C:\n    def __init__(self):\n        pass\n"
    [finding] = _findings(source, "PA202", EVERY)
    assert "-> None" in finding.message


def test_one_finding_per_parameter_reported_on_its_own_line() -> None:
    source = """\
    def f(
        a,
        *args,
        b: int,
        **kwargs,
    ) -> None:
        pass
    """
    found = _findings(source, "PA201")
    assert [(f.line, f.message.split("`")[1]) for f in found] == [
        (2, "a"),
        (3, "*args"),
        (5, "**kwargs"),
    ]


def test_stub_files_are_checked() -> None:
    found = _findings("def f(x) -> None: ...\ndef g(y: int): ...\n", "PA201", path="module.pyi")
    assert [f.line for f in found] == [1]


def test_severities_are_info() -> None:
    source = "from typing import Any\ndef f(x, y: Any): ...\n"
    for code in ("PA201", "PA202", "PA203"):
        [finding] = _findings(source, code)
        assert finding.severity is Severity.INFO


def test_any_annotation_is_off_by_default_and_selectable() -> None:
    source = b"from typing import Any\n\ndef f(x: Any) -> None: ...\n"
    default = check_source(source, "module.py", Settings.default())
    assert not [f for f in default if f.code == "PA203"]
    selected = check_source(source, "module.py", settings_from_toml('extend-select = ["PA203"]'))
    assert [f.line for f in selected if f.code == "PA203"] == [3]


def test_missing_annotations_are_on_by_default() -> None:
    source = b"def f(x):\n    return x\n\ndef g(y, z: int):\n    return y\n"
    found = check_source(source, "module.py", Settings.default())
    assert {f.code for f in found} >= {"PA201", "PA202"}
    untyped = check_source(b"def f(x):\n    return x\n", "module.py", Settings.default())
    assert [f.code for f in untyped] == ["PA204"]


def test_exemption_options_do_not_hide_any() -> None:
    source = """\
    from typing import Any

    def outer() -> None:
        def _inner(value: Any) -> None:
            pass
    """
    options = "ignore-private = true\nignore-nested = true\nignore-fully-untyped = true"
    assert _lines(source, "PA203", options) == [4]


def test_defaults_are_the_documented_ones() -> None:
    options = Settings.default().rule_options[AnnotationOptions]
    assert options == AnnotationOptions(
        ignore_private=False,
        mypy_init_return=True,
        suppress_dummy_args=False,
        ignore_fully_untyped=True,
        ignore_pytest_parameters=True,
        ignore_nested=False,
    )


# --- untyped modules (PA204), `@overload` implementations, `# type:` comments ---------------


def test_an_untyped_module_gets_one_finding_on_its_first_function() -> None:
    source = """\
    import os

    class Store:
        def get(self, key):
            return os.environ[key]

    def load(path, *args, **kwargs):
        def inner(x):
            return x
        return inner
    """
    [finding] = _findings(source, "PA204")
    assert (finding.line, finding.column, finding.severity) == (4, 5, Severity.INFO)
    assert finding.message.startswith("No function in this module has a type hint (3 functions)")
    assert _lines(source, "PA201") == []
    assert _lines(source, "PA202") == []


@pytest.mark.parametrize("code", ["PA201", "PA202"])
def test_a_hint_makes_its_own_function_checked_and_the_module_typed(code: str) -> None:
    source = """\
    def first(a):
        return a

    def typed(b: int):
        return b

    def last(c):
        return c
    """
    assert _lines(source, code) == {"PA201": [], "PA202": [4]}[code]
    assert _lines(source, code, EVERY) == {"PA201": [1, 7], "PA202": [1, 4, 7]}[code]
    assert _lines(source, "PA204") == []


def test_ignore_fully_untyped_false_reports_every_parameter_and_no_module() -> None:
    source = "def f(x, y):\n    return x\n"
    assert [f.message.split("`")[1] for f in _findings(source, "PA201", EVERY)] == ["x", "y"]
    assert _lines(source, "PA202", EVERY) == [1]
    assert _lines(source, "PA204", EVERY) == []


def test_a_module_without_functions_or_with_only_exempt_ones_is_not_reported() -> None:
    assert _lines("x = 1\nclass C:\n    y = 2\n", "PA204") == []
    assert _lines("def _private(x):\n    return x\n", "PA204", "ignore-private = true") == []
    assert _lines("def f(x):\n    return x\n", "PA204", EVERY) == []
    [one] = _findings("async def f(x):\n    return x\n", "PA204")
    assert "(1 function)" in one.message


@pytest.mark.parametrize(
    "imports",
    [
        "from typing import overload",
        "from typing import overload as variant",
        "import typing_extensions as te",
        "import typing",
    ],
)
def test_the_implementation_after_overloads_is_exempt_however_overload_is_imported(
    imports: str,
) -> None:
    decorator = {
        "from typing import overload": "overload",
        "from typing import overload as variant": "variant",
        "import typing_extensions as te": "te.overload",
        "import typing": "typing.overload",
    }[imports]
    source = f"""\
    {imports}

    @{decorator}
    def parse(value: int) -> int: ...
    @{decorator}
    def parse(value) -> str: ...
    def parse(value):
        return value
    """
    assert _lines(source, "PA201") == [6]  # the variant keeps today's finding
    assert _lines(source, "PA202") == []


def test_only_the_def_right_after_the_overloads_in_their_scope_is_their_implementation() -> None:
    source = """\
    from typing import overload

    def overload_lookalike(f: object) -> object:
        return f

    @overload_lookalike
    def a(x: int) -> int: ...
    def a(x):
        return x

    @overload
    def b(x: int) -> int: ...
    def other(y) -> None: ...
    def b(x):
        return x

    class C:
        @overload
        def m(self, x: int) -> int: ...
        def m(self, x):
            return x
    """
    assert _lines(source, "PA201", EVERY) == [8, 13, 14]
    assert _lines(source, "PA202", EVERY) == [8, 14]


def test_type_comments_count_as_annotations() -> None:
    source = """\
    def signature(a, b):  # type: (int, str) -> bool
        return True

    def next_line(a, b):
        # type: (int, str) -> bool
        return True

    def per_argument(a,  # type: int
                     b,  # type: str
                     c  # type: float
                     ):
        # type: (...) -> None
        pass

    def partly(a,  # type: int
               b):
        pass

    def ignored(a):  # type: ignore[no-untyped-def]
        pass
    """
    found = _findings(source, "PA201", EVERY)
    assert [(f.line, f.message.split("`")[1]) for f in found] == [(16, "b"), (19, "a")]
    assert _lines(source, "PA202", EVERY) == [15, 19]
    assert _lines(source, "PA202") == [15]  # `ignored` has no hint: skipped by default


def test_a_type_comment_alone_makes_the_module_typed() -> None:
    source = "def f(a):  # type: (int) -> int\n    return a\n\ndef g(b):\n    return b\n"
    assert _lines(source, "PA204") == []
    assert _lines(source, "PA201", EVERY) == [4]
    ignored = "def f(a):  # type: ignore\n    return a\n"
    assert _lines(ignored, "PA204") == [1]


# --- the parameters pytest fills in ------------------------------------------------------


def test_pytest_tests_and_fixtures_keep_their_return_findings() -> None:
    source = """\
    import pytest as pt

    @pt.fixture(autouse=True)
    def server(port, host: str):
        return port

    def test_get(server, client: object):
        assert server
    """
    assert _lines(source, "PA201") == []
    assert _lines(source, "PA202") == [4, 7]
    assert _lines(source, "PA201", "ignore-pytest-parameters = false") == [4, 7]


def test_a_name_only_pytest_would_call_a_fixture_is_not_one() -> None:
    source = """\
    from helpers import fixture

    @fixture
    def server(port) -> int:
        return port
    """
    assert _lines(source, "PA201") == [4]
