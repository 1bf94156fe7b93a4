"""One traversal of one module for all applicable rules, keeping the contract of `checks.base`.

A LibCST visit rebuilds every node it passes and costs as much again as the parse. This walker
reads node fields itself, in source order, and follows only the fields that can lead to a node
some rule hooks, or to a statement: in a file whose rules hook statements alone, expressions are
never entered; where one rule hooks `Call`, every call in the module is reached. Which fields can
lead where is worked out from LibCST's own field annotations, once per set of hooked types.

It numbers statements and except handlers in source order, which is how `locate` matches
reported nodes to the stdlib `ast` of the same text to give them line numbers cheaply, and it
keeps the file's `SemanticModel` in step: a scope opens at a function's, class's or lambda's body
and around a comprehension.

This is the per-file hot path: everything keyed by node type is built once per process.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst

from pyarch_lint.checks.base import (
    NODE_TYPES,
    Fix,
    Handler,
    Report,
    Rule,
    RuleContext,
    Statement,
    is_concrete,
    rule_hooks,
)
from pyarch_lint.semantics import SemanticModel


@dataclass(frozen=True, slots=True)
class RuleCrash:
    code: str
    rule: str
    error: BaseException


_CONCRETE = tuple(kind for kind in NODE_TYPES.values() if is_concrete(kind))


@functools.cache
def _subtypes(kind: type) -> frozenset[type]:
    return frozenset(k for k in _CONCRETE if kind in k.__mro__)


_STATEMENTS = _subtypes(cst.BaseSmallStatement) | _subtypes(cst.BaseCompoundStatement)
_HANDLERS = frozenset({cst.ExceptHandler, cst.ExceptStarHandler})
_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp})
# Nodes whose scope opens at their `body` field.
_BODY_SCOPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
# Nodes the walker itself marks as it passes: numbered, or opening a scope around themselves.
_MARKED = _STATEMENTS | _HANDLERS | _COMPREHENSIONS


def _hinted(hint: object) -> Iterable[type]:
    """The node classes a field annotation allows (`Sequence[Union[A, "B"]]` -> A, B). Read
    from the annotation objects as LibCST wrote them, forward references by name: evaluating
    them with `typing.get_type_hints` costs six times as much (a test compares the two)."""
    if isinstance(hint, typing.ForwardRef):
        hint = hint.__forward_arg__
    if isinstance(hint, str):
        hint = NODE_TYPES.get(hint)
    if isinstance(hint, type):
        if cst.CSTNode in hint.__mro__:
            yield hint
        return
    for argument in typing.get_args(hint):
        yield from _hinted(argument)


def _source_order(kind: type[cst.CSTNode]) -> list[str]:
    """A node's fields in the order its source text has them (the dataclass order differs:
    `Call` declares `func` before `lpar`). LibCST's own child visit passes each field's name
    to its `visit_*` helpers in that order, so the names among its code's constants give it
    (a test compares the walk with LibCST's own visit); fields it does not visit come last."""
    names = [f.name for f in dataclasses.fields(kind)]
    constants = kind._visit_and_replace_children.__code__.co_consts
    ordered = [c for c in constants if isinstance(c, str) and c in names]
    return ordered + [name for name in names if name not in ordered]


@functools.cache
def _fields() -> dict[type, tuple[tuple[str, frozenset[type]], ...]]:
    """Per node type: its fields that can hold nodes, in source order, with the concrete node
    types each can hold."""
    table = {}
    for kind in _CONCRETE:
        hints = {field.name: field.type for field in dataclasses.fields(kind)}
        fields = []
        for name in _source_order(kind):
            held = frozenset(k for hinted in _hinted(hints[name]) for k in _subtypes(hinted))
            if held:
                fields.append((name, held))
        table[kind] = tuple(fields)
    return table


@functools.cache
def _holders() -> dict[type, frozenset[type]]:
    """Per node type: the node types with a field that can hold it."""
    holders: dict[type, set[type]] = {kind: set() for kind in _CONCRETE}
    for kind, fields in _fields().items():
        for _, held in fields:
            for child in held:
                holders[child].add(kind)
    return {kind: frozenset(found) for kind, found in holders.items()}


@functools.cache
def _plan(targets: frozenset[type]) -> dict[type, tuple[str, ...]]:
    """The fields to follow in each node type that is a target or can hold one at any depth;
    a node type missing here is neither, and the walk does not enter it."""
    holders = _holders()
    leads = set(targets)
    pending = list(targets)
    while pending:
        for holder in holders[pending.pop()] - leads:
            leads.add(holder)
            pending.append(holder)
    fields = _fields()
    return {kind: tuple(name for name, held in fields[kind] if held & leads) for kind in leads}


def descendants(
    node: cst.CSTNode, kinds: frozenset[type[cst.CSTNode]], opaque: frozenset[type[cst.CSTNode]]
) -> Iterator[cst.CSTNode]:
    """The nodes of `kinds` below `node` in source order, not looking inside `opaque` ones:
    the walker's field plan, thirty times cheaper than recursing through `node.children`."""
    plan = _plan(kinds)

    def below(parent: cst.CSTNode) -> Iterator[cst.CSTNode]:
        for name in plan.get(type(parent), ()):
            value = getattr(parent, name)
            for child in value if isinstance(value, tuple | list) else (value,):
                kind = type(child)
                if kind in kinds:
                    yield child
                if kind not in opaque:
                    yield from below(child)

    return below(node)


Dispatch = dict[type, list[tuple[Rule, Callable[[Any], object]]]]


class Walker:
    """Walks one module, dispatching to rules, numbering statements, collecting reports."""

    def __init__(
        self,
        module: cst.Module,
        rules: Sequence[tuple[str, type[Rule]]],
        options: dict[type[Any], Any],
        path: str = "",
    ) -> None:
        self.module = module
        self.semantic = SemanticModel(module)
        self.statements: list[Statement] = []
        self.handlers: list[Handler] = []
        self.reports: list[Report] = []
        self.crashes: list[RuleCrash] = []
        self._anchors: list[int] = [-1]
        self._open = self.semantic.statements
        self._handler_stack: list[int] = [-1]
        self._visit: Dispatch = {}
        self._leave: Dispatch = {}
        # Rules whose visit returned False, and the node whose children they skip.
        self._skipping: dict[Rule, cst.CSTNode] = {}
        targets = set(_STATEMENTS | _HANDLERS)
        for code, kind in rules:
            context = RuleContext(
                code, options, self.semantic, self.place, self.reports.append, path=path
            )
            rule = kind(context)
            for hook in rule_hooks(kind):
                table = self._visit if hook.visit else self._leave
                table.setdefault(hook.node_type, []).append((rule, getattr(rule, hook.method)))
                targets.add(hook.node_type)
        self._fields = _plan(frozenset(targets))

    def place(self, code: str, node: cst.CSTNode, message: str, fix: Fix | None) -> Report:
        return Report(code, node, message, self._anchors[-1], self._handler_stack[-1], fix)

    def walk(self) -> None:
        self._walk(self.module)

    def _walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        fields = self._fields.get(kind)
        if fields is None:  # not a node, or one that leads to nothing hooked
            return
        marked = kind in _MARKED
        if marked:
            self._enter(node, kind)
        hooks = self._visit.get(kind)
        if hooks:
            self._dispatch(hooks, node, visiting=True)
        if fields:
            self._walk_fields(node, kind, fields)
        if self._skipping:
            for rule in [r for r, root in self._skipping.items() if root is node]:
                del self._skipping[rule]
        hooks = self._leave.get(kind)
        if hooks:
            self._dispatch(hooks, node, visiting=False)
        if marked:
            self._exit(kind)

    def _walk_fields(self, node: cst.CSTNode, kind: type, fields: tuple[str, ...]) -> None:
        scoped = kind in _BODY_SCOPES
        for name in fields:
            value = getattr(node, name)
            if scoped and name == "body":
                self.semantic.push(node)  # type: ignore[arg-type]
                self._walk(value)
                self.semantic.pop()
            elif isinstance(value, tuple | list):
                for child in value:
                    self._walk(child)
            else:
                self._walk(value)

    def _enter(self, node: cst.CSTNode, kind: type) -> None:
        if kind in _STATEMENTS:
            self._anchors.append(len(self.statements))
            self.statements.append(node)  # type: ignore[arg-type]
            self._open.append(node)
        elif kind in _HANDLERS:
            self._handler_stack.append(len(self.handlers))
            self.handlers.append(node)  # type: ignore[arg-type]
        else:
            self.semantic.push(node)  # type: ignore[arg-type]

    def _exit(self, kind: type) -> None:
        if kind in _STATEMENTS:
            self._anchors.pop()
            self._open.pop()
        elif kind in _HANDLERS:
            self._handler_stack.pop()
        else:
            self.semantic.pop()

    def _dispatch(
        self,
        hooks: list[tuple[Rule, Callable[[Any], object]]],
        node: cst.CSTNode,
        visiting: bool,
    ) -> None:
        """Each rule's hook for `node`, but for rules skipping this subtree. A visit hook that
        returns False starts skipping, for its rule alone, until `node` is left."""
        skipping = self._skipping
        for rule, method in hooks:
            if skipping and rule in skipping:
                continue
            try:
                if method(node) is False and visiting:
                    skipping[rule] = node
            except Exception as error:  # one broken rule must not stop the others
                self._disable(rule, error)

    def _disable(self, broken: Rule, error: Exception) -> None:
        self.crashes.append(RuleCrash(broken.context.code, type(broken).__name__, error))
        self._skipping.pop(broken, None)
        for table in (self._visit, self._leave):
            # New lists, not in-place edits: a dispatch may be iterating the old one right now,
            # and shrinking it under the loop would skip the next rule for this node.
            for node_type, entries in table.items():
                table[node_type] = [
                    (rule, method) for rule, method in entries if rule is not broken
                ]
