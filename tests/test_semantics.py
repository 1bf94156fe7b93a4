"""The semantic model every rule shares: scopes, bindings, qualified names, simple types.

Each case calls `probe(expression)` in a module; the walker delivers the call to a test rule,
which asks the model about the expression where it stands."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import ClassVar

import libcst as cst
import pytest

from pyarch_lint.checks.base import Rule
from pyarch_lint.semantics import SemanticModel
from pyarch_lint.walk import Walker

Question = Callable[[SemanticModel, cst.BaseExpression], object]


def _answers(source: str, question: Question) -> list[object]:
    class Probe(Rule):
        answers: ClassVar[list[object]] = []

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "probe":
                self.answers.append(question(self.semantic, node.args[0].value))

    module = cst.parse_module(textwrap.dedent(source))
    walker = Walker(module, [("PA999", Probe)], {})
    walker.walk()
    assert not walker.crashes, walker.crashes
    return Probe.answers


def names(source: str) -> list[object]:
    return _answers(source, lambda semantic, node: semantic.qualified_names(node))


def classes(source: str, results: Mapping[str, str] | None = None) -> list[object]:
    return _answers(source, lambda semantic, node: semantic.class_of(node, results or {}))


def test_aliases_and_dotted_imports() -> None:
    assert names(
        """\
        import os.path as osp
        import urllib.request
        from time import sleep as nap

        probe(nap)
        probe(osp.join)
        probe(urllib.request.urlopen)
        probe(open)
        """
    ) == [("time.sleep",), ("os.path.join",), ("urllib.request.urlopen",), ("builtins.open",)]


def test_a_local_value_has_no_qualified_name_and_a_relative_import_binds_opaquely() -> None:
    assert names(
        """\
        from . import time

        value = compute()
        probe(value)
        probe(time.sleep)
        """
    ) == [(), ()]


def test_late_imports_count_in_function_bodies_and_alternatives_all_count() -> None:
    assert names(
        """\
        def handler():
            probe(requests.get)
            probe(json.loads)


        import requests

        try:
            import ujson as json
        except ImportError:
            import json
        """
    ) == [("requests.get",), ("ujson.loads", "json.loads")]


def test_shadowing_by_parameters_assignments_defs_and_classes() -> None:
    assert names(
        """\
        from time import sleep


        def by_parameter(sleep):
            probe(sleep)


        def by_assignment():
            sleep = None
            probe(sleep)


        def by_def():
            def sleep():
                pass

            probe(sleep)


        def untouched():
            probe(sleep)
        """
    ) == [(), (), (), ("time.sleep",)]


def test_in_the_scope_the_code_runs_in_the_binding_above_it_counts() -> None:
    assert names(
        """\
        from typing import Any

        probe(Any)


        class Any:
            pass


        probe(Any)
        """
    ) == [("typing.Any",), ()]


def test_global_and_nonlocal_reach_the_outer_binding() -> None:
    assert names(
        """\
        import requests


        def fetch():
            global requests
            probe(requests.get)
            requests = None


        def outer():
            import json

            def inner():
                nonlocal json
                probe(json.dumps)
                json = None
        """
    ) == [("requests.get",), ("json.dumps",)]


def test_class_scopes_do_not_enclose_their_methods_or_comprehensions() -> None:
    assert names(
        """\
        from time import sleep


        class Worker:
            sleep = staticmethod(print)
            probe(sleep)
            values = [probe(sleep) for _ in range(1)]

            def run(self):
                probe(sleep)
        """
    ) == [(), ("time.sleep",), ("time.sleep",)]


def test_comprehension_and_lambda_scopes() -> None:
    assert names(
        """\
        import sleep as x

        [probe(x) for x in range(3)]
        handler = lambda x: probe(x)
        probe(x)
        """
    ) == [(), (), ("sleep",)]


def test_typing_star_import_binds_typings_names_only() -> None:
    assert names(
        """\
        from typing import *
        from time import *

        probe(Any)
        probe(sleep)
        """
    ) == [("typing.Any",), ("builtins.sleep",)]


def test_scopes_follow_the_walk() -> None:
    source = """\
    async def outer():
        probe(1)

        def inner():
            probe(2)

        class Local:
            probe(3)

        [probe(4) for _ in range(1)]
        (lambda: probe(5))()


    probe(6)
    """
    where = _answers(
        source, lambda semantic, node: (semantic.in_async_body(), semantic.in_function())
    )
    assert where == [
        (True, True),
        (False, True),
        (False, True),
        (True, True),
        (False, True),
        (False, False),
    ]


def test_a_value_built_by_a_call_is_an_instance_of_what_it_calls() -> None:
    assert classes(
        """\
        import httpx
        from requests import Session

        client = httpx.Client(timeout=5)
        factory = pick()
        probe(client)
        probe(Session())
        probe(factory())
        probe(client.get("/"))
        """
    ) == ["httpx.Client", "requests.Session", None, None]


@pytest.mark.parametrize(
    "annotation",
    [
        "requests.Session",
        "requests.Session | None",
        "None | requests.Session",
        "Optional[requests.Session]",
        "typing.Optional[requests.Session]",
        "Union[requests.Session, None]",
        '"requests.Session"',
        '"Optional[requests.Session]"',
    ],
)
def test_annotated_parameters_and_optional_forms(annotation: str) -> None:
    source = f"""\
    import typing
    from typing import Optional, Union

    import requests


    def fetch(session: {annotation}):
        probe(session)
    """
    assert classes(source) == ["requests.Session"]


@pytest.mark.parametrize(
    "annotation", ["requests.Session | str", "list[requests.Session]", "session_type"]
)
def test_annotations_that_do_not_name_one_class(annotation: str) -> None:
    source = f"""\
    import requests

    session_type = pick()


    def fetch(session: {annotation}):
        probe(session)
    """
    assert classes(source) == [None]


def test_self_attributes_assigned_in_any_method_or_declared_in_the_body() -> None:
    assert classes(
        """\
        import httpx
        import requests


        class Client:
            pool: "httpx.Client"

            def __init__(self, session: requests.Session | None = None):
                self.session = session
                self.other = httpx.Client()

            def connect(me):
                me.late = httpx.Client()

            def fetch(self):
                probe(self.session)
                probe(self.pool)
                probe(self.late)
                probe(self.missing)

                def nested():
                    probe(self.other)
        """
    ) == ["requests.Session", "httpx.Client", "httpx.Client", None, "httpx.Client"]


def test_self_attributes_assigned_two_kinds_of_values_have_no_class() -> None:
    assert classes(
        """\
        import httpx


        class Client:
            def __init__(self):
                self.http = httpx.Client()

            def reset(self):
                self.http = None

            def fetch(self):
                probe(self.http)
        """
    ) == [None]


def test_module_bindings_are_seen_inside_functions() -> None:
    assert classes(
        """\
        import httpx

        CLIENT = httpx.Client()


        async def fetch():
            probe(CLIENT)
            CLIENT_COPY = CLIENT
            probe(CLIENT_COPY)
        """
    ) == ["httpx.Client", "httpx.Client"]


PATHS = {"pathlib.Path.resolve": "pathlib.Path", "pathlib.Path.__truediv__": "pathlib.Path"}


def test_results_follow_methods_and_reassignment() -> None:
    assert classes(
        """\
        from pathlib import Path


        def load(name, flag):
            path = Path(name)
            path = path.resolve() / "data"
            probe(path)
            other = Path(name)
            if flag:
                other = name
            probe(other)
            probe(path.stem)
        """,
        PATHS,
    ) == ["pathlib.Path", None, None]


def test_alternatives_that_agree_give_their_class_and_a_none_literal_is_left_out() -> None:
    assert classes(
        """\
        import httpx
        import requests

        def build(session: requests.Session | None, flag):
            injected = session or requests.Session()
            maybe = httpx.Client() if flag else None
            mixed = httpx.Client() if flag else requests.Session()
            unknown = session or make()
            probe(injected)
            probe(maybe)
            probe(mixed)
            probe(unknown)
        """
    ) == ["requests.Session", "httpx.Client", None, None]


def test_a_with_target_is_what_entering_gives_as_the_results_say() -> None:
    source = """\
        import httpx

        with httpx.Client() as client, open("f") as handle:
            probe(client)
            probe(handle)
        """
    assert classes(source) == [None, None]  # entering is not assumed to give the manager
    entered = {"httpx.Client.__enter__": "httpx.Client"}
    assert classes(source, entered) == ["httpx.Client", None]


def test_a_with_target_still_hides_an_import() -> None:
    assert names(
        """\
        import json

        def load(path):
            with open(path) as json:
                probe(json.load)
        """
    ) == [()]
