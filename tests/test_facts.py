"""A file's facts, as project-wide rules read them: imports (and when they run), top-level
definitions with their signatures, module-level bindings; the same from analysis and from the
cache, and a cache entry that is not facts of the file is refused."""

from __future__ import annotations

import ast
import json
import textwrap

import pytest

from pyarch_lint.analysis import analyse_source
from pyarch_lint.config import Settings
from pyarch_lint.facts import (
    Binding,
    Class,
    FileFacts,
    Function,
    Import,
    Parameter,
    facts_of,
    from_json,
    to_json,
)
from pyarch_lint.files import split_lines


def facts(source: str) -> FileFacts:
    text = textwrap.dedent(source)
    return facts_of(ast.parse(text), split_lines(text))


def test_imports_with_modules_names_aliases_levels_and_places() -> None:
    found = facts(
        """\
        import os
        import os.path as osp, sys
        from collections import abc as cabc, OrderedDict
        from . import sibling
        from ..pkg.mod import thing as other
        x = 1; import json
        """
    ).imports
    assert found == (
        Import("os", None, None, 0, 1, 1, False, False),
        Import("os.path", None, "osp", 0, 2, 1, False, False),
        Import("sys", None, None, 0, 2, 1, False, False),
        Import("collections", "abc", "cabc", 0, 3, 1, False, False),
        Import("collections", "OrderedDict", None, 0, 3, 1, False, False),
        Import("", "sibling", None, 1, 4, 1, False, False),
        Import("pkg.mod", "thing", "other", 2, 5, 1, False, False),
        Import("json", None, None, 0, 6, 8, False, False),
    )


def test_columns_are_characters_not_the_bytes_ast_counts() -> None:
    (imported,) = facts('s = "é"; import json\n').imports
    assert imported.column == 10
    (function,) = facts('def café(x: "é"=1) -> "ü": pass\n').functions
    assert function.parameters == (Parameter("x", "positional-or-keyword", '"é"', True),)
    assert function.returns == '"ü"'


@pytest.mark.parametrize(
    "guard", ["TYPE_CHECKING", "typing.TYPE_CHECKING", "t.TYPE_CHECKING", "not not_it"]
)
def test_imports_under_type_checking_and_its_else(guard: str) -> None:
    found = facts(
        f"""\
        if {guard}:
            import a
        else:
            import b
        if not {guard}:
            import c
        else:
            import d
        """
    ).imports
    checking = {i.module: i.type_checking for i in found}
    if guard == "not not_it":  # any other test: every branch runs
        assert checking == {"a": False, "b": False, "c": False, "d": False}
    else:
        assert checking == {"a": True, "b": False, "c": False, "d": True}


def test_type_checking_reaches_into_nested_blocks_and_elif() -> None:
    found = facts(
        """\
        if sys.version_info >= (3, 11):
            import tomllib
        elif TYPE_CHECKING:
            import tomli
        else:
            try:
                import tomli
            except ImportError:
                tomli = None
        if TYPE_CHECKING:
            try:
                from x import y
            finally:
                pass
        """
    ).imports
    assert [(i.module, i.line, i.type_checking) for i in found] == [
        ("tomllib", 2, False),
        ("tomli", 4, True),
        ("tomli", 7, False),
        ("x", 12, True),
    ]


def test_imports_in_functions_and_methods_run_when_called() -> None:
    found = facts(
        """\
        import top

        def f():
            import inner
            def nested():
                from . import deeper

        class C:
            import at_class_level
            async def method(self):
                if TYPE_CHECKING:
                    import checked_late
                with lock:
                    import in_with
        lam = lambda: __import__("x")
        """
    ).imports
    assert [(i.module or i.name, i.in_function, i.type_checking) for i in found] == [
        ("top", False, False),
        ("inner", True, False),
        ("deeper", True, False),
        ("at_class_level", False, False),
        ("checked_late", True, True),
        ("in_with", True, False),
    ]


def test_top_level_functions_with_their_signatures() -> None:
    found = facts(
        """\
        @decorator
        def plain(a, b: int, /, c: "Session | None" = None, *args: str, d, e: list[
            int
        ] = [], **kwargs: object) -> dict[str, int]:
            def inner(): pass

        async def fetch(url: httpx.URL) -> None: ...

        if DEBUG:
            def debug_only(): pass

        class C:
            def method(self): pass
        """
    ).functions
    assert found == (
        Function(
            "plain",
            2,
            1,
            False,
            (
                Parameter("a", "positional-only", None, False),
                Parameter("b", "positional-only", "int", False),
                Parameter("c", "positional-or-keyword", '"Session | None"', True),
                Parameter("args", "var-positional", "str", False),
                Parameter("d", "keyword-only", None, False),
                Parameter("e", "keyword-only", "list[\n    int\n]", True),
                Parameter("kwargs", "var-keyword", "object", False),
            ),
            "dict[str, int]",
        ),
        Function(
            "fetch",
            7,
            1,
            True,
            (Parameter("url", "positional-or-keyword", "httpx.URL", False),),
            "None",
        ),
        Function("debug_only", 10, 5, False, (), None),
    )


def test_top_level_classes_with_bases_and_method_names() -> None:
    found = facts(
        """\
        class Repo(Base, metaclass=Meta):
            x = 1
            def get(self): pass
            async def fetch(self): pass
            class Inner:
                def hidden(self): pass
            if FLAG:
                def conditional(self): pass

        class Plain: pass

        def f():
            class Local: pass
        """
    ).classes
    assert found == (
        Class("Repo", 1, 1, ("Base",), ("get", "fetch")),
        Class("Plain", 10, 1, (), ()),
    )


def test_module_level_bindings_and_what_they_are_bound_to() -> None:
    found = facts(
        """\
        engine = sa.create_engine(url)
        Session = sessionmaker(bind=engine)
        client: httpx.Client = httpx.Client(timeout=5)
        a = b = requests.Session()
        x, (y, *z) = pair()
        TIMEOUT = 5
        factory = make()()
        declared: int
        obj.attr = Client()
        try:
            import ujson as json
        except ImportError:
            json = None

        def f():
            local = Client()

        class C:
            attribute = Client()
        """
    ).bindings
    assert found == (
        Binding("engine", 1, 1, "sa.create_engine"),
        Binding("Session", 2, 1, "sessionmaker"),
        Binding("client", 3, 1, "httpx.Client"),
        Binding("a", 4, 1, "requests.Session"),
        Binding("b", 4, 5, "requests.Session"),
        Binding("x", 5, 1, None),
        Binding("y", 5, 5, None),
        Binding("z", 5, 9, None),
        Binding("TIMEOUT", 6, 1, None),
        Binding("factory", 7, 1, None),
        Binding("json", 13, 5, None),
    )


def test_analysis_gives_the_facts_and_none_for_a_file_that_does_not_parse() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n"
    analysis = analyse_source(source.encode(), [], Settings.default())
    assert analysis.facts == facts(source)
    assert analysis.facts.imports[1] == Import("a", None, None, 0, 3, 5, True, False)
    assert analyse_source(b"def f(:\n", [], Settings.default()).facts == FileFacts()
    assert analyse_source(b"\xff\n", [], Settings.default()).facts == FileFacts()


SAMPLE = """\
import os
from .. import up as u
if TYPE_CHECKING:
    from x import Y
def f(a: int = 1, *, b) -> str: ...
class C(Base):
    def m(self): ...
client = httpx.Client()
"""


def test_facts_survive_the_cache_round_trip_exactly() -> None:
    known = facts(SAMPLE)
    assert from_json(json.loads(json.dumps(to_json(known))), 9, 40) == known


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d[:3],  # a part missing
        lambda d: [d[0], d[1], d[2], "bindings"],
        lambda d: [[[*d[0][0][:7], 1]], *d[1:]],  # a flag that is not a bool
        lambda d: [[[*d[0][0][:3], -1, *d[0][0][4:]]], *d[1:]],  # a negative level
        lambda d: [[[*d[0][0][:4], 99, *d[0][0][5:]]], *d[1:]],  # a line past the file
        lambda d: [[[*d[0][0][:4], True, *d[0][0][5:]]], *d[1:]],  # a line that is a bool
        lambda d: [[[*d[0][0][:5], 0, *d[0][0][6:]]], *d[1:]],  # column 0
        lambda d: [d[0], [[*d[1][0][:4], [["a", "sideways", None, False]], None]], *d[2:]],
        lambda d: [d[0], [[*d[1][0][:5], 7]], *d[2:]],  # a return annotation that is no text
        lambda d: [*d[:2], [["C", 6, 1, [1], []]], d[3]],  # a base that is no text
        lambda d: [*d[:3], [["client", 8, 1, ["httpx", "Client"]]]],
        lambda d: [*d[:3], [["client", 8, 1]]],
    ],
)
def test_facts_that_are_not_facts_of_the_file_are_refused(tamper: object) -> None:
    document = json.loads(json.dumps(to_json(facts(SAMPLE))))
    assert from_json(document, 9, 40) is not None
    assert from_json(tamper(document), 9, 40) is None  # type: ignore[operator]
