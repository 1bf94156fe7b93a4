"""PA4xx: asyncio. In the face of ambiguity, refuse the temptation to guess.

Names and types come from the file's semantic model (`pyarch_lint.semantics`): what a call
resolves to through the imports, whether the code runs in an `async def`'s own body, and whether
a receiver is visibly a concrete Path or an event loop. The walker gives PA401, PA402 and PA404
every call in a file that says `async`; they report the ones in an async body.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import ClassVar, cast

import libcst as cst

from pyarch_lint.checks import blocking_calls as known
from pyarch_lint.checks.base import Fix, Rule, RuleContext
from pyarch_lint.checks.options import AsyncOptions
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import SemanticModel, dotted
from pyarch_lint.walk import descendants


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


# What calls and attribute reads of known names give: paths stay paths, loop factories give
# loops. Anything else called is taken to build an instance of what it names (`Path(...)`).
_RESULTS: Mapping[str, str] = {
    **dict.fromkeys(known.LOOP_FACTORIES, "asyncio.AbstractEventLoop"),
    **{factory: factory.rpartition(".")[0] for factory in known.PATH_FACTORIES},
    **{
        f"{cls}.{member}": cls
        for cls in known.PATH_CLASSES
        for member in (
            *known.PATH_RETURNING_METHODS,
            *known.PATH_ATTRIBUTES,
            "__truediv__",
            "__rtruediv__",
        )
    },
}


def _is_path(semantic: SemanticModel, node: cst.BaseExpression) -> bool:
    return semantic.class_of(node, _RESULTS) in known.PATH_CLASSES


def _is_loop(semantic: SemanticModel, node: cst.BaseExpression) -> bool:
    """Is `node` an event loop: made by `asyncio.get_running_loop()` and friends, annotated
    as one, or named like one (`loop`, `self._loop`)?"""
    if semantic.class_of(node, _RESULTS) in known.LOOP_CLASSES:
        return True
    if isinstance(node, cst.Name):
        return _is_loop_name(node.value)
    return isinstance(node, cst.Attribute) and _is_loop_name(node.attr.value)


def _is_loop_name(identifier: str) -> bool:
    """`loop`, `_loop`, `event_loop`, `self.main_loop`: names people give an event loop."""
    name = identifier.lower()
    return name.lstrip("_") == "loop" or name.endswith("_loop")


def _endings(names: Iterable[str]) -> frozenset[str]:
    """The last segments of dotted names: `time.sleep` -> `sleep`."""
    return frozenset(name.rpartition(".")[2] for name in names)


def _match(
    semantic: SemanticModel,
    func: cst.BaseExpression,
    names: Collection[str],
    endings: frozenset[str],
) -> str | None:
    """The name in `names` that the called `func` resolves to, if any."""
    # Resolution changes what the head of `a.b.c` stands for, never the last attribute, so
    # most method calls (`self.save()`) are ruled out without a lookup.
    if isinstance(func, cst.Attribute) and func.attr.value not in endings:
        return None
    for name in semantic.qualified_names(func):
        if name in names:
            return name
    return None


_CATALOGUE_ENDINGS = _endings(known.BLOCKING_CALLS)
_FILE_CALL_ENDINGS = _endings(known.BLOCKING_FILE_CALLS)
_TASK_FACTORY_ENDINGS = _endings(known.TASK_FACTORIES)
_LOOP_RUNNER_ENDINGS = _endings(known.LOOP_RUNNERS)


def _shown(func: cst.BaseExpression, qualified: str) -> str:
    """How a call is named in a message: as written, plus what it resolved to if different."""
    resolved = qualified.removeprefix("builtins.")
    written = dotted(func)
    if written is None or written == resolved:
        return f"`{resolved}()`"
    return f"`{written}()` (`{resolved}`)"


# Every call they report is in an `async def`, and a file without `async` has none.
_ASYNC = (b"async",)


class BlockingCallInAsync(Rule):
    CODE = "PA401"
    NAME = "blocking-call-in-async"
    SEVERITY = Severity.ERROR
    OPTIONS = AsyncOptions
    REQUIRES_ANY = _ASYNC

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._catalogue = blocking_calls(context.options(AsyncOptions))
        self._endings = (
            _CATALOGUE_ENDINGS
            if self._catalogue is known.BLOCKING_CALLS
            else _endings(self._catalogue)
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.in_async_body():
            return
        name = _match(self.semantic, node.func, self._catalogue, self._endings)
        if name is not None:
            self.report(
                node,
                f"Blocking call {_shown(node.func, name)} in `async def` stalls the event "
                f"loop; use {self._catalogue[name]}",
                asyncio_sleep_fix(self.semantic, node) if name == "time.sleep" else None,
            )


class BlockingFileIoInAsync(Rule):
    CODE = "PA402"
    NAME = "blocking-file-io-in-async"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    REQUIRES_ANY = _ASYNC

    _PATH_PREFIX: ClassVar[str] = "pathlib.Path."

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._calls = blocking_file_calls(context.options(AsyncOptions))

    def visit_Call(self, node: cst.Call) -> None:
        semantic = self.semantic
        if not semantic.in_async_body():
            return
        func = node.func
        name = _match(semantic, func, self._calls, _FILE_CALL_ENDINGS)
        if name is not None:
            self._report(node, _shown(func, name), self._calls[name])
            return
        if not isinstance(func, cst.Attribute):
            return
        method = self._PATH_PREFIX + func.attr.value
        if method in self._calls and _is_path(semantic, func.value):
            self._report(node, f"`Path.{func.attr.value}()`", self._calls[method])

    def _report(self, node: cst.Call, shown: str, alternative: str) -> None:
        self.report(
            node,
            f"Blocking file I/O {shown} in `async def` stalls the event loop while the disk "
            f"works; use {alternative}",
        )


class DanglingTask(Rule):
    CODE = "PA403"
    NAME = "dangling-task"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    # A task can be created anywhere, also in a sync callback running on the loop.
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
        name = _match(self.semantic, func, known.TASK_FACTORIES, _TASK_FACTORY_ENDINGS)
        if name is not None:
            self._report(node, _shown(func, name))
            return
        # `tg.create_task()` on a TaskGroup is fine: the group keeps the task. Only a loop's
        # `create_task` leaves it dangling.
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "create_task"
            and _is_loop(self.semantic, func.value)
        ):
            self._report(node, "`loop.create_task()`")

    def _report(self, node: cst.Expr, shown: str) -> None:
        self.report(
            node,
            f"The task from {shown} is not stored: the event loop keeps only a weak reference, "
            "so it can be garbage-collected mid-flight; keep a reference (e.g. in a set, "
            "discarded with `task.add_done_callback`) or use `asyncio.TaskGroup`",
        )


class NestedEventLoop(Rule):
    CODE = "PA404"
    NAME = "nested-event-loop"
    SEVERITY = Severity.ERROR
    OPTIONS = AsyncOptions
    REQUIRES_ANY = _ASYNC

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.in_async_body():
            return
        func = node.func
        name = _match(self.semantic, func, known.LOOP_RUNNERS, _LOOP_RUNNER_ENDINGS)
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
            method == "run_forever" and _is_loop(self.semantic, func.value)
        ):
            self._report(node, f"`loop.{method}()`")

    def _report(self, node: cst.Call, shown: str) -> None:
        self.report(
            node,
            f"{shown} inside `async def` tries to run a second event loop on this thread, "
            "which fails (RuntimeError) or blocks the running one; `await` the coroutine instead",
        )


# Event-loop libraries: a module that imports only those of asyncio runs on asyncio.
_ASYNCIO_ONLY = frozenset({"asyncio", "aiohttp", "uvloop"})
_OTHER_LOOPS = frozenset({"trio", "anyio", "curio"})


def asyncio_sleep_fix(semantic: SemanticModel, call: cst.Call) -> Fix | None:
    """PA401's fix for a `time.sleep(...)` statement: `await asyncio.sleep(...)`, in a module
    that imports asyncio (or aiohttp, uvloop) and not trio, anyio or curio. Unsafe: other tasks
    now run during the pause, and it can be cancelled there."""
    statement = semantic.statements[-1] if semantic.statements else None
    if not (isinstance(statement, cst.Expr) and statement.value is call):
        return None  # in an expression (a lambda, a generator): `await` may not go there
    loops = _imported_roots(semantic)
    if not loops & _ASYNCIO_ONLY or loops & _OTHER_LOOPS:
        return None
    bound = semantic.qualified_names(cst.Name("asyncio"))
    if bound not in (("asyncio",), ("builtins.asyncio",)):
        return None  # the name means something else here
    sleep = cst.Attribute(cst.Name("asyncio"), cst.Name("sleep"))
    awaited = cst.Await(
        call.with_changes(func=sleep, lpar=(), rpar=()), lpar=call.lpar, rpar=call.rpar
    )
    imports = ("asyncio",) if bound == ("builtins.asyncio",) else ()
    return Fix("Use `await asyncio.sleep(...)`", False, call, awaited, imports)


def _imported_roots(semantic: SemanticModel) -> frozenset[str]:
    """The top-level packages the module imports at module level."""
    scope = semantic.scope
    while scope.parent is not None:
        scope = scope.parent
    module = cast(cst.Module, scope.owner)
    roots: set[str] = set()
    for statement in descendants(module, _IMPORTS, _NOT_MODULE_LEVEL):
        if isinstance(statement, cst.Import):
            roots.update(dotted(alias.name) or "" for alias in statement.names)
        elif isinstance(statement, cst.ImportFrom) and not statement.relative:
            roots.add((dotted(statement.module) if statement.module else None) or "")
    return frozenset(root.partition(".")[0] for root in roots)


_IMPORTS: frozenset[type[cst.CSTNode]] = frozenset({cst.Import, cst.ImportFrom})
_NOT_MODULE_LEVEL: frozenset[type[cst.CSTNode]] = frozenset({cst.FunctionDef, cst.ClassDef})
