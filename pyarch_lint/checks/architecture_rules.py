"""PA503, PA504, PA506: where configuration, clients and state live. Explicit is better than
implicit.

Each looks at one file: an environment read outside the modules whose job it is (PA503), a
heavy client built where it runs on every request, task or iteration (PA504), a function that
changes module-level state (PA506). Names come from the semantic model, so `from os import
getenv as env` is still `os.getenv`; the file's path, relative to the project root, tells
configuration modules and tests apart.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import libcst as cst

from pyarch_lint.checks.base import Rule, RuleContext, all_params
from pyarch_lint.checks.options import (
    TEST_MODULES,
    ClientOptions,
    EnvironmentOptions,
    ModuleStateOptions,
)
from pyarch_lint.files import path_matches
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import ScopeKind, dotted, target_parts


def is_main_guard(node: cst.If) -> bool:
    """`if __name__ == "__main__":`, either way round."""
    test = node.test
    if not (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Equal)
    ):
        return False
    sides = (test.left, test.comparisons[0].comparator)
    names = [side.value for side in sides if isinstance(side, cst.Name)]
    strings = [side.evaluated_value for side in sides if isinstance(side, cst.SimpleString)]
    return names == ["__name__"] and strings == ["__main__"]


def _decorator_target(decorator: cst.Decorator) -> cst.BaseExpression:
    """What a decorator names: `app.get` of `@app.get("/")`."""
    expression = decorator.decorator
    return expression.func if isinstance(expression, cst.Call) else expression


def _last_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _could_be(node: cst.BaseExpression, endings: frozenset[str]) -> bool:
    """Could `node` resolve to a name ending in one of `endings`? Resolution changes what the
    head of `a.b.c` stands for, never the last attribute, so most attribute chains are ruled
    out without a lookup; a plain name may be an alias (`from os import getenv as env`)."""
    return isinstance(node, cst.Name) or (
        isinstance(node, cst.Attribute) and node.attr.value in endings
    )


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return value
    return None


# --- PA503 ------------------------------------------------------------------------------------

_ENVIRONS = frozenset({"os.environ", "os.environb"})
_GETTERS = frozenset({"os.getenv", "os.getenvb", "os.environ.get", "os.environb.get"})
_GETTER_ENDINGS = frozenset({"getenv", "getenvb", "get"})
_ENVIRON_ENDINGS = frozenset({"environ", "environb"})


class EnvReadOutsideConfig(Rule):
    """Reads: `os.environ[...]` as a value, `os.environ.get`, `os.getenv`, `in os.environ`.
    Writes (assigned or deleted items, `setdefault`, `update`, `pop`) are not reads."""

    CODE = "PA503"
    NAME = "env-read-outside-config"
    SEVERITY = Severity.WARNING
    OPTIONS = EnvironmentOptions
    REQUIRES_ANY = (b"environ", b"getenv")

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        options = context.options(EnvironmentOptions)
        patterns = options.config_modules + options.extend_config_modules
        self._config = bool(context.path) and path_matches(context.path, patterns)
        self._allowed = frozenset(options.allowed_variables)
        self._written: set[int] = set()  # ids of the subscripts assignments and `del` write

    def visit_Module(self, node: cst.Module) -> bool:
        return not self._config

    def visit_If(self, node: cst.If) -> bool:
        return not is_main_guard(node)

    def _writes(self, target: cst.BaseExpression) -> None:
        for written in target_parts(target):
            if isinstance(written, cst.Subscript):
                self._written.add(id(written))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._writes(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._writes(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._writes(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._writes(node.target)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if id(node) in self._written or not self._is_environ(node.value):
            return
        key = None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = node.slice[0].slice.value
        self._read(node, key, f"`{dotted(node.value) or 'os.environ'}[...]`")

    def visit_Call(self, node: cst.Call) -> None:
        if not _could_be(node.func, _GETTER_ENDINGS):
            return
        names = self.semantic.qualified_names(node.func)
        name = next((n for n in names if n in _GETTERS), None)
        if name is None:
            return
        key = node.args[0].value if node.args and not node.args[0].star else None
        self._read(node, key, f"`{dotted(node.func) or name}()`")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, cst.In | cst.NotIn) and self._is_environ(
                target.comparator
            ):
                self._read(node, left, f"`in {dotted(target.comparator) or 'os.environ'}`")
            left = target.comparator

    def _is_environ(self, node: cst.BaseExpression) -> bool:
        if not _could_be(node, _ENVIRON_ENDINGS):
            return False
        return any(name in _ENVIRONS for name in self.semantic.qualified_names(node))

    def _read(self, node: cst.CSTNode, key: cst.BaseExpression | None, how: str) -> None:
        variable = None if key is None else _string(key)
        if variable in self._allowed:
            return
        what = "the environment" if variable is None else f"`{variable}`"
        self.report(
            node,
            f"{how} reads {what} outside a configuration module: read it once in a settings "
            "module and pass the value in (or add this module to `extend-config-modules`)",
        )


# --- PA504 ------------------------------------------------------------------------------------

# Clients that own connection pools, sockets or credentials lookups: built once, shared.
CLIENTS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
        "urllib3.PoolManager",
        "boto3.client",
        "boto3.resource",
        "boto3.Session",
        "boto3.session.Session",
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "redis.StrictRedis.from_url",
        "redis.client.Redis",
        "redis.asyncio.Redis",
        "redis.asyncio.from_url",
        "redis.asyncio.Redis.from_url",
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "pymongo.MongoClient",
        "pymongo.AsyncMongoClient",
        "pymongo.mongo_client.MongoClient",
        "motor.motor_asyncio.AsyncIOMotorClient",
        "elasticsearch.Elasticsearch",
        "elasticsearch.AsyncElasticsearch",
    }
)

# `@app.get("/")`, `@router.post`, `@app.route`, `@bp.route`, `@routes.get` (aiohttp).
_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "route", "api_route"}
    | {"websocket", "websocket_route"}
)
# Django and Django REST framework views, by their decorators.
_VIEW_DECORATORS = frozenset(
    {"api_view", "require_http_methods", "require_GET", "require_POST", "require_safe"}
)
_TASKS = frozenset({"celery.shared_task", "celery.task", "celery.decorators.periodic_task"})
# The methods a class-based view (Django, Flask's MethodView, aiohttp, Tornado) serves.
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
_VIEW_BASES = ("View", "ViewSet", "RequestHandler", "Resource", "Endpoint")
_CACHES = frozenset({"cache", "lru_cache", "cached_property"})
_HOOK_DECORATORS = frozenset(
    {"on_event", "on_startup", "before_serving", "before_first_request", "asynccontextmanager"}
    | {"contextmanager", "connect"}
)
_HOOK_NAMES = ("lifespan", "startup", "setup", "init_app")


def _roots(names: frozenset[str] | tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(sorted({name.partition(".")[0].encode() for name in names}))


def _is_view_class(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.ClassDef) and any(
        (_last_name(base.value) or "").endswith(_VIEW_BASES) for base in statement.bases
    )


def _binds(statement: cst.CSTNode, call: cst.Call) -> str | None:
    """The name a statement binds the call's result to: `s = Session()`, `with Session() as s`."""
    if isinstance(statement, cst.Assign) and statement.value is call:
        targets = [t.target for t in statement.targets if isinstance(t.target, cst.Name)]
        return targets[0].value if targets else None
    if isinstance(statement, cst.With):
        for item in statement.items:
            if item.item is call and item.asname and isinstance(item.asname.name, cst.Name):
                return item.asname.name.value
    return None


def _hands_out(function: cst.FunctionDef, call: cst.Call, name: str | None) -> bool:
    """Does the function return or yield the call's result (directly, or by `name`)?"""
    for statement in own_statements(function.body):
        value: cst.BaseExpression | cst.From | None = None
        if isinstance(statement, cst.Return):
            value = statement.value
        elif isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Yield):
            value = statement.value.value  # `yield from` hands out another's values
        if value is call or (name is not None and _names(value, name)):
            return True
    return False


def _names(node: cst.BaseExpression | cst.From | None, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def own_statements(suite: cst.BaseSuite) -> Iterator[cst.CSTNode]:
    """The statements of a function body at any depth of blocks, small ones included; those of
    nested functions and classes left out (their `return` is theirs)."""
    if isinstance(suite, cst.SimpleStatementSuite):
        yield from suite.body
        return
    for statement in suite.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, cst.FunctionDef | cst.ClassDef):
            continue
        elif isinstance(statement, cst.BaseCompoundStatement):
            yield statement
            for block in _blocks(statement):
                yield from own_statements(block)


def _blocks(statement: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    """Every block of a compound statement: its body, `elif`/`else`, `except`, `finally`,
    `case`."""
    if isinstance(statement, cst.Match):
        yield from (case.body for case in statement.cases)
        return
    yield statement.body
    if isinstance(statement, cst.Try | cst.TryStar):
        yield from (handler.body for handler in statement.handlers)
    tail = getattr(statement, "orelse", None)
    if isinstance(tail, cst.If):
        yield from _blocks(tail)
    elif isinstance(tail, cst.Else):
        yield tail.body
    final = getattr(statement, "finalbody", None)
    if isinstance(final, cst.Finally):
        yield final.body


class ClientConstructedPerCall(Rule):
    CODE = "PA504"
    NAME = "client-constructed-per-call"
    SEVERITY = Severity.WARNING
    OPTIONS = ClientOptions
    REQUIRES_ANY = _roots(CLIENTS)

    @classmethod
    def requires_any(cls, options: Mapping[type[Any], Any]) -> tuple[bytes, ...] | None:
        extra = options[ClientOptions].extend_clients if ClientOptions in options else ()
        return cls.REQUIRES_ANY + _roots(extra) if extra else cls.REQUIRES_ANY

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._clients = CLIENTS | frozenset(context.options(ClientOptions).extend_clients)
        self._endings = frozenset(name.rpartition(".")[2] for name in self._clients)
        self._test = bool(context.path) and path_matches(context.path, TEST_MODULES)

    def visit_Module(self, node: cst.Module) -> bool:
        return not self._test  # a test builds what it tests, per test or per case

    def visit_Call(self, node: cst.Call) -> None:
        if not _could_be(node.func, self._endings):
            return
        client = next(
            (n for n in self.semantic.qualified_names(node.func) if n in self._clients), None
        )
        if client is None:
            return
        where = self._per_call(node)
        if where is not None:
            self.report(
                node,
                f"`{dotted(node.func) or client}()` is built {where}, opening new connections "
                "each time: build it once (at module level, in a lifespan or startup hook, or "
                "in a cached factory) and reuse it",
            )

    def _per_call(self, call: cst.Call) -> str | None:
        """Where the call runs on every request, task or iteration, said for the message; None
        where it runs once, or in a factory."""
        statements = self.semantic.statements
        functions = [(i, s) for i, s in enumerate(statements) if isinstance(s, cst.FunctionDef)]
        if not functions:
            return None  # module level: once per process, loops included
        index, innermost = functions[-1]
        if self._is_factory(innermost, call, statements[-1]):
            return None
        for position, function in reversed(functions):
            kind = self._handler_kind(function, statements[position - 1] if position else None)
            if kind is not None:
                return f"in {kind} `{function.name.value}`"
        inner = statements[index + 1 : -1]  # the call's own statement runs it once
        in_loop = any(isinstance(s, cst.For | cst.While) for s in inner)
        if in_loop or self._in_comprehension():
            return f"inside a loop in `{innermost.name.value}`"
        return None

    def _in_comprehension(self) -> bool:
        return self.semantic.scope.kind is ScopeKind.COMPREHENSION

    def _is_factory(self, function: cst.FunctionDef, call: cst.Call, at: cst.CSTNode) -> bool:
        """`__init__`, a cached function, a lifespan or startup hook, or one that returns or
        yields what it builds."""
        name = function.name.value
        if name == "__init__" or any(hook in name.lower() for hook in _HOOK_NAMES):
            return True
        for decorator in function.decorators:
            last = _last_name(_decorator_target(decorator))
            if last in _CACHES or last in _HOOK_DECORATORS:
                return True
        return _hands_out(function, call, _binds(at, call))

    def _handler_kind(self, function: cst.FunctionDef, parent: cst.CSTNode | None) -> str | None:
        for decorator in function.decorators:
            target = _decorator_target(decorator)
            last = _last_name(target)
            if isinstance(target, cst.Attribute) and last in _ROUTE_METHODS:
                return "route handler"
            if last in _VIEW_DECORATORS:
                return "view"
            if last == "task" and isinstance(target, cst.Attribute):
                return "task"
            if last in ("shared_task", "periodic_task") or any(
                name in _TASKS for name in self.semantic.qualified_names(target)
            ):
                return "task"
        if function.name.value in _VIEW_METHODS and parent is not None and _is_view_class(parent):
            return "view"
        return None


# --- PA506 ------------------------------------------------------------------------------------

# Calls whose result is a mutable container.
_CONTAINER_FACTORIES = frozenset(
    {f"builtins.{name}" for name in ("dict", "list", "set", "bytearray")}
    | {
        f"collections.{name}"
        for name in ("defaultdict", "OrderedDict", "Counter", "deque", "ChainMap")
    }
    | {f"weakref.{name}" for name in ("WeakValueDictionary", "WeakKeyDictionary", "WeakSet")}
)
_CONTAINER_DISPLAYS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "setdefault"}
    | {"add", "discard", "sort", "reverse", "appendleft", "extendleft", "popleft", "rotate"}
    | {"difference_update", "intersection_update", "symmetric_difference_update"}
    | {"__setitem__", "__delitem__"}
)


def _root(node: cst.BaseExpression) -> cst.Name | None:
    """The module-level name a mutated expression hangs from: `X` of `X[k]`, `X[a][b]`,
    `X.setdefault(k, [])`, `X[k].append`."""
    while True:
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            node = node.func.value
        else:
            return node if isinstance(node, cst.Name) else None


def _mutated(call: cst.BaseExpression | None) -> cst.Name | None:
    """The name a method call mutates in place: `X.append(v)`, `X.setdefault(k, []).append(v)`."""
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
        return None
    if call.func.attr.value in MUTATORS:
        return _root(call.func.value)
    return _mutated(call.func.value)


_FUNCTION_SCOPES = frozenset({ScopeKind.FUNCTION, ScopeKind.ASYNC_FUNCTION})


class _Function:
    """What PA506 keeps of the function being walked."""

    __slots__ = ("_exempt", "declared", "module_getattr", "node", "reported")

    def __init__(self, node: cst.FunctionDef, module_getattr: bool) -> None:
        self.node = node
        self.module_getattr = module_getattr  # PEP 562's `__getattr__`, which caches by design
        self.declared: set[str] = set()  # `global` names
        self.reported: set[str] = set()
        self._exempt: bool | None = None

    @property
    def exempt(self) -> bool:
        """Worked out when it first changes something: most functions never do."""
        if self._exempt is None:
            self._exempt = self.module_getattr or _returns_a_parameter(self.node)
        return self._exempt


class MutableModuleState(Rule):
    """One finding per function and name, at the first place the function changes it."""

    CODE = "PA506"
    NAME = "mutable-module-state"
    SEVERITY = Severity.INFO
    OPTIONS = ModuleStateOptions

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._registries = context.options(ModuleStateOptions).registries
        self._test = bool(context.path) and path_matches(context.path, TEST_MODULES)
        self._containers: frozenset[str] = frozenset()
        self._functions: list[_Function] = []
        # Can a statement here change module state? Inside a function, in a module with
        # containers or where the function declared a `global`: the statement hooks, called
        # for most statements of every file, return at once otherwise.
        self._live = False

    def visit_Module(self, node: cst.Module) -> bool:
        if self._test:
            return False
        self._containers = frozenset(self._module_containers(node))
        return True

    def _module_containers(self, module: cst.Module) -> Iterator[str]:
        """Names the module's own top-level statements bind to a container."""
        for statement in module.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    yield from self._bound_containers(small)

    def _bound_containers(self, statement: cst.BaseSmallStatement) -> Iterator[str]:
        if isinstance(statement, cst.Assign):
            targets = [target.target for target in statement.targets]
            value: cst.BaseExpression | None = statement.value
        elif isinstance(statement, cst.AnnAssign):
            targets, value = [statement.target], statement.value
        else:
            return
        if value is not None and self._is_container(value):
            yield from (target.value for target in targets if isinstance(target, cst.Name))

    def _is_container(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, _CONTAINER_DISPLAYS):
            return True
        return isinstance(value, cst.Call) and any(
            name in _CONTAINER_FACTORIES for name in self.semantic.qualified_names(value.func)
        )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        module_getattr = (
            node.name.value == "__getattr__" and self.semantic.scope.kind is ScopeKind.MODULE
        )
        self._functions.append(_Function(node, module_getattr))
        self._live = bool(self._containers)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._live = bool(self._functions) and bool(
            self._containers or self._functions[-1].declared
        )

    def visit_Global(self, node: cst.Global) -> None:
        if self._functions:
            self._functions[-1].declared.update(item.name.value for item in node.names)
            self._live = True

    # Rebinding a `global` name, or writing into a module-level container.
    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._live:
            return
        for target in node.targets:
            self._stored(target.target)
        self._value(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self._live:
            return
        if node.value is not None:
            self._stored(node.target)
            self._value(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not self._live:
            return
        self._stored(node.target)
        self._value(node.value)

    def visit_Del(self, node: cst.Del) -> None:
        if not self._live:
            return
        self._stored(node.target)

    def visit_For(self, node: cst.For) -> None:
        if not self._live:
            return
        self._stored(node.target)

    def visit_With(self, node: cst.With) -> None:
        if not self._live:
            return
        for item in node.items:
            if item.asname is not None:
                self._stored(item.asname.name)

    def visit_Import(self, node: cst.Import) -> None:
        if not self._live:
            return
        self._imported(node.names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._live:
            return
        if not isinstance(node.names, cst.ImportStar):
            self._imported(node.names)

    def visit_Expr(self, node: cst.Expr) -> None:
        if not self._live:
            return
        self._value(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if not self._live:
            return
        self._value(node.value)

    def _imported(self, names: Sequence[cst.ImportAlias]) -> None:
        for alias in names:
            bound: cst.BaseExpression = alias.asname.name if alias.asname else alias.name
            while isinstance(bound, cst.Attribute):  # `import a.b` binds `a`
                bound = bound.value
            if isinstance(bound, cst.Name):
                self._rebound(bound)

    def _stored(self, target: cst.BaseExpression) -> None:
        for written in target_parts(target):
            if isinstance(written, cst.Name):
                self._rebound(written)
            elif isinstance(written, cst.Subscript):
                root = _root(written)
                if root is not None:
                    self._container(written, root)

    def _value(self, value: cst.BaseExpression | None) -> None:
        if isinstance(value, cst.Await):
            value = value.expression
        root = _mutated(value)
        if root is not None and value is not None:
            self._container(value, root)

    def _rebound(self, name: cst.Name) -> None:
        function = self._function()
        if function is not None and name.value in function.declared:
            self._found(function, name, name.value, "rebinds the global")

    def _container(self, node: cst.CSTNode, root: cst.Name) -> None:
        function = self._function()
        if function is None or root.value not in self._containers:
            return
        if root.value not in function.declared:
            found = self.semantic.scope.lookup(root.value)
            if found is None or found[0].kind is not ScopeKind.MODULE:
                return  # a local or enclosing name of the same spelling
        self._found(function, node, root.value, "changes the module-level container")

    def _function(self) -> _Function | None:
        """The function being walked, if the code here is its own (not the body of a class
        defined in it)."""
        if not self._functions or self.semantic.scope.kind not in _FUNCTION_SCOPES:
            return None
        return self._functions[-1]

    def _found(self, function: _Function, node: cst.CSTNode, name: str, what: str) -> None:
        if name in function.reported or self._is_registry(name) or function.exempt:
            return
        function.reported.add(name)
        self.report(
            node,
            f"`{function.node.name.value}` {what} `{name}`: state shared by every caller and "
            "thread, reset only by restarting; pass it in, keep it on an object that owns it, "
            "or use `functools.cache` for a value built once",
        )

    def _is_registry(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self._registries)


def _returns_a_parameter(function: cst.FunctionDef) -> bool:
    """A decorator that registers what it decorates and hands it back: `return func`."""
    parameters = {param.name.value for param in all_params(function.params)}
    return any(
        isinstance(statement, cst.Return)
        and isinstance(statement.value, cst.Name)
        and statement.value.value in parameters
        for statement in own_statements(function.body)
    )
