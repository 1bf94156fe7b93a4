"""The rule contract the walker keeps (`checks.base`): every node of a hooked type, in source
order; `return False` skips children for that rule only; anything else refused when a rule is
loaded, naming the hook."""

from __future__ import annotations

import ast
import dataclasses
import textwrap
import typing
from pathlib import Path
from typing import Any, ClassVar

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from pyarch_lint import walk
from pyarch_lint.checks.base import NODE_TYPES, InvalidRuleError, Rule, is_concrete, rule_hooks
from pyarch_lint.checks.registry import BUILTIN_RULES, load_rule_class
from pyarch_lint.walk import Walker

REPO = Path(__file__).resolve().parent.parent

EVERYWHERE = """\
import functools

setup(1)


@functools.cache
@register(name=lookup("x"))
def sync(a=default(), *, b=other()) -> annotate():
    inner(a)
    return [item(x) for x in values()]


class Holder(Base, metaclass=meta()):
    attribute = build()

    async def method(self, callback=lambda: deferred()):
        await fetch(self)
        handler = lambda value: transform(value)

        def nested():
            return f"{formatted()}"

        return handler


print(len(str(Holder)))
"""


def _walk(source: str, *rules: type[Rule]) -> Walker:
    walker = Walker(cst.parse_module(source), [(f"PA99{i}", r) for i, r in enumerate(rules)], {})
    walker.walk()
    assert not walker.crashes, walker.crashes
    return walker


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


class CallsAndFunctions(Rule):
    seen: ClassVar[list[str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.seen.append(f"call {_code(node.func)}")

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.seen.append(f"def {node.name.value}")


def test_a_rule_receives_every_call_and_every_function() -> None:
    CallsAndFunctions.seen = []
    _walk(EVERYWHERE, CallsAndFunctions)
    tree = ast.parse(EVERYWHERE)
    calls = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    expected_calls = [f"call {ast.get_source_segment(EVERYWHERE, c.func)}" for c in calls]
    received_calls = [s for s in CallsAndFunctions.seen if s.startswith("call")]
    assert received_calls == expected_calls  # all of them, in source order
    functions = [s for s in CallsAndFunctions.seen if s.startswith("def")]
    assert functions == ["def sync", "def nested", "def method"]  # leaves: inner ones first


class SkipsFunctions(Rule):
    seen: ClassVar[list[str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.seen.append(f"visit {node.name.value}")
        return False

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.seen.append(f"leave {node.name.value}")

    def visit_Call(self, node: cst.Call) -> None:
        self.seen.append(f"call {_code(node.func)}")


def test_returning_false_skips_the_children_for_that_rule_only() -> None:
    SkipsFunctions.seen, CallsAndFunctions.seen = [], []
    _walk(EVERYWHERE, SkipsFunctions, CallsAndFunctions)
    assert SkipsFunctions.seen == [
        "call setup",
        "visit sync",
        "leave sync",
        "call meta",
        "call build",
        "visit method",
        "leave method",
        "call print",
        "call len",
        "call str",
    ]
    # The other rule still sees what is inside the skipped functions.
    assert "call inner" in CallsAndFunctions.seen
    assert "call formatted" in CallsAndFunctions.seen


def _every_node_type() -> type[Rule]:
    def record(self: Any, node: cst.CSTNode) -> None:
        self.seen.append(node)

    hooks = {f"visit_{name}": record for name, kind in NODE_TYPES.items() if is_concrete(kind)}
    return type("EveryNode", (Rule,), {"seen": [], **hooks})


class _Everything(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.seen.append(node)
        return True


@pytest.mark.parametrize(
    "path",
    [
        *sorted((REPO / "pyarch_lint").rglob("*.py")),
        *sorted((REPO / "tests" / "fixtures" / "rules").glob("*.py")),
    ],
    ids=lambda path: path.name,
)
def test_the_walk_meets_every_node_in_libcsts_own_order(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())
    rule = _every_node_type()
    walker = Walker(module, [("PA999", rule)], {})
    walker.walk()
    libcst_visit = _Everything()
    module.visit(libcst_visit)
    assert [id(n) for n in rule.seen] == [id(n) for n in libcst_visit.seen]  # type: ignore[attr-defined]


def test_field_types_are_read_as_the_evaluated_annotations_give_them() -> None:
    for kind, fields in walk._fields().items():
        hints = typing.get_type_hints(kind)
        for name, held in fields:
            evaluated = {
                node_type
                for node_type in walk._CONCRETE
                if any(base in node_type.__mro__ for base in _classes(hints[name]))
            }
            assert held == evaluated, (kind, name)


def _classes(hint: object) -> list[type]:
    if isinstance(hint, type):
        return [hint]
    return [found for argument in typing.get_args(hint) for found in _classes(argument)]


def test_a_statement_hook_receives_the_statements_of_every_body() -> None:
    # A rule hooking only statements receives them in every kind of body.
    class Returns(Rule):
        seen: ClassVar[list[str]] = []

        def visit_Return(self, node: cst.Return) -> None:
            self.seen.append(_code(node))

    _walk(EVERYWHERE, Returns)
    assert Returns.seen == [
        "return [item(x) for x in values()]",
        'return f"{formatted()}"',
        "return handler",
    ]


class _Base(Rule):
    pass


def _rule(**members: object) -> type[Rule]:
    return type("Broken", (_Base,), members)


def _call(self: Rule, node: cst.Call) -> None:
    self.report(node, "x")


def _uses_metadata(self: Any, node: cst.Call) -> None:
    self.get_metadata(PositionProvider, node)


def _two_arguments(self: Rule, original_node: cst.Call, updated_node: cst.Call) -> None:
    pass


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"visit_Cal": _call}, "visit_Cal names no LibCST node type"),
        ({"visit_Call_func": _call}, "visit_Call_func is an attribute hook"),
        ({"leave_Call": _two_arguments}, "leave_Call must take one node"),
        ({"visit_BaseExpression": _call}, "visit_BaseExpression names the abstract"),
        ({"METADATA_DEPENDENCIES": (PositionProvider,)}, "METADATA_DEPENDENCIES"),
        ({"visit_Call": _uses_metadata}, "visit_Call calls get_metadata"),
        ({"on_visit": _call}, "defines on_visit"),
        ({"visit_Call": None}, "visit_Call is not a method"),
    ],
)
def test_a_hook_the_walker_does_not_give_is_refused_at_load(
    members: dict[str, object], words: str
) -> None:
    broken = _rule(**members)
    with pytest.raises(InvalidRuleError, match="Broken") as refused:
        rule_hooks(broken)
    assert words in str(refused.value)


def test_a_libcst_visitor_subclass_is_refused() -> None:
    mixed = type("Mixed", (Rule, cst.CSTVisitor), {})
    with pytest.raises(InvalidRuleError, match="inherits a LibCST visitor"):
        rule_hooks(mixed)


class AttributeHook(Rule):
    def visit_Call_func(self, node: cst.Call) -> None:
        pass


def test_loading_a_rule_checks_its_hooks() -> None:
    info = dataclasses.replace(BUILTIN_RULES[0], rule_class=f"{__name__}:AttributeHook")
    with pytest.raises(InvalidRuleError, match=r"AttributeHook: visit_Call_func"):
        load_rule_class(info)


def test_decorators_and_defaults_of_a_nested_def_run_in_the_async_body() -> None:
    source = textwrap.dedent(
        """\
        async def outer():
            @decorate(first())
            def inner(value=second()):
                third()

            handler = lambda value=fourth(): fifth()
            [sixth() for _ in range(2)]
        """
    )

    class InAsync(Rule):
        seen: ClassVar[list[tuple[str, bool]]] = []

        def visit_Call(self, node: cst.Call) -> None:
            self.seen.append((_code(node.func), self.semantic.in_async_body()))

    _walk(source, InAsync)
    assert InAsync.seen == [
        ("decorate", True),
        ("first", True),
        ("second", True),
        ("third", False),
        ("fourth", True),
        ("fifth", False),
        ("sixth", True),
        ("range", True),
    ]
