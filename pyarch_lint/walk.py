"""One traversal of one module for all enabled rules, pruned to what rules need.

A full LibCST visit costs as much again as the parse (PERF-NOTES.md). Rules here look at
statements, so the walker follows statement containers by their fields and never touches an
expression, except inside `async def` bodies when a rule asks for them (`EXPRESSIONS_IN_ASYNC`).
It also numbers statements and except handlers in source order, which is how `locate` matches
reported nodes to the stdlib `ast` of the same text to give them line numbers cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst

from pyarch_lint.checks.base import Report, Rule, RuleContext

Handler = cst.ExceptHandler | cst.ExceptStarHandler
Statement = cst.BaseSmallStatement | cst.BaseCompoundStatement


@dataclass(frozen=True, slots=True)
class RuleCrash:
    code: str
    rule: str
    error: BaseException


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The statement-level children of a statement container, in source order."""
    if isinstance(node, cst.If | cst.For | cst.While):
        yield node.body
        if node.orelse is not None:
            yield node.orelse
    elif isinstance(node, cst.Try | cst.TryStar):
        yield node.body
        yield from node.handlers
        if node.orelse is not None:
            yield node.orelse
        if node.finalbody is not None:
            yield node.finalbody
    elif isinstance(node, cst.Match):
        yield from node.cases
    elif isinstance(node, cst.Module | cst.IndentedBlock | cst.SimpleStatementSuite):
        yield from node.body
    elif isinstance(node, cst.SimpleStatementLine):
        yield from node.body
    elif not isinstance(node, cst.BaseSmallStatement):
        # FunctionDef, ClassDef, With, Else, Finally, ExceptHandler, ExceptStarHandler, MatchCase
        body = getattr(node, "body", None)
        if isinstance(body, cst.CSTNode):
            yield body


_STATEMENT_LEVEL = (
    cst.BaseSmallStatement,
    cst.BaseCompoundStatement,
    cst.Module,
    cst.IndentedBlock,
    cst.SimpleStatementSuite,
    cst.SimpleStatementLine,
    cst.Else,
    cst.Finally,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.MatchCase,
)

Dispatch = dict[str, list[tuple[Rule, Callable[[cst.CSTNode], object]]]]


class Walker:
    """Walks one module, dispatching to rules, numbering statements, collecting reports."""

    def __init__(
        self,
        rule_types: Sequence[type[Rule]],
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
        rules = [kind(RuleContext(options, self.sink)) for kind in rule_types]
        for rule in rules:
            for method_name, method in rule.get_visitors().items():
                kind, _, node_type = method_name.partition("_")
                table = self._visit if kind == "visit" else self._leave
                table.setdefault(node_type, []).append((rule, method))
                if rule.EXPRESSIONS_IN_ASYNC:
                    deep = self._deep_visit if kind == "visit" else self._deep_leave
                    deep.setdefault(node_type, []).append((rule, method))
        self._deep_enabled = with_async_expressions and bool(self._deep_visit)

    def sink(self, code: str, node: cst.CSTNode, message: str) -> None:
        self.reports.append(Report(code, node, message, self._anchors[-1], self._handler_stack[-1]))

    def walk(self, node: cst.CSTNode) -> None:
        self._enter(node, self._visit)
        if (
            self._deep_enabled
            and isinstance(node, cst.FunctionDef)
            and node.asynchronous is not None
        ):
            node.body.visit(_DeepVisitor(self))
        else:
            for child in _children(node):
                self.walk(child)
        self._exit(node, self._leave)

    def _enter(self, node: cst.CSTNode, table: Dispatch) -> None:
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            self._anchors.append(len(self.statements))
            self.statements.append(node)
        elif isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            self._handler_stack.append(len(self.handlers))
            self.handlers.append(node)
        self._dispatch(table, node)

    def _exit(self, node: cst.CSTNode, table: Dispatch) -> None:
        self._dispatch(table, node)
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            self._anchors.pop()
        elif isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            self._handler_stack.pop()

    def _dispatch(self, table: Dispatch, node: cst.CSTNode) -> None:
        for rule, method in table.get(type(node).__name__, ()):
            try:
                method(node)
            except Exception as error:  # noqa: BLE001 - one broken rule must not stop the others
                self._disable(rule, error)

    def _disable(self, broken: Rule, error: Exception) -> None:
        self.crashes.append(RuleCrash(broken.code, type(broken).__name__, error))
        for table in (self._visit, self._leave, self._deep_visit, self._deep_leave):
            for entries in table.values():
                entries[:] = [(rule, method) for rule, method in entries if rule is not broken]


class _DeepVisitor(cst.CSTVisitor):
    """Inside an async body: statements go to every rule, other nodes to the rules that ask."""

    def __init__(self, walker: Walker) -> None:
        super().__init__()
        self._walker = walker

    def on_visit(self, node: cst.CSTNode) -> bool:
        walker = self._walker
        if isinstance(node, _STATEMENT_LEVEL):
            walker._enter(node, walker._visit)
        else:
            walker._dispatch(walker._deep_visit, node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        walker = self._walker
        if isinstance(original_node, _STATEMENT_LEVEL):
            walker._exit(original_node, walker._leave)
        else:
            walker._dispatch(walker._deep_leave, original_node)
