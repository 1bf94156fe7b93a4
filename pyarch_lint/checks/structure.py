"""PA1xx: nesting and structure. Flat is better than nested.

All three rules count as the walk goes, from statement-level visits alone: a depth per scope
(PA101, reported when the scope ends), a running McCabe score per outermost function (PA102), a
parameter count per `def` header (PA103). None of them re-walks a function body or looks into
an expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from pyarch_lint.checks.annotations import (
    FunctionRule,
    decorator_names,
    is_dummy,
    receiver,
)
from pyarch_lint.checks.base import Rule, RuleContext
from pyarch_lint.checks.options import StructureOptions
from pyarch_lint.findings import Severity

# Statements that open a nested block. Their `else`, `except`, `finally` and `case` clauses are
# at the header's level, and an `elif` (an `If` in the `orelse` of an `If`) is no new level.
Block = cst.If | cst.For | cst.While | cst.With | cst.Try | cst.TryStar | cst.Match


@dataclass(slots=True)
class _Scope:
    """The nesting state of one scope (module, class body or function body)."""

    where: str  # how the message names the scope: "in `f`", "at module level"
    depth: int = 0  # blocks open around the statements being visited
    flagged: bool = False  # the current too-deep block was already counted
    elifs: set[int] = field(default_factory=set)  # ids of `If` nodes that are an `elif`
    first: Block | None = None  # the scope's first block past the limit: where it is reported
    deepest: int = 0
    others: int = 0  # later blocks past the limit, each outside the previous ones


class TooDeepNesting(Rule):
    """One finding per scope, at its first block past the limit, known when the scope ends."""

    CODE = "PA101"
    NAME = "too-deep-nesting"
    SEVERITY = Severity.WARNING
    OPTIONS = StructureOptions
    # Every block opens with one of these keywords (`async for` / `async with` included).
    REQUIRES_ANY = (b"if", b"for", b"while", b"with", b"try", b"match")

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._limit = context.options(StructureOptions).max_nesting_depth
        self._scopes = [_Scope("at module level")]

    def _open(self, node: Block) -> None:
        """Count a block; note it when it is the first past the limit, not what it holds."""
        scope = self._scopes[-1]
        if isinstance(node, cst.If):
            if isinstance(node.orelse, cst.If):
                scope.elifs.add(id(node.orelse))
            if id(node) in scope.elifs:
                return  # same level as its `if`, already counted
        scope.depth += 1
        if scope.depth <= self._limit:
            return
        scope.deepest = max(scope.deepest, scope.depth)
        if not scope.flagged:
            scope.flagged = True
            if scope.first is None:
                scope.first = node
            else:
                scope.others += 1

    def _close(self, node: Block) -> None:
        scope = self._scopes[-1]
        if isinstance(node, cst.If) and id(node) in scope.elifs:
            scope.elifs.discard(id(node))
            return
        scope.depth -= 1
        if scope.depth <= self._limit:
            scope.flagged = False

    def _finish(self) -> None:
        scope = self._scopes.pop()
        if scope.first is None:
            return
        more = ""
        if scope.others:
            blocks = (
                "1 more block passes" if scope.others == 1 else f"{scope.others} more blocks pass"
            )
            more = f"; {blocks} it too {scope.where}"
        self.report(
            scope.first,
            f"Nested {scope.deepest} blocks deep (max-nesting-depth is {self._limit}{more}): "
            "flatten it with guard clauses and early returns, or extract a function",
        )

    def visit_If(self, node: cst.If) -> None:
        self._open(node)

    def leave_If(self, node: cst.If) -> None:
        self._close(node)

    def visit_For(self, node: cst.For) -> None:
        self._open(node)

    def leave_For(self, node: cst.For) -> None:
        self._close(node)

    def visit_While(self, node: cst.While) -> None:
        self._open(node)

    def leave_While(self, node: cst.While) -> None:
        self._close(node)

    def visit_With(self, node: cst.With) -> None:
        self._open(node)

    def leave_With(self, node: cst.With) -> None:
        self._close(node)

    def visit_Try(self, node: cst.Try) -> None:
        self._open(node)

    def leave_Try(self, node: cst.Try) -> None:
        self._close(node)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._open(node)

    def leave_TryStar(self, node: cst.TryStar) -> None:
        self._close(node)

    def visit_Match(self, node: cst.Match) -> None:
        self._open(node)

    def leave_Match(self, node: cst.Match) -> None:
        self._close(node)

    # A def or class starts its own count: its body runs elsewhere, later.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(_Scope(f"in `{node.name.value}`"))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._finish()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(_Scope(f"in class `{node.name.value}`"))

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self._finish()

    def leave_Module(self, node: cst.Module) -> None:
        self._finish()


def _irrefutable(pattern: cst.MatchPattern) -> bool:
    """`case _:` or `case name:` (possibly inside `|` or `as`): matches anything."""
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_irrefutable(element.pattern) for element in pattern.patterns)
    return False


class TooComplex(Rule):
    """McCabe complexity as the `mccabe` package (flake8's C901) computes it.

    mccabe builds a graph per outermost function; its score, edges - nodes + 2, is one plus: one
    per `if`/`elif`, `for`, `while`; one per `try` plus one per `except`; one per nested def
    (whose own branches count toward the outer function). `with`, `else`, boolean operators,
    comprehensions and lambdas add nothing. Those sums are kept here as the walk passes.
    """

    CODE = "PA102"
    NAME = "too-complex"
    SEVERITY = Severity.WARNING
    OPTIONS = StructureOptions

    REQUIRES_ANY = (b"def",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._limit = context.options(StructureOptions).max_complexity
        self._owner: cst.FunctionDef | None = None  # the outermost def around the walk
        self._score = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._owner is None:
            self._owner = node
            self._score = 1
        else:
            self._score += 1  # mccabe: a closure is one more path through its outer function

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node is not self._owner:
            return
        self._owner = None
        if self._score > self._limit:
            self.report(
                node,
                f"`{node.name.value}` is too complex: McCabe complexity "
                f"{self._score} (max-complexity is {self._limit}); split it into smaller "
                "functions or replace branches with a lookup table",
            )

    def visit_If(self, node: cst.If) -> None:
        self._score += 1

    def visit_For(self, node: cst.For) -> None:
        self._score += 1

    def visit_While(self, node: cst.While) -> None:
        self._score += 1

    def visit_Try(self, node: cst.Try) -> None:
        self._score += 1 + len(node.handlers)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._score += 1 + len(node.handlers)

    def visit_Match(self, node: cst.Match) -> None:
        # One path per case, plus a fall-through unless the last case catches everything:
        # the way mccabe scores an if/elif chain with or without its `else`.
        last = node.cases[-1]
        catch_all = last.guard is None and _irrefutable(last.pattern)
        self._score += len(node.cases) - (1 if catch_all else 0)


class TooManyParameters(FunctionRule):
    """Positional parameters are what a caller has to get right in order; keyword-only ones
    are the cure for a long signature, and count only when `count-keyword-only` says so."""

    CODE = "PA103"
    NAME = "too-many-parameters"
    SEVERITY = Severity.WARNING
    OPTIONS = StructureOptions
    REQUIRES_ANY = (b"def",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        options = context.options(StructureOptions)
        self._limit = options.max_parameters
        self._keyword_only = options.count_keyword_only
        entry_points = options.entry_point_decorators
        self._entry_points = frozenset(n for n in entry_points if not n.startswith("*."))
        self._entry_point_attributes = frozenset(
            n.removeprefix("*.") for n in entry_points if n.startswith("*.")
        )

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        params = node.params
        counted = [*params.posonly_params, *params.params]
        if self._keyword_only:
            counted += params.kwonly_params
        if len(counted) <= self._limit:
            return
        decorators = decorator_names(node)
        if decorators & {"overload", "override"}:
            return  # the implementation, or the base class, is where the signature is decided
        if self._is_entry_point(node):
            return
        implicit = receiver(node, in_class, decorators)
        count = sum(1 for p in counted if p is not implicit and not is_dummy(p.name.value))
        if count > self._limit:
            kind = "parameters" if self._keyword_only else "positional parameters"
            self.report(
                node,
                f"`{node.name.value}` takes {count} {kind} (max-parameters is {self._limit}): "
                "group related ones into a parameter object, make the optional ones "
                "keyword-only, or inject a collaborator that owns them",
            )

    def _is_entry_point(self, node: cst.FunctionDef) -> bool:
        """Does a decorator hand the function to a framework that passes its parameters
        (`@click.command()`, `@app.command()`, `@pytest.fixture`)?"""
        for decorator in node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                expression = expression.func
            if (
                isinstance(expression, cst.Attribute)
                and expression.attr.value in self._entry_point_attributes
            ):
                return True
            if any(
                name in self._entry_points for name in self.semantic.qualified_names(expression)
            ):
                return True
        return False
