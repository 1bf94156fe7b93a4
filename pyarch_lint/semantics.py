"""Names and simple types, one model per file shared by every rule, its scope kept by the walker.

Scopes: the module, class bodies, function bodies, lambda bodies and comprehensions. A
function's, class's or lambda's scope opens at its body: decorators, default values and
annotations run in the enclosing scope. Class bodies do not enclose the code inside them, as in
Python.

A scope's bindings are collected lazily, the first time a name is looked up in it, from that
scope's statements: imports (with aliases; `from typing import *` too), assignments,
parameters, loop, `with` and `except` targets, nested `def`/`class` names, `global`/`nonlocal`
declarations. A file where no rule asks computes nothing; this is also why LibCST's
QualifiedNameProvider is not used (its scope analysis of every file costs several parses).

Which bindings a name means: code in an enclosing scope's body runs later, so there every binding
of the scope counts (an import below the function that uses it, or in both branches of a `try`).
In the scope the code runs in, the bindings above it count, from the last one made directly in
the scope's body (not inside a block, so it surely ran) on: `from typing import Any`, then
`class Any: ...` below, means the class from there on. A name bound only below its use there
falls back to every binding. Imports win over other bindings of the same name
(`except ImportError: json = None`).

The type facts are the ones the code shows: a value built by a call (`httpx.Client()` is an
`httpx.Client`), an annotation (`requests.Session | None`, `Optional[...]`, a string), a name
bound in an enclosing scope or at module level, `self.x` assigned in any method of the class or
declared in its body, alternatives that agree (`session or requests.Session()`), and a `with`
target when the caller says entering the manager gives the manager itself. In the face of
ambiguity (two bindings that disagree, an import, a loop target) there is no fact.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import libcst as cst


class ScopeKind(enum.Enum):
    MODULE = "module"
    FUNCTION = "function"
    ASYNC_FUNCTION = "async function"
    CLASS = "class"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


_FUNCTIONS = frozenset({ScopeKind.FUNCTION, ScopeKind.ASYNC_FUNCTION})

Comprehension = cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp
ScopeOwner = cst.Module | cst.FunctionDef | cst.ClassDef | cst.Lambda | Comprehension


class Bound(enum.Enum):
    """How a value binding gives its name a type."""

    ASSIGNED = "assigned"  # `name = value`: the type of the value
    ANNOTATED = "annotated"  # `name: Ann`, an annotated parameter: the class the annotation names
    ENTERED = "entered"  # `with manager as name`: what entering the manager gives (`results`)


@dataclass(slots=True)
class Binding:
    """One name (or `self` attribute) bound by one statement, or all of its bindings merged."""

    # Qualified names from absolute imports, in source order (so messages are deterministic).
    imports: list[str] = field(default_factory=list)
    # (how, expression, the statement it is evaluated at): `name = value`, `name: Ann` and
    # annotated parameters, `with manager as name`.
    values: list[tuple[Bound, cst.BaseExpression, cst.CSTNode | None]] = field(default_factory=list)
    opaque: bool = False  # bound in a way not followed: loop target, def, relative import...
    position: int = -1  # of its statement among the scope's statements (-1: a parameter)
    unconditional: bool = True  # made directly in the scope's body, not inside a block


def _merged(bindings: Sequence[Binding]) -> Binding:
    if len(bindings) == 1:
        return bindings[0]
    merged = Binding()
    for binding in bindings:
        merged.imports += [name for name in binding.imports if name not in merged.imports]
        merged.values += binding.values
        merged.opaque = merged.opaque or binding.opaque
    return merged


# A star import binds the names its module exports, known here for `typing` alone (and
# `typing_extensions`, which re-exports them); any other star import binds nothing we follow.
_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_TYPING_EXPORTS = frozenset(typing.__all__)


class _Table:
    """Collects the bindings of one scope's names from its statements, in source order."""

    def __init__(self) -> None:
        self.names: dict[str, list[Binding]] = {}
        self.declared: set[str] = set()  # `global` / `nonlocal`: bound elsewhere
        self.stars: list[tuple[str, int, bool]] = []  # `from typing import *`: where, surely
        self.positions: dict[int, int] = {}  # id of each statement -> its position
        self._statement: cst.CSTNode | None = None
        self._depth = 0  # blocks open around the statement being read

    def at(self, statement: cst.CSTNode) -> None:
        self._statement = statement
        self.positions[id(statement)] = len(self.positions)

    def _new(self, key: str) -> Binding:
        binding = Binding(position=len(self.positions) - 1, unconditional=self._depth == 0)
        self.names.setdefault(key, []).append(binding)
        return binding

    def key(self, target: cst.BaseExpression) -> str | None:
        """The key an assignment to `target` binds, if this table tracks it."""
        return target.value if isinstance(target, cst.Name) else None

    def name(self, name: str) -> None:
        """A name bound by something not followed: a def, a class, a relative import."""
        self._new(name).opaque = True

    def imported(self, name: str, qualified: str) -> None:
        self._new(name).imports.append(qualified)

    def star(self, module: str) -> None:
        if module in _TYPING_MODULES:
            self.stars.append((module, len(self.positions) - 1, self._depth == 0))

    def assigned(
        self, target: cst.BaseExpression, how: Bound, expression: cst.BaseExpression
    ) -> None:
        key = self.key(target)
        if key is None:
            self.target(target)
        else:
            self._new(key).values.append((how, expression, self._statement))

    def target(self, node: cst.BaseExpression) -> None:
        """What an assignment target not followed binds (`for a, *b in ...`)."""
        key = self.key(node)
        if key is not None:
            self._new(key).opaque = True
        elif isinstance(node, cst.Tuple | cst.List):
            for element in node.elements:
                self.target(element.value)
        elif isinstance(node, cst.StarredElement):
            self.target(node.value)

    def block(self, suite: cst.BaseSuite) -> None:
        self._depth += 1
        _bind_suite(suite, self)
        self._depth -= 1

    def parameters(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.annotation is not None:
                binding = self._new(param.name.value)
                binding.values.append((Bound.ANNOTATED, param.annotation.annotation, None))
            else:
                self.name(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.name(star.name.value)

    def result(self) -> dict[str, list[Binding]]:
        for name in self.declared:
            self.names.pop(name, None)
        return self.names


class _AttributeTable(_Table):
    """Collects a method's assignments to `self.<attribute>` (the receiver whatever its name);
    the method's own names are another table's business."""

    def __init__(self, receiver: str) -> None:
        super().__init__()
        self._receiver = receiver

    def key(self, target: cst.BaseExpression) -> str | None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self._receiver
        ):
            return target.attr.value
        return None

    def name(self, name: str) -> None:
        pass

    def imported(self, name: str, qualified: str) -> None:
        pass


def target_parts(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The expressions an assignment, `for` or `del` target writes to (`a, (b, *c[k]) = ...`
    gives `a`, `b` and `c[k]`)."""
    if isinstance(node, cst.Tuple | cst.List):
        for element in node.elements:
            yield from target_parts(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from target_parts(node.value)
    else:
        yield node


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _bind_small(statement: cst.BaseSmallStatement, table: _Table) -> None:
    table.at(statement)
    if isinstance(statement, cst.Import):
        _bind_import(statement, table)
    elif isinstance(statement, cst.ImportFrom):
        _bind_import_from(statement, table)
    elif isinstance(statement, cst.Assign):
        for target in statement.targets:
            table.assigned(target.target, Bound.ASSIGNED, statement.value)
    elif isinstance(statement, cst.AnnAssign):
        table.assigned(statement.target, Bound.ANNOTATED, statement.annotation.annotation)
    elif isinstance(statement, cst.AugAssign):
        # `path /= "sub"` keeps a Path a Path; any other operator is not followed.
        if not isinstance(statement.operator, cst.DivideAssign):
            table.target(statement.target)
    elif isinstance(statement, cst.Global | cst.Nonlocal):
        table.declared.update(item.name.value for item in statement.names)


def _bind_import(statement: cst.Import, table: _Table) -> None:
    for alias in statement.names:
        full = dotted(alias.name)
        if full is None:
            continue
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            table.imported(alias.asname.name.value, full)
        else:  # `import urllib.request` binds `urllib`
            head = full.partition(".")[0]
            table.imported(head, head)


def _bind_import_from(statement: cst.ImportFrom, table: _Table) -> None:
    module = None if statement.relative or statement.module is None else dotted(statement.module)
    if isinstance(statement.names, cst.ImportStar):
        if module is not None:
            table.star(module)
        return
    for alias in statement.names:
        if not isinstance(alias.name, cst.Name):
            continue
        local = alias.name.value
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        if module is None:  # a relative import still binds (and shadows) the name
            table.name(local)
        else:
            table.imported(local, f"{module}.{alias.name.value}")


def _bind_suite(suite: cst.BaseSuite, table: _Table) -> None:
    if isinstance(suite, cst.SimpleStatementSuite):
        for small in suite.body:
            _bind_small(small, table)
    elif isinstance(suite, cst.IndentedBlock):
        _bind_statements(suite.body, table)


def _bind_statements(statements: Sequence[cst.BaseStatement], table: _Table) -> None:
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _bind_small(small, table)
        elif isinstance(statement, cst.BaseCompoundStatement):
            _bind_compound(statement, table)


def _bind_compound(statement: cst.BaseCompoundStatement, table: _Table) -> None:
    table.at(statement)
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        table.name(statement.name.value)  # its body is another scope
        return
    if isinstance(statement, cst.Match):
        for case in statement.cases:
            table.block(case.body)
        return
    if isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                table.assigned(item.asname.name, Bound.ENTERED, item.item)
    for target in _header_targets(statement):
        table.target(target)
    for block in _blocks(statement):
        table.block(block)


def _header_targets(statement: cst.BaseCompoundStatement) -> list[cst.BaseExpression]:
    """Names bound by `for x in` and `except ... as x` (`with ... as x` is a value binding)."""
    if isinstance(statement, cst.For):
        return [statement.target]
    if isinstance(statement, cst.Try | cst.TryStar):
        return [h.name.name for h in statement.handlers if h.name is not None]
    return []


def _blocks(statement: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    """Every block of a compound statement: its body, `elif`/`else`, `except`, `finally`."""
    yield statement.body
    if isinstance(statement, cst.If) and isinstance(statement.orelse, cst.If):
        yield from _blocks(statement.orelse)
        return
    if isinstance(statement, cst.Try | cst.TryStar):
        yield from (handler.body for handler in statement.handlers)
    tails: list[cst.CSTNode | None] = []
    if isinstance(statement, cst.Try | cst.TryStar):
        tails = [statement.orelse, statement.finalbody]
    elif isinstance(statement, cst.If | cst.For | cst.While):
        tails = [statement.orelse]
    for tail in tails:
        if isinstance(tail, cst.Else | cst.Finally):
            yield tail.body


def _receiver(method: cst.FunctionDef) -> str | None:
    """The name of the instance parameter of a def in a class body (None: a static or class
    method, or no parameter)."""
    for decorator in method.decorators:
        expression = decorator.decorator
        name = expression.value if isinstance(expression, cst.Name) else None
        if isinstance(expression, cst.Attribute):
            name = expression.attr.value
        if name in ("staticmethod", "classmethod"):
            return None
    first = [*method.params.posonly_params, *method.params.params][:1]
    return first[0].name.value if first else None


def _scope_kind(owner: ScopeOwner) -> ScopeKind:
    if isinstance(owner, cst.FunctionDef):
        return ScopeKind.FUNCTION if owner.asynchronous is None else ScopeKind.ASYNC_FUNCTION
    if isinstance(owner, cst.ClassDef):
        return ScopeKind.CLASS
    if isinstance(owner, cst.Lambda):
        return ScopeKind.LAMBDA
    if isinstance(owner, cst.Module):
        return ScopeKind.MODULE
    return ScopeKind.COMPREHENSION


class Scope:
    """One scope; its bindings are collected the first time they are needed."""

    __slots__ = (
        "_attributes",
        "_everywhere",
        "_names",
        "_positions",
        "_stars",
        "kind",
        "owner",
        "parent",
    )

    def __init__(self, owner: ScopeOwner, parent: Scope | None) -> None:
        self.kind = _scope_kind(owner)
        self.owner = owner
        self.parent = parent
        self._names: dict[str, list[Binding]] | None = None
        self._positions: dict[int, int] = {}
        self._stars: list[tuple[str, int, bool]] = []
        self._everywhere: dict[str, Binding] = {}  # every binding of a name, merged
        # Of a class: attribute name -> its bindings, with the scope they are evaluated in.
        self._attributes: dict[str, list[tuple[Scope, Binding]]] | None = None

    def _collect(self) -> dict[str, list[Binding]]:
        table = _Table()
        owner = self.owner
        if isinstance(owner, cst.Module):
            _bind_statements(owner.body, table)
        elif isinstance(owner, cst.FunctionDef):
            table.parameters(owner.params)
            _bind_suite(owner.body, table)
        elif isinstance(owner, cst.ClassDef):
            _bind_suite(owner.body, table)
        elif isinstance(owner, cst.Lambda):
            table.parameters(owner.params)
        else:
            comp_for: cst.CompFor | None = owner.for_in
            while comp_for is not None:
                table.target(comp_for.target)
                comp_for = comp_for.inner_for_in
        self._positions = table.positions
        self._stars = table.stars
        self._names = table.result()
        return self._names

    def _bindings(self, name: str) -> list[Binding]:
        names = self._collect() if self._names is None else self._names
        found = names.get(name, [])
        if self._stars and name in _TYPING_EXPORTS:
            stars = [
                Binding([f"{module}.{name}"], [], False, where, surely)
                for module, where, surely in self._stars
            ]
            found = sorted([*found, *stars], key=lambda binding: binding.position)
        return found

    def binding(self, name: str, at: cst.CSTNode | None) -> Binding | None:
        """What `name` means in this scope for code at statement `at` (None: the code runs
        later, or elsewhere; see the module docstring)."""
        bindings = self._bindings(name)
        if not bindings:
            return None
        position = None if at is None else self._positions.get(id(at))
        if position is not None:
            above = [binding for binding in bindings if binding.position < position]
            if above:
                start = max((i for i, b in enumerate(above) if b.unconditional), default=0)
                return _merged(above[start:])
        merged = self._everywhere.get(name)
        if merged is None:
            merged = self._everywhere[name] = _merged(bindings)
        return merged

    def lookup(self, name: str, at: cst.CSTNode | None = None) -> tuple[Scope, Binding] | None:
        """The innermost binding of `name` seen from here, for code at statement `at` (None: a
        builtin, or a name no scope binds)."""
        scope: Scope | None = self
        now = at  # a comprehension runs where it is written; other scopes run later
        while scope is not None:
            # Class bodies are not enclosing scopes for the code inside them.
            if scope is self or scope.kind is not ScopeKind.CLASS:
                binding = scope.binding(name, now)
                if binding is not None:
                    return scope, binding
            if scope.kind is not ScopeKind.COMPREHENSION:
                now = None
            scope = scope.parent
        return None

    def attributes(self) -> Mapping[str, list[tuple[Scope, Binding]]]:
        """Of a class: what its body binds, and what its methods assign to `self.<name>`."""
        if self._attributes is None:
            names = self._collect() if self._names is None else self._names
            found = {name: [(self, _merged(bindings))] for name, bindings in names.items()}
            body = self.owner.body if isinstance(self.owner, cst.ClassDef) else None
            statements = body.body if isinstance(body, cst.IndentedBlock) else ()
            for statement in statements:
                if not isinstance(statement, cst.FunctionDef):
                    continue
                receiver = _receiver(statement)
                if receiver is None:
                    continue
                table = _AttributeTable(receiver)
                _bind_suite(statement.body, table)
                method = Scope(statement, self)
                for name, bindings in table.result().items():
                    found.setdefault(name, []).append((method, _merged(bindings)))
            self._attributes = found
        return self._attributes


# What calls and attribute reads give when no table says otherwise: a call is taken to build an
# instance of what it calls (`httpx.Client()` is an `httpx.Client`).
NO_RESULTS: Mapping[str, str] = MappingProxyType({})

# A name or attribute whose type is being worked out further up (`p = p.resolve()`): no evidence
# either way, so it neither confirms nor contradicts the other bindings.
_CYCLE = "<cycle>"

_UNION_FORMS = frozenset(
    f"{module}.{form}" for module in _TYPING_MODULES for form in ("Optional", "Union")
)


def string_annotation(node: cst.SimpleString | cst.ConcatenatedString) -> cst.BaseExpression | None:
    """The expression a string annotation (a forward reference) stands for, if it parses."""
    text = node.evaluated_value
    if not isinstance(text, str):
        return None
    try:
        return cst.parse_expression(text.strip())
    except cst.ParserSyntaxError:
        return None


class SemanticModel:
    """Names, scopes and simple types of one module, at the node the walker is visiting."""

    def __init__(self, module: cst.Module) -> None:
        self.scope = Scope(module, None)  # the scope of the node being visited
        # The statements around the node being visited, innermost last (the walker keeps it).
        self.statements: list[cst.CSTNode] = []
        self._evaluating: set[tuple[int, str]] = set()  # names whose type is being worked out

    # --- driven by the walker --------------------------------------------------------------

    def push(self, owner: ScopeOwner) -> None:
        """Open the scope of a function, class or lambda body, or of a comprehension."""
        self.scope = Scope(owner, self.scope)

    def pop(self) -> None:
        parent = self.scope.parent
        assert parent is not None, "the module scope is never closed"
        self.scope = parent

    def _at(self) -> cst.CSTNode | None:
        return self.statements[-1] if self.statements else None

    # --- scopes ----------------------------------------------------------------------------

    def in_async_body(self) -> bool:
        """Does code here run on the event loop, as part of an `async def`'s own body? (A
        nested `def`, `lambda` or `class` body runs elsewhere; a comprehension runs here.)"""
        scope: Scope | None = self.scope
        while scope is not None and scope.kind is ScopeKind.COMPREHENSION:
            scope = scope.parent
        return scope is not None and scope.kind is ScopeKind.ASYNC_FUNCTION

    def in_function(self) -> bool:
        """Is code here inside a function body, at any depth (through a class, too)?"""
        scope: Scope | None = self.scope
        while scope is not None:
            if scope.kind in _FUNCTIONS:
                return True
            scope = scope.parent
        return False

    # --- names -----------------------------------------------------------------------------

    def qualified_names(self, node: cst.BaseExpression) -> tuple[str, ...]:
        """What `node` names through the imports (`nap` -> `time.sleep`, `t.Any` ->
        `typing.Any`); a name bound nowhere is `builtins.<name>`; empty when `node` is not an
        imported or builtin name (a local variable, a call's result).

        A name imported two ways (`try: import ujson as json / except: import json`) has both.
        """
        return self._qualified(node, self.scope, self._at())

    def _qualified(
        self, node: cst.BaseExpression, scope: Scope, at: cst.CSTNode | None
    ) -> tuple[str, ...]:
        attributes: list[str] = []
        while isinstance(node, cst.Attribute):
            attributes.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return ()
        found = scope.lookup(node.value, at)
        # Imports win over other bindings of the same name: `except ImportError: x = None`.
        bases = (f"builtins.{node.value}",) if found is None else found[1].imports
        suffix = "".join(f".{attribute}" for attribute in reversed(attributes))
        return tuple(base + suffix for base in bases)

    # --- types -----------------------------------------------------------------------------

    def class_of(
        self, node: cst.BaseExpression, results: Mapping[str, str] = NO_RESULTS
    ) -> str | None:
        """The qualified name of the class of `node`'s value, where the code shows it (None
        otherwise). `results` says what calling or reading a known name gives, where it is not
        an instance of that name: `{"asyncio.get_running_loop": "asyncio.AbstractEventLoop",
        "pathlib.Path.parent": "pathlib.Path", "pathlib.Path.__truediv__": "pathlib.Path"}`."""
        found = self._type(node, self.scope, self._at(), results)
        return None if found == _CYCLE else found

    def _type(
        self,
        node: cst.BaseExpression,
        scope: Scope,
        at: cst.CSTNode | None,
        results: Mapping[str, str],
    ) -> str | None:
        if isinstance(node, cst.Name):
            found = scope.lookup(node.value, at)
            if found is None:
                return None
            # Keyed by the binding: `p = p.resolve()` reads the `p` bound above it.
            owner, binding = found
            return self._agreed((id(binding), node.value), [(owner, binding)], results)
        if isinstance(node, cst.Call):
            return self._called(node.func, scope, at, results)
        if isinstance(node, cst.Attribute):
            instance = self._instance_attribute(node, scope, at)
            if instance is not None:
                return self._agreed(*instance, results)
            return self._member(node.value, node.attr.value, scope, at, results)
        if isinstance(node, cst.BooleanOperation) and isinstance(node.operator, cst.Or):
            # `session or requests.Session()`: an injected client, else a default one.
            return self._either((node.left, node.right), scope, at, results)
        if isinstance(node, cst.IfExp):
            return self._either((node.body, node.orelse), scope, at, results)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            left = self._member(node.left, "__truediv__", scope, at, results)
            if left is not None:
                return left
            return self._member(node.right, "__rtruediv__", scope, at, results)
        return None

    def _called(
        self,
        func: cst.BaseExpression,
        scope: Scope,
        at: cst.CSTNode | None,
        results: Mapping[str, str],
    ) -> str | None:
        """The class of what calling `func` gives."""
        names = self._qualified(func, scope, at)
        if names:
            return _one(results.get(name, name) for name in names)
        if isinstance(func, cst.Attribute):
            return self._member(func.value, func.attr.value, scope, at, results)
        return None

    def _either(
        self,
        nodes: tuple[cst.BaseExpression, cst.BaseExpression],
        scope: Scope,
        at: cst.CSTNode | None,
        results: Mapping[str, str],
    ) -> str | None:
        """The class both alternatives agree on, a `None` literal left out (`a or b`,
        `a if c else b`)."""
        kinds = {self._type(n, scope, at, results) for n in nodes if not _is_none(n)}
        if _CYCLE in kinds and len(kinds) > 1:
            kinds.discard(_CYCLE)
        return kinds.pop() if len(kinds) == 1 else None

    def _member(
        self,
        owner: cst.BaseExpression,
        member: str,
        scope: Scope,
        at: cst.CSTNode | None,
        results: Mapping[str, str],
    ) -> str | None:
        """The class of `owner.member` (read, or called), as `results` tells it."""
        kind = self._type(owner, scope, at, results)
        if kind == _CYCLE:
            return _CYCLE if any(key.endswith("." + member) for key in results) else None
        return None if kind is None else results.get(f"{kind}.{member}")

    def _instance_attribute(
        self, node: cst.Attribute, scope: Scope, at: cst.CSTNode | None
    ) -> tuple[tuple[int, str], list[tuple[Scope, Binding]]] | None:
        """For `self.x` in a method (or a function nested in one): the key and bindings of `x`
        in the class."""
        if not isinstance(node.value, cst.Name):
            return None
        receiver = node.value.value
        found = scope.lookup(receiver, at)
        if found is None:
            return None
        method, klass = found[0], found[0].parent
        if (
            method.kind not in _FUNCTIONS
            or klass is None
            or klass.kind is not ScopeKind.CLASS
            or not isinstance(method.owner, cst.FunctionDef)
            or _receiver(method.owner) != receiver
        ):
            return None
        bindings = klass.attributes().get(node.attr.value)
        return None if bindings is None else ((id(klass), "." + node.attr.value), bindings)

    def _agreed(
        self,
        key: tuple[int, str],
        bindings: list[tuple[Scope, Binding]],
        results: Mapping[str, str],
    ) -> str | None:
        """The one class every binding gives (cycles aside), or None."""
        if any(b.imports or b.opaque or not b.values for _, b in bindings):
            return None
        if key in self._evaluating:
            return _CYCLE
        self._evaluating.add(key)
        try:
            kinds = {
                self._bound(how, expression, scope, at, results)
                for scope, binding in bindings
                for how, expression, at in binding.values
            }
        finally:
            self._evaluating.discard(key)
        kinds.discard(_CYCLE)
        if not kinds:
            return _CYCLE
        return kinds.pop() if len(kinds) == 1 else None

    def _bound(
        self,
        how: Bound,
        node: cst.BaseExpression,
        scope: Scope,
        at: cst.CSTNode | None,
        results: Mapping[str, str],
    ) -> str | None:
        """The class one value binding gives its name."""
        if how is Bound.ANNOTATED:
            return self._annotated(node, scope, at)
        kind = self._type(node, scope, at, results)
        if how is Bound.ASSIGNED or kind is None:
            return kind
        # Entering a manager gives what its `__enter__` (or `__aenter__`) returns: `results`
        # says which classes give themselves; an open file, a lock or a transaction may not.
        return _CYCLE if kind == _CYCLE else results.get(f"{kind}.__enter__")

    def _annotated(
        self, node: cst.BaseExpression, scope: Scope, at: cst.CSTNode | None
    ) -> str | None:
        """The class an annotation names, `None` left out of unions."""
        members = [m for m in self._union_members(node, scope, at) if not _is_none(m)]
        kinds = {_one(self._qualified(member, scope, at)) for member in members}
        return kinds.pop() if len(kinds) == 1 else None

    def _union_members(
        self, node: cst.BaseExpression, scope: Scope, at: cst.CSTNode | None
    ) -> list[cst.BaseExpression]:
        """`X | None`, `Optional[X]`, `Union[X, None]`, `"X"` -> their members."""
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            parsed = string_annotation(node)
            return [] if parsed is None else self._union_members(parsed, scope, at)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return [
                *self._union_members(node.left, scope, at),
                *self._union_members(node.right, scope, at),
            ]
        if isinstance(node, cst.Subscript) and any(
            name in _UNION_FORMS for name in self._qualified(node.value, scope, at)
        ):
            return [
                member
                for element in node.slice
                if isinstance(element.slice, cst.Index)
                for member in self._union_members(element.slice.value, scope, at)
            ]
        return [node]


def _one(kinds: Iterable[str]) -> str | None:
    """The one distinct value, or None when there are none or several."""
    distinct = set(kinds)
    return distinct.pop() if len(distinct) == 1 else None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"
