"""PA4xx: asyncio. In the face of ambiguity, refuse the temptation to guess.

The rules resolve names through imports themselves, with a small table per scope, instead of
LibCST's QualifiedNameProvider (scope analysis costs eight parses; PERF-NOTES.md). A scope's
table is built lazily, the first time a name is looked up in it, from that scope's statements:
imports, assignments, parameters, loop and `with` targets, nested `def`/`class` names. Python
binds a name for its whole scope, so building from all statements (rather than in visiting order)
also resolves imports written below the `async def` that uses them.

"Am I inside an `async def`?" is a stack of scopes, not a flag: a nested sync `def`, `lambda` or
`class` opens a scope whose body runs elsewhere, and when it closes the async body is checked
again. A function's scope opens at its body, not at its `def` line, because decorators and
default values run in the enclosing scope.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from pyarch_lint.checks import blocking_calls as known
from pyarch_lint.checks.base import Rule, RuleContext
from pyarch_lint.checks.options import AsyncOptions
from pyarch_lint.findings import Severity


def _is_allowed(name: str, allowed: tuple[str, ...]) -> bool:
    return any(name == entry or name.startswith(entry + ".") for entry in allowed)


def blocking_calls(options: AsyncOptions) -> Mapping[str, str]:
    """PA401's catalogue with the user's additions and removals applied."""
    if not options.extend_blocking_calls and not options.allowed_blocking_calls:
        return known.BLOCKING_CALLS
    extended = {
        **known.BLOCKING_CALLS,
        **{
            name: text or known.DEFAULT_ALTERNATIVE
            for name, text in options.extend_blocking_calls.items()
        },
    }
    allowed = options.allowed_blocking_calls
    return {name: text for name, text in extended.items() if not _is_allowed(name, allowed)}


def blocking_file_calls(options: AsyncOptions) -> Mapping[str, str]:
    """PA402's table with the user's removals applied."""
    allowed = options.allowed_blocking_calls
    if not allowed:
        return known.BLOCKING_FILE_CALLS
    return {
        name: text
        for name, text in known.BLOCKING_FILE_CALLS.items()
        if not _is_allowed(name, allowed)
    }


class _Kind(enum.Enum):
    """What an expression visibly is, as far as these rules care."""

    PATH = "path"
    LOOP = "loop"
    # Being worked out further up the stack (`p = p.resolve()`): no evidence either way.
    CYCLE = "cycle"


@dataclass(slots=True)
class _Binding:
    """Every way one name is bound in one scope."""

    # Qualified names from absolute imports, in source order (so messages are deterministic).
    imports: list[str] = field(default_factory=list)
    # (is an annotation, expression): `name: Ann` / annotated parameters, and `name = value`.
    typed: list[tuple[bool, cst.BaseExpression]] = field(default_factory=list)
    opaque: bool = False  # bound in a way not followed: loop target, def, relative import...


class _Table:
    """Collects the bindings of one scope from its statements."""

    def __init__(self) -> None:
        self.names: dict[str, _Binding] = {}
        self.declared: set[str] = set()  # `global` / `nonlocal`: bound elsewhere

    def _get(self, name: str) -> _Binding:
        binding = self.names.get(name)
        if binding is None:
            binding = self.names[name] = _Binding()
        return binding

    def opaque(self, name: str) -> None:
        self._get(name).opaque = True

    def typed(self, name: str, is_annotation: bool, expression: cst.BaseExpression) -> None:
        self._get(name).typed.append((is_annotation, expression))

    def imported(self, name: str, qualified: str) -> None:
        imports = self._get(name).imports
        if qualified not in imports:
            imports.append(qualified)

    def target(self, node: cst.BaseExpression) -> None:
        """Names bound by an assignment target we do not follow (`for a, *b in ...`)."""
        if isinstance(node, cst.Name):
            self.opaque(node.value)
        elif isinstance(node, cst.Tuple | cst.List):
            for element in node.elements:
                self.target(element.value)
        elif isinstance(node, cst.StarredElement):
            self.target(node.value)

    def parameters(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.annotation is not None:
                self.typed(param.name.value, True, param.annotation.annotation)
            else:
                self.opaque(param.name.value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.opaque(star.name.value)

    def result(self) -> dict[str, _Binding]:
        for name in self.declared:
            self.names.pop(name, None)
        return self.names


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _bind_small(statement: cst.BaseSmallStatement, table: _Table) -> None:
    if isinstance(statement, cst.Import):
        _bind_import(statement, table)
    elif isinstance(statement, cst.ImportFrom):
        _bind_import_from(statement, table)
    elif isinstance(statement, cst.Assign | cst.AnnAssign | cst.AugAssign):
        _bind_assignment(statement, table)
    elif isinstance(statement, cst.Global | cst.Nonlocal):
        table.declared.update(item.name.value for item in statement.names)


def _bind_import(statement: cst.Import, table: _Table) -> None:
    for alias in statement.names:
        full = _dotted(alias.name)
        if full is None:
            continue
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            table.imported(alias.asname.name.value, full)
        else:  # `import urllib.request` binds `urllib`
            head = full.partition(".")[0]
            table.imported(head, head)


def _bind_import_from(statement: cst.ImportFrom, table: _Table) -> None:
    if isinstance(statement.names, cst.ImportStar):
        return  # star imports are not followed
    module = None if statement.relative or statement.module is None else _dotted(statement.module)
    for alias in statement.names:
        if not isinstance(alias.name, cst.Name):
            continue
        local = alias.name.value
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        if module is None:  # a relative import still binds (and shadows) the name
            table.opaque(local)
        else:
            table.imported(local, f"{module}.{alias.name.value}")


def _bind_assignment(statement: cst.Assign | cst.AnnAssign | cst.AugAssign, table: _Table) -> None:
    if isinstance(statement, cst.Assign):
        for target in statement.targets:
            if isinstance(target.target, cst.Name):
                table.typed(target.target.value, False, statement.value)
            else:
                table.target(target.target)
    elif not isinstance(statement.target, cst.Name):
        return
    elif isinstance(statement, cst.AnnAssign):
        table.typed(statement.target.value, True, statement.annotation.annotation)
    elif not isinstance(statement.operator, cst.DivideAssign):
        # `path /= "sub"` keeps a Path a Path; any other operator is not followed.
        table.opaque(statement.target.value)


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
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        table.opaque(statement.name.value)  # its body is another scope
        return
    if isinstance(statement, cst.Match):
        for case in statement.cases:
            _bind_suite(case.body, table)
        return
    for target in _header_targets(statement):
        table.target(target)
    for block in _blocks(statement):
        _bind_suite(block, table)


def _header_targets(statement: cst.BaseCompoundStatement) -> list[cst.BaseExpression]:
    """Names bound by `for x in`, `with ... as x` and `except ... as x`."""
    if isinstance(statement, cst.For):
        return [statement.target]
    if isinstance(statement, cst.With):
        return [item.asname.name for item in statement.items if item.asname is not None]
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
    for tail in _tails(statement):
        yield tail.body


def _tails(statement: cst.BaseCompoundStatement) -> list[cst.Else | cst.Finally]:
    found: list[cst.CSTNode | None] = []
    if isinstance(statement, cst.Try | cst.TryStar):
        found = [statement.orelse, statement.finalbody]
    elif isinstance(statement, cst.If | cst.For | cst.While):
        found = [statement.orelse]
    return [tail for tail in found if isinstance(tail, cst.Else | cst.Finally)]


class _ScopeKind(enum.Enum):
    MODULE = "module"
    FUNCTION = "function"
    ASYNC_FUNCTION = "async function"
    CLASS = "class"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


Comprehension = cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp
_ScopeOwner = cst.Module | cst.FunctionDef | cst.ClassDef | cst.Lambda | Comprehension


class _Scope:
    """One scope on the stack; its bindings are collected the first time they are needed."""

    __slots__ = ("_names", "body", "kind", "owner")

    def __init__(self, kind: _ScopeKind, owner: _ScopeOwner, body: cst.CSTNode | None) -> None:
        self.kind = kind
        self.owner = owner
        self.body = body  # the block whose leave closes this scope (None: closed by its owner)
        self._names: dict[str, _Binding] | None = None

    def names(self) -> dict[str, _Binding]:
        if self._names is None:
            self._names = _collect(self.owner)
        return self._names


def _collect(owner: _ScopeOwner) -> dict[str, _Binding]:
    table = _Table()
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
    return table.result()


def _endings(names: Iterable[str]) -> frozenset[str]:
    """The last segments of dotted names: `time.sleep` -> `sleep`."""
    return frozenset(name.rpartition(".")[2] for name in names)


def _is_loop_name(identifier: str) -> bool:
    """`loop`, `_loop`, `event_loop`, `self.main_loop`: names people give an event loop."""
    name = identifier.lower()
    return name.lstrip("_") == "loop" or name.endswith("_loop")


class _AsyncScopeRule(Rule):
    """Scope tracking and name resolution shared by the PA4xx rules (each has its own copy:
    rules are independent visitors, and the work is only done in files that say `async`)."""

    REQUIRES_ANY: ClassVar[tuple[bytes, ...] | None] = (b"async",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._stack: list[_Scope] = []
        self._opening: _Scope | None = None  # a def or class whose body is about to start
        self._evaluating: set[tuple[int, str]] = set()  # names whose kind is being worked out

    def visit_Module(self, node: cst.Module) -> None:
        self._stack = [_Scope(_ScopeKind.MODULE, node, None)]
        self._opening = None

    # --- the scope stack -------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        kind = _ScopeKind.FUNCTION if node.asynchronous is None else _ScopeKind.ASYNC_FUNCTION
        self._opening = _Scope(kind, node, node.body)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._opening = _Scope(_ScopeKind.CLASS, node, node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._open_body(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._open_body(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._close_body(original_node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self._close_body(original_node)

    def _open_body(self, node: cst.BaseSuite) -> None:
        if self._opening is not None and self._opening.body is node:
            self._stack.append(self._opening)
            self._opening = None

    def _close_body(self, node: cst.BaseSuite) -> None:
        if self._stack[-1].body is node:
            self._stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(_Scope(_ScopeKind.LAMBDA, node, None))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._stack.pop()

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._stack.append(_Scope(_ScopeKind.COMPREHENSION, node, None))

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self._stack.pop()

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._stack.append(_Scope(_ScopeKind.COMPREHENSION, node, None))

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self._stack.pop()

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._stack.append(_Scope(_ScopeKind.COMPREHENSION, node, None))

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self._stack.pop()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._stack.append(_Scope(_ScopeKind.COMPREHENSION, node, None))

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self._stack.pop()

    def _in_async_body(self) -> bool:
        """Does code here run on the event loop, as part of an `async def`'s own body?"""
        for scope in reversed(self._stack):
            if scope.kind is not _ScopeKind.COMPREHENSION:
                return scope.kind is _ScopeKind.ASYNC_FUNCTION
        return False

    # --- name resolution -------------------------------------------------------------------

    def _lookup(self, name: str, start: int) -> tuple[int, _Binding] | None:
        """The innermost binding of `name` seen from scope `start` (None: a builtin)."""
        for index in range(start, -1, -1):
            scope = self._stack[index]
            if scope.kind is _ScopeKind.CLASS and index != start:
                continue  # class bodies are not enclosing scopes for the code inside them
            binding = scope.names().get(name)
            if binding is not None:
                return index, binding
        return None

    def _qualified_names(self, node: cst.BaseExpression, start: int = -1) -> tuple[str, ...]:
        """What `node` names through the imports (`nap` -> `time.sleep`); empty if unknown.

        A name imported two ways (`try: import ujson as json / except: import json`) has both.
        """
        attributes: list[str] = []
        while isinstance(node, cst.Attribute):
            attributes.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return ()
        found = self._lookup(node.value, len(self._stack) - 1 if start < 0 else start)
        if found is None:
            bases: tuple[str, ...] = (f"builtins.{node.value}",)
        else:
            # Imports win over other bindings of the same name: `except ImportError: x = None`.
            bases = tuple(found[1].imports)
        suffix = "".join(f".{attribute}" for attribute in reversed(attributes))
        return tuple(base + suffix for base in bases)

    def _match(
        self, func: cst.BaseExpression, names: Collection[str], endings: frozenset[str]
    ) -> str | None:
        """The name in `names` that the called `func` resolves to, if any."""
        # Resolution changes what the head of `a.b.c` stands for, never the last attribute, so
        # most method calls (`self.save()`) are ruled out without a lookup.
        if isinstance(func, cst.Attribute) and func.attr.value not in endings:
            return None
        for name in self._qualified_names(func):
            if name in names:
                return name
        return None

    def _kind(self, node: cst.BaseExpression, start: int) -> _Kind | None:
        """Is `node` visibly a concrete Path or an event loop?"""
        if isinstance(node, cst.Call):
            for name in self._qualified_names(node.func, start):
                if name in known.PATH_CLASSES or name in known.PATH_FACTORIES:
                    return _Kind.PATH
                if name in known.LOOP_FACTORIES:
                    return _Kind.LOOP
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in known.PATH_RETURNING_METHODS:
                return self._path_of(func.value, start)
            return None
        if isinstance(node, cst.Attribute) and node.attr.value in known.PATH_ATTRIBUTES:
            return self._path_of(node.value, start)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            return self._path_of(node.left, start) or self._path_of(node.right, start)
        if isinstance(node, cst.Name):
            return self._name_kind(node.value, start)
        return None

    def _path_of(self, node: cst.BaseExpression, start: int) -> _Kind | None:
        kind = self._kind(node, start)
        return kind if kind in (_Kind.PATH, _Kind.CYCLE) else None

    def _name_kind(self, name: str, start: int) -> _Kind | None:
        found = self._lookup(name, start)
        if found is None:
            return None
        index, binding = found
        if binding.imports or binding.opaque or not binding.typed:
            return None
        key = (index, name)
        if key in self._evaluating:
            return _Kind.CYCLE
        self._evaluating.add(key)
        try:
            kinds = {
                self._annotation_kind(expression, index)
                if is_annotation
                else self._kind(expression, index)
                for is_annotation, expression in binding.typed
            }
        finally:
            self._evaluating.discard(key)
        kinds.discard(_Kind.CYCLE)
        if not kinds:
            return _Kind.CYCLE
        return kinds.pop() if len(kinds) == 1 else None

    def _annotation_kind(self, node: cst.BaseExpression, start: int) -> _Kind | None:
        members = [m for m in self._union_members(node, start) if not _is_none(m)]
        kinds = {self._class_kind(member, start) for member in members}
        return kinds.pop() if len(kinds) == 1 else None

    def _union_members(self, node: cst.BaseExpression, start: int) -> list[cst.BaseExpression]:
        """`Path | None`, `Optional[Path]`, `Union[Path, None]`, `"Path"` -> their members."""
        if isinstance(node, cst.SimpleString):
            text = node.evaluated_value
            try:
                node = cst.parse_expression(text) if isinstance(text, str) else node
            except cst.ParserSyntaxError:
                return []
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return [*self._union_members(node.left, start), *self._union_members(node.right, start)]
        if isinstance(node, cst.Subscript):
            names = self._qualified_names(node.value, start)
            if any(name in _UNION_FORMS for name in names):
                return [
                    member
                    for element in node.slice
                    if isinstance(element.slice, cst.Index)
                    for member in self._union_members(element.slice.value, start)
                ]
        return [node]

    def _class_kind(self, node: cst.BaseExpression, start: int) -> _Kind | None:
        for name in self._qualified_names(node, start):
            if name in known.PATH_CLASSES:
                return _Kind.PATH
            if name in known.LOOP_CLASSES:
                return _Kind.LOOP
        return None

    def _is_loop(self, node: cst.BaseExpression) -> bool:
        """Is `node` an event loop: made by `asyncio.get_running_loop()` and friends, annotated
        as one, or named like one (`loop`, `self._loop`)?"""
        if self._kind(node, len(self._stack) - 1) is _Kind.LOOP:
            return True
        if isinstance(node, cst.Name):
            return _is_loop_name(node.value)
        return isinstance(node, cst.Attribute) and _is_loop_name(node.attr.value)


_UNION_FORMS = frozenset(
    f"{module}.{form}"
    for module in ("typing", "typing_extensions")
    for form in ("Optional", "Union")
)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


_CATALOGUE_ENDINGS = _endings(known.BLOCKING_CALLS)
_FILE_CALL_ENDINGS = _endings(known.BLOCKING_FILE_CALLS)
_TASK_FACTORY_ENDINGS = _endings(known.TASK_FACTORIES)
_LOOP_RUNNER_ENDINGS = _endings(known.LOOP_RUNNERS)


def _shown(func: cst.BaseExpression, qualified: str) -> str:
    """How a call is named in a message: as written, plus what it resolved to if different."""
    resolved = qualified.removeprefix("builtins.")
    written = _dotted(func)
    if written is None or written == resolved:
        return f"`{resolved}()`"
    return f"`{written}()` (`{resolved}`)"


class BlockingCallInAsync(_AsyncScopeRule):
    CODE = "PA401"
    NAME = "blocking-call-in-async"
    SEVERITY = Severity.ERROR
    OPTIONS = AsyncOptions
    EXPRESSIONS_IN_ASYNC = True

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self._catalogue = blocking_calls(self.context.options(AsyncOptions))
        self._endings = (
            _CATALOGUE_ENDINGS
            if self._catalogue is known.BLOCKING_CALLS
            else _endings(self._catalogue)
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self._in_async_body():
            return
        name = self._match(node.func, self._catalogue, self._endings)
        if name is not None:
            self.report(
                node,
                f"Blocking call {_shown(node.func, name)} in `async def` stalls the event "
                f"loop; use {self._catalogue[name]}",
            )


class BlockingFileIoInAsync(_AsyncScopeRule):
    CODE = "PA402"
    NAME = "blocking-file-io-in-async"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    EXPRESSIONS_IN_ASYNC = True

    _PATH_PREFIX: ClassVar[str] = "pathlib.Path."

    def visit_Module(self, node: cst.Module) -> None:
        super().visit_Module(node)
        self._calls = blocking_file_calls(self.context.options(AsyncOptions))

    def visit_Call(self, node: cst.Call) -> None:
        if not self._in_async_body():
            return
        func = node.func
        name = self._match(func, self._calls, _FILE_CALL_ENDINGS)
        if name is not None:
            self._report(node, _shown(func, name), self._calls[name])
            return
        if not isinstance(func, cst.Attribute):
            return
        method = self._PATH_PREFIX + func.attr.value
        if method in self._calls and self._kind(func.value, len(self._stack) - 1) is _Kind.PATH:
            self._report(node, f"`Path.{func.attr.value}()`", self._calls[method])

    def _report(self, node: cst.Call, shown: str, alternative: str) -> None:
        self.report(
            node,
            f"Blocking file I/O {shown} in `async def` stalls the event loop while the disk "
            f"works; use {alternative}",
        )


class DanglingTask(_AsyncScopeRule):
    CODE = "PA403"
    NAME = "dangling-task"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    # A task can be created anywhere, also in a sync callback running on the loop. Only
    # expression statements matter here, and the engine dispatches those everywhere.
    REQUIRES_ANY = (b"create_task", b"ensure_future")

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        func = call.func
        # `create_task(...).add_done_callback(...)`: the callback does not keep the task alive,
        # and the task itself is still thrown away.
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "add_done_callback"
            and isinstance(func.value, cst.Call)
        ):
            func = func.value.func
        name = self._match(func, known.TASK_FACTORIES, _TASK_FACTORY_ENDINGS)
        if name is not None:
            self._report(node, _shown(func, name))
            return
        # `tg.create_task()` on a TaskGroup is fine: the group keeps the task. Only a loop's
        # `create_task` leaves it dangling.
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and self._is_loop(func.value)
        ):
            self._report(node, "`loop.create_task()`")

    def _report(self, node: cst.Expr, shown: str) -> None:
        self.report(
            node,
            f"The task from {shown} is not stored: the event loop keeps only a weak reference, "
            "so it can be garbage-collected mid-flight; keep a reference (e.g. in a set, "
            "discarded with `task.add_done_callback`) or use `asyncio.TaskGroup`",
        )


class NestedEventLoop(_AsyncScopeRule):
    CODE = "PA404"
    NAME = "nested-event-loop"
    SEVERITY = Severity.ERROR
    OPTIONS = AsyncOptions
    EXPRESSIONS_IN_ASYNC = True

    def visit_Call(self, node: cst.Call) -> None:
        if not self._in_async_body():
            return
        func = node.func
        name = self._match(func, known.LOOP_RUNNERS, _LOOP_RUNNER_ENDINGS)
        if name is not None:
            self._report(node, _shown(func, name))
            return
        if not isinstance(func, cst.Attribute):
            return
        # `run_until_complete` is an event-loop method whatever the receiver is called;
        # `run_forever` is a common name elsewhere (websocket clients), so the receiver must be
        # visibly a loop.
        method = func.attr.value
        if method == "run_until_complete" or (
            method == "run_forever" and self._is_loop(func.value)
        ):
            self._report(node, f"`loop.{method}()`")

    def _report(self, node: cst.Call, shown: str) -> None:
        self.report(
            node,
            f"{shown} inside `async def` tries to run a second event loop on this thread, "
            "which fails (RuntimeError) or blocks the running one; `await` the coroutine instead",
        )
