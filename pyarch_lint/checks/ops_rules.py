"""PA602-PA606: operations. What production code does to its database, metrics, queue and logs.

Every rule is anchored where the harm happens, and names are resolved through the file's semantic
model (`pyarch_lint.semantics`): `from sqlalchemy import text as sql_text` is still
`sqlalchemy.text`, a name bound to `sessionmaker(...)` makes sessions when called, and a local
`Counter` class is not prometheus's. What the code does not show (a value from another module, an
object passed in) is not guessed at.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import libcst as cst

from pyarch_lint.checks.base import Report, Rule, RuleContext
from pyarch_lint.checks.options import OperationsOptions
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import Bound, Scope, ScopeKind, SemanticModel, dotted

_FUNCTIONS = frozenset({ScopeKind.FUNCTION, ScopeKind.ASYNC_FUNCTION})
_EMPTY = cst.Module([])


def _shown(node: cst.CSTNode, limit: int = 40) -> str:
    """A node's source, on one line, cut to `limit` characters."""
    text = " ".join(_EMPTY.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _last(func: cst.BaseExpression) -> str | None:
    """The last name of a called expression: `execute` of `cursor.execute`, `text` of `text`."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _resolves_to(semantic: SemanticModel, node: cst.BaseExpression, names: frozenset[str]) -> bool:
    return any(name in names for name in semantic.qualified_names(node))


def _function_scope(semantic: SemanticModel) -> Scope | None:
    """The scope of the function whose body runs the code here (comprehensions belong to it);
    None at module or class level, or in a lambda."""
    scope: Scope | None = semantic.scope
    while scope is not None and scope.kind is ScopeKind.COMPREHENSION:
        scope = scope.parent
    return scope if scope is not None and scope.kind in _FUNCTIONS else None


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node` that runs with it: nested functions, classes and lambdas run
    later, elsewhere, and are not entered. Read from the node's fields: LibCST's `children`
    rebuilds the node, which costs a copy and re-validates what the parser was trusted with."""
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, cst.CSTNode):
                yield child
                if not isinstance(child, cst.FunctionDef | cst.ClassDef | cst.Lambda):
                    yield from _children(child)


def _is_name(node: cst.CSTNode | None, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


# -- PA602 ------------------------------------------------------------------------------------

_SQL_METHODS = frozenset({"execute", "executemany", "exec_driver_sql"})
_SQL_FUNCTIONS = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"}
    | {
        f"{module}.{function}"
        for module in ("pandas", "pandas.io.sql")
        for function in ("read_sql", "read_sql_query", "read_sql_table")
    }
)
# The SQL argument when passed by keyword: DB-API `operation`, sqlite3 `sql`, SQLAlchemy
# `statement`, `text`, pandas `sql`.
_SQL_KEYWORDS = frozenset({"sql", "query", "statement", "operation", "text"})
# How many local assignments in a row are followed to show that a value is made of literals.
_LITERAL_STEPS = 3
# Calls whose result is a number, which cannot carry SQL: `LIMIT {len(rows)}`.
_NUMERIC_CALLS = frozenset({"builtins.len", "builtins.int", "builtins.float"})


def _sql_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            return arg.value
        if arg.keyword.value in _SQL_KEYWORDS:
            return arg.value
    return None


def _is_string(node: cst.BaseExpression) -> bool:
    """A string literal with nothing interpolated."""
    if isinstance(node, cst.SimpleString):
        return True
    if isinstance(node, cst.FormattedString):
        return all(isinstance(part, cst.FormattedStringText) for part in node.parts)
    if isinstance(node, cst.ConcatenatedString):
        return _is_string(node.left) and _is_string(node.right)
    return False


class _SqlText:
    """What interpolation puts into one SQL argument: how, and the operands that are neither
    literals nor derived from literals alone."""

    def __init__(self, semantic: SemanticModel) -> None:
        self.semantic = semantic
        self.how = ""
        self.operands: list[cst.BaseExpression] = []

    def read(self, node: cst.BaseExpression) -> bool:
        """Does `node` build text by interpolation? Collects its operands."""
        if isinstance(node, cst.FormattedString):
            return self._f_string(node)
        if isinstance(node, cst.ConcatenatedString):
            left, right = self.read(node.left), self.read(node.right)
            return left or right
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            self._percent(node)
            return True
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._concatenation(node)
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "format"
            and self._is_template(node.func.value)
        ):
            self._note("`.format()`", [arg.value for arg in node.args])
            return True
        return False

    def _f_string(self, node: cst.FormattedString) -> bool:
        expressions = [
            part.expression
            for part in node.parts
            if isinstance(part, cst.FormattedStringExpression)
        ]
        if expressions:
            self._note("an f-string", expressions)
        return bool(expressions)

    def _percent(self, node: cst.BinaryOperation) -> None:
        values = node.right
        if isinstance(values, cst.Tuple):
            operands = [element.value for element in values.elements]
        elif isinstance(values, cst.Dict):
            operands = [e.value for e in values.elements if isinstance(e, cst.DictElement)]
        else:
            operands = [values]
        # The left side is the template: what it interpolates counts, a template kept in a
        # name or attribute (Django's `self.sql_delete_table`) is not a value.
        self.read(node.left)
        self._note("`%` formatting", operands)

    def _concatenation(self, node: cst.BinaryOperation) -> bool:
        pieces = list(_added(node))
        if not any(_is_string(p) or self._builds_text(p) for p in pieces):
            return False  # `a + b`: nothing shows that strings are joined
        for piece in pieces:
            if not self.read(piece) and not self._literal(piece):
                self._note("`+` concatenation", [piece])
        self.how = self.how or "`+` concatenation"
        return True

    def _is_template(self, node: cst.BaseExpression) -> bool:
        """A string whose `.format()` builds text: a literal, or a name assigned one (psycopg's
        `sql.SQL("...").format(sql.Identifier(name))` composes safely and is not one)."""
        if _is_string(node):
            return True
        if not isinstance(node, cst.Name):
            return False
        values = _local_values(self.semantic, node) or _assigned_values(
            self.semantic, node, local=False
        )
        return bool(values) and all(_is_string(value) for value in values or ())

    def _builds_text(self, node: cst.BaseExpression) -> bool:
        probe = _SqlText(self.semantic)
        return probe.read(node)

    def add(self, how: str, piece: cst.BaseExpression) -> None:
        """A piece appended to the text as it is (`query += condition`)."""
        self._note(how, [piece])

    def _note(self, how: str, operands: Sequence[cst.BaseExpression]) -> None:
        self.how = self.how or how
        self.operands.extend(o for o in operands if not self._literal(o) and not self._quoted(o))

    def _quoted(self, node: cst.BaseExpression) -> bool:
        """An identifier quoted by the driver or framework (`quote_name(table)`, also through
        local assignments): composing it is the safe way."""
        values = _local_values(self.semantic, node) if isinstance(node, cst.Name) else [node]
        return bool(values) and all(
            isinstance(value, cst.Call) and "quote" in (_last(value.func) or "").lower()
            for value in values
        )

    def _literal(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """Is `node` made of literals alone (`", ".join(["%s"] * len(ids))`), also through a
        few local assignments (`name = "t"`, then `sql = "DROP TABLE %s" % name`)?"""
        if _is_string(node) or isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
            return True
        if isinstance(node, cst.Name):
            if node.value in ("None", "True", "False"):
                return True
            values = _local_values(self.semantic, node) if depth < _LITERAL_STEPS else []
            return bool(values) and all(self._literal(value, depth + 1) for value in values)
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "join":
                return self._literal(func.value, depth) and all(
                    self._literal(arg.value, depth) for arg in node.args
                )
            return _resolves_to(self.semantic, func, _NUMERIC_CALLS)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
            # repetition: `"?, " * n`
            return self._literal(node.left, depth) or self._literal(node.right, depth)
        parts = _parts(node)
        return parts is not None and all(self._literal(part, depth) for part in parts)


def _parts(node: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The values an expression is made of, for the kinds whose value is literal when all of
    those are (an f-string, an operation, a conditional, a tuple or list, a comprehension's
    element); None for any other kind."""
    if isinstance(node, cst.FormattedString):  # `f"{prefix}_users"` with a literal prefix
        return [p.expression for p in node.parts if isinstance(p, cst.FormattedStringExpression)]
    if isinstance(node, cst.UnaryOperation):
        return [node.expression]
    if isinstance(node, cst.BinaryOperation):
        return [node.left, node.right]
    if isinstance(node, cst.IfExp):
        return [node.body, node.orelse]
    if isinstance(node, cst.Tuple | cst.List):
        return [element.value for element in node.elements]
    if isinstance(node, cst.ListComp | cst.GeneratorExp):
        return [node.elt]
    return None


def _added(node: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The pieces of `a + b + c`."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        yield from _added(node.left)
        yield from _added(node.right)
    else:
        yield node


def _appended(function: cst.CSTNode, name: str) -> Iterator[cst.BaseExpression]:
    """What a function appends to a local name with `+=` or formats into it with `%=`."""
    for node in _children(function):
        if (
            isinstance(node, cst.AugAssign)
            and isinstance(node.operator, cst.AddAssign | cst.ModuloAssign)
            and _is_name(node.target, name)
        ):
            yield node.value


def _assigned_in(function: cst.CSTNode, name: str) -> Iterator[cst.BaseExpression]:
    """What a function assigns to a local name with a plain `=`."""
    for node in _children(function):
        if isinstance(node, cst.Assign) and any(_is_name(t.target, name) for t in node.targets):
            yield node.value


def _local_values(semantic: SemanticModel, name: cst.Name) -> list[cst.BaseExpression]:
    """The values a function's local name may hold here, when all are plain assignments
    (empty otherwise)."""
    return _assigned_values(semantic, name, local=True) or []


def _assigned_values(
    semantic: SemanticModel, name: cst.Name, *, local: bool
) -> list[cst.BaseExpression] | None:
    """The values a name may hold here, when every binding of it is a plain assignment in a
    function (`local`) or at module level (not `local`); None otherwise."""
    at = semantic.statements[-1] if semantic.statements else None
    found = semantic.scope.lookup(name.value, at)
    if found is None:
        return None
    scope, binding = found
    wanted = scope.kind in _FUNCTIONS if local else scope.kind is ScopeKind.MODULE
    if not wanted or binding.opaque or binding.imports or not binding.values:
        return None
    values = []
    for how, expression, statement in binding.values:
        if how is Bound.ASSIGNED:
            values.append(expression)
        elif (
            how is Bound.ANNOTATED
            and isinstance(statement, cst.AnnAssign)
            and statement.value is not None
        ):
            values.append(statement.value)  # `query: str = f"..."`
        else:
            return None
    return values


class SqlInterpolatedIntoExecute(Rule):
    CODE = "PA602"
    NAME = "sql-interpolated-into-execute"
    SEVERITY = Severity.WARNING
    OPTIONS = OperationsOptions
    # A sink is a method named so, or a function found through an import of its package.
    REQUIRES_ANY = (b"execute", b"exec_driver_sql", b"sqlalchemy", b"read_sql")

    @classmethod
    def requires_any(cls, options: Mapping[type[Any], Any]) -> tuple[bytes, ...] | None:
        sinks = options.get(OperationsOptions, OperationsOptions()).extend_sql_sinks
        # A method's name, or a function's top-level package, is in the file that calls it.
        extra = (s[1:] if s.startswith(".") else s.partition(".")[0] for s in sinks)
        return cls.REQUIRES_ANY + tuple(name.encode() for name in extra)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        options = context.options(OperationsOptions)
        self._methods = _SQL_METHODS | {s[1:] for s in options.extend_sql_sinks if s[0] == "."}
        self._functions = _SQL_FUNCTIONS | {s for s in options.extend_sql_sinks if s[0] != "."}
        self._endings = self._methods | {name.rpartition(".")[2] for name in self._functions}
        self._hints = options.sql_constant_hints

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            # Resolution never changes the last attribute: most method calls end here.
            last = func.attr.value
            if last not in self._endings:
                return
            if last not in self._methods and not _resolves_to(self.semantic, func, self._functions):
                return
        elif not _resolves_to(self.semantic, func, self._functions):  # `from ... import text as t`
            return
        argument = _sql_argument(node)
        if argument is None:
            return
        text = self._interpolated(argument)
        if text is None:
            return
        sink = f"`{_shown(func)}()`"
        constants = [o for o in text.operands if self._is_constant(o)]
        if len(constants) == len(text.operands):
            if self._hints:
                names = ", ".join(f"`{_shown(c)}`" for c in constants)
                are = "is a module constant" if len(constants) == 1 else "are module constants"
                self.report(
                    node,
                    f"Hint: {names} interpolated into the SQL of {sink} {are}, "
                    "so nothing outside can inject through it; if it names a table or column, "
                    "compose it with the driver's identifier quoting (`psycopg.sql.Identifier`, "
                    "SQLAlchemy `table()`/`column()`) so a later edit cannot turn it into "
                    "injection",
                )
            return
        operand = next(o for o in text.operands if o not in constants)
        self.report(
            node,
            f"SQL built with {text.how} from `{_shown(operand)}` reaches {sink}: a value that "
            "contains a quote can rewrite the query (SQL injection); keep the query text "
            "constant and pass values as parameters (`execute(sql, params)` with `%s`, `?` or "
            "`:name` placeholders), and quote identifiers with the driver (`quote_name()`, "
            "`psycopg.sql.Identifier`)",
        )

    def _interpolated(self, argument: cst.BaseExpression) -> _SqlText | None:
        """What interpolation puts into the SQL argument, directly or through a local name
        assigned above (any of its values, when it has several): None if nothing."""
        candidates = [argument]
        if isinstance(argument, cst.Name):
            candidates = _assigned_values(self.semantic, argument, local=True) or []
        for candidate in candidates:
            text = _SqlText(self.semantic)
            if text.read(candidate) and text.operands:
                return text
        scope = _function_scope(self.semantic)
        if isinstance(argument, cst.Name) and scope is not None:
            # `query += f" AND name = '{name}'"`: a query grown piece by piece, from text (a
            # statement object grown with `+=`, such as SQLAlchemy's lambda statements, is none).
            pieces = list(_appended(scope.owner, argument.value))
            starts = list(_assigned_in(scope.owner, argument.value))
            if not any(_is_string(p) or _SqlText(self.semantic).read(p) for p in starts + pieces):
                return None
            text = _SqlText(self.semantic)
            for piece in pieces:
                if not text.read(piece):
                    text.add("`+=` concatenation", piece)
            if text.operands:
                return text
        return None

    def _is_constant(self, node: cst.BaseExpression) -> bool:
        """A module-level name assigned only literal strings."""
        if not isinstance(node, cst.Name):
            return False
        values = _assigned_values(self.semantic, node, local=False)
        return values is not None and all(_is_string(value) for value in values)


# -- PA603 ------------------------------------------------------------------------------------

_METRICS = ("Counter", "Gauge", "Histogram", "Summary", "Info", "Enum")
_METRIC_CLASSES = frozenset(
    f"{module}.{name}"
    for module in ("prometheus_client", "prometheus_client.metrics")
    for name in _METRICS
)
_DEFAULT_REGISTRIES = frozenset(
    f"{module}.REGISTRY"
    for module in ("prometheus_client", "prometheus_client.registry", "prometheus_client.core")
)
_REGISTRY_CLASSES = frozenset(
    {"prometheus_client.CollectorRegistry", "prometheus_client.registry.CollectorRegistry"}
)
_CACHES = frozenset({"functools.cache", "functools.lru_cache"})
# `registry` is the seventh parameter of every metric class.
_REGISTRY_POSITION = 6


class MetricConstructedInFunction(Rule):
    CODE = "PA603"
    NAME = "metric-constructed-in-function"
    SEVERITY = Severity.ERROR
    REQUIRES_ANY = (b"prometheus",)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value not in _METRICS:
            return
        scope = _function_scope(self.semantic)
        if scope is None or not _resolves_to(self.semantic, node.func, _METRIC_CLASSES):
            return
        if self._own_registry(node) or self._exempt_function(scope):
            return
        self.report(
            node,
            f"`{_shown(node.func)}` built inside a function registers a new metric each call, "
            "and the second call raises `ValueError: Duplicated timeseries`; declare it once at "
            "module level and vary it with `.labels()`, or give it its own `registry=`",
        )

    def _own_registry(self, call: cst.Call) -> bool:
        """Registered elsewhere than the default registry (`registry=None`: nowhere)."""
        for index, arg in enumerate(call.args):
            if arg.star:
                return True  # could carry `registry=`: refuse to guess
            is_registry = (
                arg.keyword.value == "registry"
                if arg.keyword is not None
                else index == _REGISTRY_POSITION
            )
            if is_registry:
                return not _resolves_to(self.semantic, arg.value, _DEFAULT_REGISTRIES)
        return False

    def _exempt_function(self, scope: Scope) -> bool:
        """A factory cached by `functools` runs once; an `__init__` that is given a registry
        is how a collector registers where its caller says."""
        function = scope.owner
        if not isinstance(function, cst.FunctionDef):
            return False
        for decorator in function.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):
                expression = expression.func
            if _resolves_to(self.semantic, expression, _CACHES):
                return True
        if function.name.value != "__init__":
            return False
        # A parameter named so, or annotated as one (`CollectorRegistry | None` too).
        return any(
            param.name.value == "registry"
            or self.semantic.class_of(param.name) in _REGISTRY_CLASSES
            for param in (*function.params.params, *function.params.kwonly_params)
        )


# -- PA604 ------------------------------------------------------------------------------------

_ENQUEUE_METHODS = frozenset({"delay", "apply_async", "send_task"})
_ATOMIC = frozenset({"django.db.transaction.atomic"})
_BEGIN = frozenset({"begin", "begin_nested"})


def _transaction(semantic: SemanticModel) -> tuple[str, bool] | None:
    """The transaction the code here runs in, as written, and whether it is Django's: an
    enclosing `with transaction.atomic():`, `with`/`async with <x>.begin():`, or a function
    decorated `@transaction.atomic`. A lambda or a nested function runs later."""
    if semantic.scope.kind is ScopeKind.LAMBDA:
        return None
    for statement in reversed(semantic.statements):
        if isinstance(statement, cst.With):
            found = _opened_by(semantic, statement)
            if found is not None:
                return found
        elif isinstance(statement, cst.FunctionDef):
            return _atomic_decorator(semantic, statement)
        elif isinstance(statement, cst.ClassDef):
            return None
    return None


def _opened_by(semantic: SemanticModel, statement: cst.With) -> tuple[str, bool] | None:
    """The transaction a `with` statement opens, if it opens one."""
    for item in statement.items:
        called = item.item
        if not isinstance(called, cst.Call):
            continue
        func = called.func
        if _resolves_to(semantic, func, _ATOMIC):
            return f"with {_shown(called)}", True
        if isinstance(func, cst.Attribute) and func.attr.value in _BEGIN:
            keyword = "async with" if statement.asynchronous else "with"
            return f"{keyword} {_shown(called)}", False
    return None


def _atomic_decorator(
    semantic: SemanticModel, function: cst.FunctionDef
) -> tuple[str, bool] | None:
    for decorator in function.decorators:
        expression = decorator.decorator
        bare = expression.func if isinstance(expression, cst.Call) else expression
        if _resolves_to(semantic, bare, _ATOMIC):
            return f"@{_shown(expression)}", True
    return None


class TaskEnqueuedInTransaction(Rule):
    CODE = "PA604"
    NAME = "task-enqueued-in-transaction"
    SEVERITY = Severity.WARNING
    REQUIRES_ANY = (b"delay", b"apply_async", b"send_task")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (
            (isinstance(func, cst.Attribute) and func.attr.value in _ENQUEUE_METHODS)
            or _is_name(func, "send_task")
        ):
            return
        found = _transaction(self.semantic)
        if found is None:
            return
        context, django = found
        call = f"`{_shown(func)}()`"
        if django:
            fix = (
                "enqueue on commit: `.delay_on_commit()` (Celery >= 5.4) or "
                "`transaction.on_commit(lambda: ...)`"
            )
        else:
            fix = "enqueue after the block has committed"
        self.report(
            node,
            f"{call} inside `{context}` sends the task before the transaction commits: a worker "
            f"can run it before the rows exist, or for rows a rollback undid; {fix}. A savepoint "
            "that rolls back does not take a sent task back",
        )


# -- PA605 ------------------------------------------------------------------------------------

_SESSION_CLASSES = frozenset(
    {"sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session"}
    | {"sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession"}
)
_SESSION_MAKERS = frozenset(
    {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"}
    | {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)
_SESSION_ENDINGS = frozenset(name.rpartition(".")[2] for name in _SESSION_CLASSES)
_MAKER_ENDINGS = frozenset(name.rpartition(".")[2] for name in _SESSION_MAKERS)
_ENTERS = frozenset({"enter_context", "enter_async_context"})
_CALLBACKS = frozenset({"callback", "push_async_callback"})


def _holds(node: cst.BaseExpression | cst.From | None, name: str) -> bool:
    """Is `node` the name, or a tuple, list or call that directly holds it (`return s, n`,
    `return Repository(s)`)?"""
    if node is None:
        return False
    if _is_name(node, name):
        return True
    if isinstance(node, cst.Tuple | cst.List):
        return any(_is_name(element.value, name) for element in node.elements)
    if isinstance(node, cst.Call):
        return any(_is_name(arg.value, name) for arg in node.args)
    return False


def _scoped_in(function: cst.CSTNode, name: str) -> bool:
    """Does the function scope the session bound to `name`: `with name`, closed in `finally`,
    yielded, returned, stored on an object, or entered into an ExitStack?"""
    for node in _children(function):
        if isinstance(node, cst.WithItem) and _holds(node.item, name):
            return True
        if isinstance(node, cst.Finally) and any(
            isinstance(inner, cst.Call)
            and isinstance(inner.func, cst.Attribute)
            and inner.func.attr.value == "close"
            and _is_name(inner.func.value, name)
            for inner in _children(node)
        ):
            return True
        if isinstance(node, cst.Return | cst.Yield) and _holds(node.value, name):
            return True
        if isinstance(node, cst.Assign | cst.AnnAssign) and _is_name(node.value, name):
            targets = (
                [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            )
            if any(isinstance(target, cst.Attribute) for target in targets):
                return True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            if method in _ENTERS and any(_is_name(arg.value, name) for arg in node.args):
                return True
            if method in _CALLBACKS and any(
                isinstance(arg.value, cst.Attribute) and _is_name(arg.value.value, name)
                for arg in node.args
            ):
                return True
    return False


def _contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    return root is target or any(node is target for node in _children(root))


class DbSessionWithoutScope(Rule):
    CODE = "PA605"
    NAME = "db-session-without-scope"
    SEVERITY = Severity.WARNING
    # Every way this rule sees a session being made names something imported from SQLAlchemy.
    REQUIRES_ANY = (b"sqlalchemy",)

    def visit_Call(self, node: cst.Call) -> None:
        if not self._makes_session(node.func):
            return
        scope = _function_scope(self.semantic)
        if scope is None or self._scoped(node, scope):
            return
        made = _shown(node)
        self.report(
            node,
            f"The SQLAlchemy session from `{made}` is never closed here: it keeps its "
            "connection and transaction until garbage collection; use "
            f"`with {made} as session:` (`async with` for an AsyncSession), close it in "
            "`finally:`, or hand it to the caller (`return`/`yield`)",
        )

    def _makes_session(self, func: cst.BaseExpression) -> bool:
        semantic = self.semantic
        last = _last(func)
        if last in _SESSION_ENDINGS and _resolves_to(semantic, func, _SESSION_CLASSES):
            return True
        if isinstance(func, cst.Call):  # `sessionmaker(bind=engine)()`
            return _last(func.func) in _MAKER_ENDINGS and _resolves_to(
                semantic, func.func, _SESSION_MAKERS
            )
        if isinstance(func, cst.Name | cst.Attribute):  # a name bound to `sessionmaker(...)`
            return semantic.class_of(func) in _SESSION_MAKERS or self._annotated_maker(func)
        return False

    def _annotated_maker(self, func: cst.BaseExpression) -> bool:
        """A name annotated with a parametrised maker: `factory: async_sessionmaker[AsyncSession]`
        (`class_of` reads plain class annotations only)."""
        if not isinstance(func, cst.Name):
            return False
        semantic = self.semantic
        found = semantic.scope.lookup(
            func.value, semantic.statements[-1] if semantic.statements else None
        )
        if found is None or found[1].imports:
            return False
        annotations = [
            expression for how, expression, _ in found[1].values if how is Bound.ANNOTATED
        ]
        return bool(annotations) and all(
            isinstance(annotation, cst.Subscript)
            and _resolves_to(semantic, annotation.value, _SESSION_MAKERS)
            for annotation in annotations
        )

    def _scoped(self, node: cst.Call, scope: Scope) -> bool:
        """Is the new session `node` given a scope by the statement that makes it, or, when
        that statement binds it to a local name, by the function?"""
        statement = self.semantic.statements[-1] if self.semantic.statements else None
        if isinstance(statement, cst.With):
            return any(_contains(item.item, node) for item in statement.items)
        if isinstance(statement, cst.Return):
            return _hands_over(statement.value, node)
        if not isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
            return False
        value = statement.value
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, cst.Yield):
            return _hands_over(value.value, node)
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in _ENTERS
        ):
            return any(arg.value is node for arg in value.args)
        if value is not node or isinstance(statement, cst.Expr):
            return False
        targets = (
            [t.target for t in statement.targets]
            if isinstance(statement, cst.Assign)
            else [statement.target]
        )
        if any(isinstance(target, cst.Attribute) for target in targets):
            return True  # stored on an object
        if len(targets) == 1 and isinstance(targets[0], cst.Name):
            return _scoped_in(scope.owner, targets[0].value)
        return False


def _hands_over(value: cst.BaseExpression | cst.From | None, node: cst.Call) -> bool:
    """Does `value` (returned or yielded) hold the new session `node` directly?"""
    if value is node:
        return True
    if isinstance(value, cst.Tuple | cst.List):
        return any(element.value is node for element in value.elements)
    return isinstance(value, cst.Call) and any(arg.value is node for arg in value.args)


# -- PA606 ------------------------------------------------------------------------------------

_PRINTS = frozenset({"builtins.print", "pprint.pprint", "pprint.pp"})
_PRINT_ENDINGS = frozenset(name.rpartition(".")[2] for name in _PRINTS)
_STANDARD_STREAMS = frozenset({"sys.stdout", "sys.stderr"})
# Modules whose import makes a module a command-line program or a test.
_ENTRY_POINT_MODULES = frozenset({"click", "typer", "argparse", "pytest", "unittest"})


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    return any(_is_name(side, "__name__") for side in sides) and any(
        isinstance(side, cst.SimpleString) and side.evaluated_value == "__main__" for side in sides
    )


class PrintInLibraryCode(Rule):
    CODE = "PA606"
    NAME = "print-in-library-code"
    SEVERITY = Severity.INFO
    DEFAULT_ENABLED = False
    OPTIONS = OperationsOptions
    REQUIRES_ANY = (b"print",)

    # Decided at the end of the module: an import of click, a `__main__` guard calling `main()`
    # or a test function may come after the print.
    _held: list[tuple[Report, str | None]]
    _entry_point: bool
    _called_from_main: set[str]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._held = []
        # Where printing is the file's job by its place: a test, a script, `print-allowed`.
        self._by_place = bool(context.path) and context.options(OperationsOptions).allows_print_in(
            context.path
        )
        self._entry_point = self._by_place
        self._called_from_main = set()

    def visit_Module(self, node: cst.Module) -> None:
        first = node.header[0].comment if node.header else None
        script = first is not None and first.value.startswith("#!")
        self._entry_point = self._by_place or script

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._imported(dotted(alias.name))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        self._imported(dotted(node.module))

    def _imported(self, module: str | None) -> None:
        if module is not None and module.partition(".")[0] in _ENTRY_POINT_MODULES:
            self._entry_point = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.semantic.scope.kind is ScopeKind.MODULE and node.name.value.startswith("test"):
            self._entry_point = True  # a pytest module that imports nothing from pytest

    def visit_If(self, node: cst.If) -> None:
        if self.semantic.scope.kind is ScopeKind.MODULE and _is_main_guard(node.test):
            self._called_from_main.update(
                inner.func.value
                for inner in _children(node.body)
                if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name)
            )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        last = _last(func)
        if last not in _PRINT_ENDINGS or self._entry_point:
            return
        names = self.semantic.qualified_names(func)
        printer = next((name for name in names if name in _PRINTS), None)
        if printer is None or self._to_given_stream(node, printer):
            return
        if any(isinstance(s, cst.If) and _is_main_guard(s.test) for s in self.semantic.statements):
            return
        shown = printer.removeprefix("builtins.")
        report = self.hold(
            node,
            f"`{shown}()` in library code writes to stdout, which the application using it "
            "cannot silence, filter or route; log instead with the module's logger "
            "(`logger = logging.getLogger(__name__)`, then `logger.info(...)`)",
        )
        self._held.append((report, self._top_level_function()))

    def _to_given_stream(self, call: cst.Call, printer: str) -> bool:
        """`print(..., file=out)` writes where its caller said: output, not a log line; only
        `sys.stdout` and `sys.stderr` count as printing."""
        keyword = "file" if printer == "builtins.print" else "stream"
        stream: cst.BaseExpression | None = None
        for index, arg in enumerate(call.args):
            named = arg.keyword is not None and arg.keyword.value == keyword
            # `pprint(obj, stream)`: print's positional arguments are all printed
            second = arg.keyword is None and not arg.star and keyword == "stream" and index == 1
            if named or second:
                stream = arg.value
        if stream is None or _is_name(stream, "None"):
            return False
        return not _resolves_to(self.semantic, stream, _STANDARD_STREAMS)

    def _top_level_function(self) -> str | None:
        scope: Scope | None = self.semantic.scope
        while scope is not None and scope.parent is not None:
            if scope.parent.kind is ScopeKind.MODULE:
                owner = scope.owner
                return owner.name.value if isinstance(owner, cst.FunctionDef) else None
            scope = scope.parent
        return None

    def leave_Module(self, node: cst.Module) -> None:
        if self._entry_point:
            return
        for report, function in self._held:
            if function is None or function not in self._called_from_main:
                self.deliver(report)
