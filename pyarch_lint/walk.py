"""One traversal of one module for all enabled rules, pruned to what rules need.

A full LibCST visit costs as much again as the parse (PERF-NOTES.md). Rules here look at
statements, so the walker follows statement containers by their fields and never touches an
expression, except inside `async def` bodies when a rule asks for them (`EXPRESSIONS_IN_ASYNC`).
It also numbers statements and except handlers in source order, which is how `locate` matches
reported nodes to the stdlib `ast` of the same text to give them line numbers cheaply.

This is the per-file hot path: tables are keyed by node type and built once per rule class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst

from pyarch_lint.checks.base import Handler, Report, Rule, RuleContext, Statement


@dataclass(frozen=True, slots=True)
class RuleCrash:
    code: str
    rule: str
    error: BaseException


def _concrete(base: type) -> frozenset[type]:
    # `base in __mro__`, not issubclass: LibCST's bases are ABCs, and their first subclass checks
    # over the module's 255 names cost a sixtieth of a second, which every run would pay.
    found = (getattr(cst, name) for name in dir(cst))
    return frozenset(k for k in found if isinstance(k, type) and base in k.__mro__)


_STATEMENTS = _concrete(cst.BaseSmallStatement) | _concrete(cst.BaseCompoundStatement)
_HANDLERS = frozenset({cst.ExceptHandler, cst.ExceptStarHandler})

# The fields holding statement-level children, in source order, for each container type.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    cst.Module: ("body",),
    cst.IndentedBlock: ("body",),
    cst.SimpleStatementSuite: ("body",),
    cst.SimpleStatementLine: ("body",),
    cst.If: ("body", "orelse"),
    cst.For: ("body", "orelse"),
    cst.While: ("body", "orelse"),
    cst.Try: ("body", "handlers", "orelse", "finalbody"),
    cst.TryStar: ("body", "handlers", "orelse", "finalbody"),
    cst.Match: ("cases",),
    cst.FunctionDef: ("body",),
    cst.ClassDef: ("body",),
    cst.With: ("body",),
    cst.Else: ("body",),
    cst.Finally: ("body",),
    cst.ExceptHandler: ("body",),
    cst.ExceptStarHandler: ("body",),
    cst.MatchCase: ("body",),
}
_STATEMENT_LEVEL = _STATEMENTS | frozenset(_CHILD_FIELDS)


@functools.cache
def _visitor_names(kind: type[Rule]) -> tuple[tuple[str, type, str], ...]:
    """(method name, node type, visit|leave) for each method a rule class defines. LibCST's base
    class has a no-op for every node type; found once per class rather than once per file."""
    names = []
    for name in dir(kind):
        if not name.startswith(("visit_", "leave_")):
            continue
        if getattr(kind, name) is getattr(Rule, name, None):
            continue
        what, _, node_name = name.partition("_")
        node_type = getattr(cst, node_name, None)
        if isinstance(node_type, type):
            names.append((name, node_type, what))
    return tuple(names)


Dispatch = dict[type, list[tuple[Rule, Callable[[Any], object]]]]


class Walker:
    """Walks one module, dispatching to rules, numbering statements, collecting reports."""

    def __init__(
        self,
        rules: Sequence[tuple[str, type[Rule]]],
        options: dict[type[Any], Any],
        with_async_expressions: bool,
    ) -> None:
        self.statements: list[Statement] = []
        self.handlers: list[Handler] = []
        self.reports: list[Report] = []
        self.crashes: list[RuleCrash] = []
        self._anchors: list[int] = [-1]
        self._handler_stack: list[int] = [-1]
        self._visit: Dispatch = {}
        self._leave: Dispatch = {}
        self._deep_visit: Dispatch = {}
        self._deep_leave: Dispatch = {}
        for code, kind in rules:
            rule = kind(RuleContext(code, options, self.sink))
            for method_name, node_type, what in _visitor_names(kind):
                method = getattr(rule, method_name)
                table = self._visit if what == "visit" else self._leave
                table.setdefault(node_type, []).append((rule, method))
                if kind.EXPRESSIONS_IN_ASYNC:
                    deep = self._deep_visit if what == "visit" else self._deep_leave
                    deep.setdefault(node_type, []).append((rule, method))
        self._deep_enabled = with_async_expressions and bool(self._deep_visit)

    def sink(self, code: str, node: cst.CSTNode, message: str) -> None:
        self.reports.append(Report(code, node, message, self._anchors[-1], self._handler_stack[-1]))

    def walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        self._enter(node, kind, self._visit)
        if self._deep_enabled and kind is cst.FunctionDef and node.asynchronous is not None:  # type: ignore[attr-defined]
            node.body.visit(_DeepVisitor(self))  # type: ignore[attr-defined]
        else:
            for field in _CHILD_FIELDS.get(kind, ()):
                value = getattr(node, field)
                if isinstance(value, tuple | list):
                    for child in value:
                        self.walk(child)
                elif value is not None:
                    self.walk(value)
        self._exit(node, kind, self._leave)

    def _enter(self, node: cst.CSTNode, kind: type, table: Dispatch) -> None:
        if kind in _STATEMENTS:
            self._anchors.append(len(self.statements))
            self.statements.append(node)  # type: ignore[arg-type]
        elif kind in _HANDLERS:
            self._handler_stack.append(len(self.handlers))
            self.handlers.append(node)  # type: ignore[arg-type]
        methods = table.get(kind)
        if methods:
            self._dispatch(methods, node)

    def _exit(self, node: cst.CSTNode, kind: type, table: Dispatch) -> None:
        methods = table.get(kind)
        if methods:
            self._dispatch(methods, node)
        if kind in _STATEMENTS:
            self._anchors.pop()
        elif kind in _HANDLERS:
            self._handler_stack.pop()

    def _dispatch(
        self, methods: list[tuple[Rule, Callable[[Any], object]]], node: cst.CSTNode
    ) -> None:
        for rule, method in tuple(methods):
            try:
                method(node)
            except Exception as error:  # one broken rule must not stop the others
                self._disable(rule, error)

    def _disable(self, broken: Rule, error: Exception) -> None:
        self.crashes.append(RuleCrash(broken.context.code, type(broken).__name__, error))
        for table in (self._visit, self._leave, self._deep_visit, self._deep_leave):
            # New lists, not in-place edits: `_dispatch` may be iterating the old one right now,
            # and shrinking it under the loop would skip the next rule for this node.
            for node_type, entries in table.items():
                table[node_type] = [
                    (rule, method) for rule, method in entries if rule is not broken
                ]


class _DeepVisitor(cst.CSTVisitor):
    """Inside an async body: statements go to every rule, other nodes to the rules that ask."""

    def __init__(self, walker: Walker) -> None:
        super().__init__()
        self._walker = walker

    def on_visit(self, node: cst.CSTNode) -> bool:
        walker, kind = self._walker, type(node)
        if kind in _STATEMENT_LEVEL:
            walker._enter(node, kind, walker._visit)
        else:
            methods = walker._deep_visit.get(kind)
            if methods:
                walker._dispatch(methods, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        walker, kind = self._walker, type(original_node)
        if kind in _STATEMENT_LEVEL:
            walker._exit(original_node, kind, walker._leave)
        else:
            methods = walker._deep_leave.get(kind)
            if methods:
                walker._dispatch(methods, original_node)
