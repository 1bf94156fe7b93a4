"""PA4xx: asyncio. In the face of ambiguity, refuse the temptation to guess.

Names and types come from the file's semantic model (`pyarch_lint.semantics`): what a call
resolves to through the imports, whether the code runs in an `async def`'s own body, and whether
a receiver is visibly a concrete Path or an event loop. The walker gives PA401, PA402 and PA404
every call in a file that says `async`; they report the ones in an async body.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, cast

import libcst as cst

from pyarch_lint.checks import blocking_calls as known
from pyarch_lint.checks.base import Fix, Handler, Rule, RuleContext
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


_CLIENT_METHOD_ENDINGS = frozenset(
    method for client in known.BLOCKING_CLIENTS.values() for method in client.methods
)


def client_class(semantic: SemanticModel, node: cst.BaseExpression) -> str | None:
    """The client class (`blocking_calls.CLIENT_RESULTS`) `node` visibly is an instance of,
    under its usual name (`requests.Session` for a `requests.sessions.Session`), or None."""
    kind = semantic.class_of(node, known.CLIENT_RESULTS)
    return None if kind is None else known.CLIENT_ALIASES.get(kind, kind)


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


def shown_call(func: cst.BaseExpression, qualified: str) -> str:
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
        options = context.options(AsyncOptions)
        self._catalogue = blocking_calls(options)
        self._allowed = options.allowed_blocking_calls
        self._endings = (
            _CATALOGUE_ENDINGS
            if self._catalogue is known.BLOCKING_CALLS
            else _endings(self._catalogue)
        )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.semantic.in_async_body():
            return
        func = node.func
        name = _match(self.semantic, func, self._catalogue, self._endings)
        if name is not None:
            fix = asyncio_sleep_fix(self.semantic, node) if name == "time.sleep" else None
            self._report(node, shown_call(func, name), self._catalogue[name], fix)
            return
        if isinstance(func, cst.Attribute) and func.attr.value in _CLIENT_METHOD_ENDINGS:
            self._check_method(node, func)

    def _check_method(self, node: cst.Call, func: cst.Attribute) -> None:
        """A blocking method called on a sync client the code shows."""
        receiver = func.value
        # `requests.Session().get(url)`: the constructor is reported already, on this line.
        if isinstance(receiver, cst.Call) and _match(
            self.semantic, receiver.func, self._catalogue, self._endings
        ):
            return
        kind = client_class(self.semantic, receiver)
        client = None if kind is None else known.BLOCKING_CLIENTS.get(kind)
        if client is None or func.attr.value not in client.methods:
            return
        name = f"{kind}.{func.attr.value}"
        if not _is_allowed(name, self._allowed):
            self._report(node, shown_call(func, name), client.alternative)

    def _report(self, node: cst.Call, shown: str, alternative: str, fix: Fix | None = None) -> None:
        self.report(
            node,
            f"Blocking call {shown} in `async def` stalls the event loop; use {alternative}",
            fix,
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
            self._report(node, shown_call(func, name), self._calls[name])
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
            self._report(node, shown_call(func, name))
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
            self._report(node, shown_call(func, name))
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


def _is_false_or_zero(node: cst.BaseExpression) -> bool:
    """`False`, `0` or `0.0`: a non-blocking `acquire` argument."""
    if isinstance(node, cst.Name):
        return node.value == "False"
    if isinstance(node, cst.Integer | cst.Float):
        return node.evaluated_value == 0
    return False


def _acquire_waits(call: cst.Call) -> bool:
    """Does `lock.acquire(...)` wait? Not with `blocking=False` (or `False` first) nor a zero
    timeout (`timeout=0`, or `0` second): those try once and return."""
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    blocking = keywords.get("blocking", positional[0] if positional else None)
    timeout = keywords.get("timeout", positional[1] if len(positional) > 1 else None)
    return not any(value is not None and _is_false_or_zero(value) for value in (blocking, timeout))


_LOCK_ADVICE = (
    "waiting for it blocks the event loop, and a task holding it across an `await` can "
    "deadlock the loop; use `asyncio.Lock` (`async with lock:`) between tasks, or move the "
    "locked section to a thread with `asyncio.to_thread`"
)


class SyncLockInAsync(Rule):
    CODE = "PA405"
    NAME = "sync-lock-in-async"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    # Every lock it reports is taken in an `async def`. (The lock's class names are necessary
    # too, but a file that says `async` is walked for PA401 anyway: no walk of its own.)
    REQUIRES_ANY = _ASYNC

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None or not self.semantic.in_async_body():
            return
        for item in node.items:
            kind = self._lock_class(item.item)
            if kind is not None:
                self.report(
                    node,
                    f"`with {dotted(item.item) or '...'}:` takes a `{kind}` in `async def`: "
                    + _LOCK_ADVICE,
                )
                return

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "acquire"):
            return
        if not self.semantic.in_async_body() or not _acquire_waits(node):
            return
        kind = self._lock_class(func.value)
        if kind is not None:
            self.report(
                node,
                f"`{dotted(func) or 'acquire'}()` on a `{kind}` in `async def`: " + _LOCK_ADVICE,
            )

    def _lock_class(self, node: cst.BaseExpression) -> str | None:
        kind = self.semantic.class_of(node, known.THREAD_LOCK_RESULTS)
        return kind if kind in known.THREAD_LOCKS else None


# Code in a nested def, lambda or class runs elsewhere, later: a block's own code stops there.
_NESTED_SCOPES: frozenset[type[cst.CSTNode]] = frozenset(
    {cst.FunctionDef, cst.ClassDef, cst.Lambda}
)
_NESTED_SCOPES_AND_LOOPS: frozenset[type[cst.CSTNode]] = _NESTED_SCOPES | {cst.For, cst.While}
_AWAIT_POINTS: frozenset[type[cst.CSTNode]] = frozenset({cst.Await, cst.With, cst.For, cst.CompFor})
_ENDINGS_OF_THE_TASK: frozenset[type[cst.CSTNode]] = frozenset({cst.Raise, cst.Return})
_CALLS: frozenset[type[cst.CSTNode]] = frozenset({cst.Call})
_KEEPING: frozenset[type[cst.CSTNode]] = frozenset({cst.Call, cst.Assign, cst.AnnAssign})
_BREAKS: frozenset[type[cst.CSTNode]] = frozenset({cst.Break})


def _own(
    block: cst.CSTNode,
    kinds: frozenset[type[cst.CSTNode]],
    opaque: frozenset[type[cst.CSTNode]] = _NESTED_SCOPES,
) -> Iterator[cst.CSTNode]:
    """The nodes of `kinds` in a block's own code (not in nested scopes, nor `opaque` ones)."""
    return descendants(block, kinds, opaque)


def _has_await_point(block: cst.CSTNode) -> bool:
    """Can a task be cancelled here: an `await`, `async with` or `async for`?"""
    return any(
        isinstance(node, cst.Await) or getattr(node, "asynchronous", None) is not None
        for node in _own(block, _AWAIT_POINTS)
    )


def _ends_the_task(block: cst.CSTNode) -> bool:
    """A `raise` or a `return`."""
    return any(True for _ in _own(block, _ENDINGS_OF_THE_TASK))


def _method_called(block: cst.CSTNode, methods: Collection[str]) -> bool:
    return any(
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in methods
        for node in _own(block, _CALLS)
    )


# `current_task().cancelling()`, `task.cancelled()`: the handler tells a cancellation of this
# task from another one (`uncancel()` acknowledges one).
_ASKS_IF_CANCELLED = frozenset({"cancelling", "cancelled", "uncancel"})
# Calls that keep the caught exception for whoever waits for it: a list of errors raised later,
# a queue.
_KEEPERS = frozenset({"append", "add", "extend", "insert", "appendleft", "put", "put_nowait"})
# Calls that raise the exception being handled elsewhere, whatever they are given (it is often
# `sys.exc_info()`): into a generator or greenlet, or a future someone awaits.
_HANDERS_ON = frozenset({"throw", "athrow", "set_exception"})


def _keeps(block: cst.CSTNode, name: str) -> bool:
    """Is the caught exception `name` kept to be raised later: stored in a variable or
    attribute (`self._error = error`), or handed on (`errors.append(error)`)?"""

    def is_named(node: cst.BaseExpression | None) -> bool:
        return isinstance(node, cst.Name) and node.value == name

    for node in _own(block, _KEEPING):
        if isinstance(node, cst.Assign | cst.AnnAssign):
            if is_named(node.value):
                return True
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _KEEPERS
            and any(is_named(arg.value) for arg in node.args)
        ):
            return True
    return False


def _breaks(block: cst.CSTNode) -> bool:
    """A `break` of the loop around the block (not of a loop inside it)."""
    return any(True for _ in _own(block, _BREAKS, _NESTED_SCOPES_AND_LOOPS))


_BASE_EXCEPTION = "`BaseException`"
_CARRIES_ON = (
    "the task carries on as if it was never cancelled, so a timeout, a `TaskGroup` or a "
    "shutdown waiting for it hangs or misbehaves"
)


@dataclass(frozen=True, slots=True)
class _Caught:
    """How a handler catches a cancellation."""

    message: str  # the start of the finding's message
    broadly: bool = True  # by `except:` or `BaseException`, not by its name


@dataclass(slots=True)
class _Frame:
    """What PA406 knows of the function (or module) being walked."""

    cancelled: set[str] = field(default_factory=set)  # `_task_key` of each `x.cancel()` seen
    # Per handler being walked: does it catch a cancellation and end the task?
    reraising: list[bool] = field(default_factory=list)


class SwallowedCancellation(Rule):
    CODE = "PA406"
    NAME = "swallowed-cancellation"
    SEVERITY = Severity.WARNING
    OPTIONS = AsyncOptions
    # Every handler it reports is in an `async def`.
    REQUIRES_ANY = _ASYNC

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._frames = [_Frame()]
        self._tries: list[cst.Try | cst.TryStar] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame())

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_Expr(self, node: cst.Expr) -> None:
        task = _cancelled_by(node)
        cancelled = None if task is None else _task_key(task)
        if cancelled is not None:
            self._frames[-1].cancelled.add(cancelled)

    def visit_With(self, node: cst.With) -> None:
        """`with contextlib.suppress(asyncio.CancelledError):` is a handler that passes."""
        if not self.semantic.in_async_body():
            return
        for item in node.items:
            call = item.item
            if not (
                isinstance(call, cst.Call)
                and "contextlib.suppress" in self.semantic.qualified_names(call.func)
            ):
                continue
            caught = self._catches([arg.value for arg in call.args if not arg.star])
            if caught is None or not _has_await_point(node.body):
                continue
            if any(self._frames[-1].reraising) or self._awaits_cancelled_task(node.body):
                return
            shown = cst.Module(body=[]).code_for_node(call)
            self.report(
                node,
                f"`{shown}` in `async def` swallows the task's own cancellation too: "
                + _CARRIES_ON
                + "; suppress only the exceptions you expect, or re-raise the cancellation",
            )
            return

    def visit_Try(self, node: cst.Try) -> None:
        self._tries.append(node)

    def leave_Try(self, node: cst.Try) -> None:
        self._tries.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._tries.append(node)

    def leave_TryStar(self, node: cst.TryStar) -> None:
        self._tries.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._frames[-1].reraising.append(self._check(node))

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._frames[-1].reraising.pop()

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._frames[-1].reraising.append(self._check(node))

    def leave_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._frames[-1].reraising.pop()

    def _check(self, node: Handler) -> bool:
        """Report `node` if it swallows a cancellation; True if it catches one and ends the
        task (re-raises or returns)."""
        if not self.semantic.in_async_body():
            return False
        caught = self._caught(node.type)
        if caught is None:
            return False
        body = node.body
        if _ends_the_task(body):
            return True
        if self._absorbed(node, caught):
            return False
        self.report(
            node,
            f"{caught.message} and does not re-raise it: {_CARRIES_ON}; clean up, then `raise`",
        )
        return False

    def _absorbed(self, node: Handler, caught: _Caught) -> bool:
        """Is the cancellation `node` catches absorbed on purpose, or never its to see?"""
        attempt = self._tries[-1]
        if caught.broadly and self._named_above(attempt, node):
            return True
        # Cancellation arrives at an await point: a `try` without one is never cancelled.
        if not _has_await_point(attempt.body):
            return True
        # Inside a handler that re-raises the cancellation, a second one caught while cleaning
        # up is absorbed on purpose: the first still ends the task.
        if any(self._frames[-1].reraising):
            return True
        body = node.body
        if _method_called(body, _ASKS_IF_CANCELLED | _HANDERS_ON):
            return True
        bound = node.name.name if node.name is not None else None
        if isinstance(bound, cst.Name) and _keeps(body, bound.value):
            return True
        # A `break` of the loop around the `try` (not of a loop inside the handler).
        if _breaks(body) and self._loop_ends_the_task():
            return True
        return self._awaits_cancelled_task(attempt.body)

    def _named_above(self, attempt: cst.Try | cst.TryStar, node: Handler) -> bool:
        """Does a handler above `node` name the cancellation? It sees it first."""
        for handler in attempt.handlers:
            if handler is node:
                return False
            caught = self._caught(handler.type)
            if caught is not None and not caught.broadly:
                return True
        return False

    def _caught(self, kind: cst.BaseExpression | None) -> _Caught | None:
        """How a handler of `kind` catches a cancellation; None if it does not."""
        if kind is None:
            return _Caught("Bare `except:` in `async def` also catches `asyncio.CancelledError`")
        candidates = (
            [element.value for element in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        )
        caught = self._catches(candidates)
        if caught is None:
            return None
        if caught == _BASE_EXCEPTION:
            return _Caught(
                "`except BaseException:` in `async def` also catches `asyncio.CancelledError`"
            )
        return _Caught(f"Handler catches {caught}", broadly=False)

    def _catches(self, candidates: Sequence[cst.BaseExpression]) -> str | None:
        """Which cancellation these exception types (of `except` or `suppress`) take in, as
        shown in a message: `` `asyncio.CancelledError` ``, or `_BASE_EXCEPTION`."""
        semantic = self.semantic
        found = None
        for candidate in candidates:
            if isinstance(candidate, cst.Call):
                names = semantic.qualified_names(candidate.func)
                if not known.CANCELLATION_FACTORIES.isdisjoint(names):
                    return "the cancellation exception"
                continue
            names = semantic.qualified_names(candidate)
            cancellation = next((n for n in names if n in known.CANCELLATION), None)
            if cancellation is not None:
                return f"`{cancellation}`"
            if "builtins.BaseException" in names:
                found = _BASE_EXCEPTION
        return found

    def _loop_ends_the_task(self) -> bool:
        """Does a `break` here leave a loop after which the coroutine only finishes? The loop
        around the `try` must sit in the async def's own body (within `try`/`with` blocks at
        most): what follows it is the way out of the task."""
        statements = self.semantic.statements
        loop = None
        for index in range(len(statements) - 1, -1, -1):
            statement = statements[index]
            if isinstance(statement, cst.FunctionDef):
                return loop is not None
            if isinstance(statement, cst.For | cst.While):
                if loop is not None:
                    return False  # a loop inside another loop: the outer one goes on
                loop = statement
            elif loop is not None and not isinstance(statement, cst.Try | cst.With):
                return False
        return False

    def _awaits_cancelled_task(self, body: cst.BaseSuite) -> bool:
        """`task.cancel()`, then `try: await task` / `except CancelledError: pass` (or `with
        suppress(CancelledError): await task`): waiting for a task this code cancelled, whose
        CancelledError is the expected outcome. Every statement of the block awaits such tasks
        (also through `asyncio.wait_for`, `gather` or `shield`), or is the `cancel()` itself."""
        cancelled = self._frames[-1].cancelled
        if not cancelled:
            return False
        for statement in _statements(body):
            value = None
            if isinstance(statement, cst.Expr | cst.Assign | cst.AnnAssign):
                value = statement.value
            if isinstance(value, cst.Await) and self._cancelled_tasks(value.expression):
                continue
            if _cancelled_by(statement) is None:
                return False
        return True

    def _cancelled_tasks(self, awaited: cst.BaseExpression) -> bool:
        """Is `awaited` a task cancelled above, or a wait on nothing but such tasks?"""
        cancelled = self._frames[-1].cancelled
        if _task_key(awaited) in cancelled:
            return True
        if not isinstance(awaited, cst.Call):
            return False
        if known.TASK_WAITERS.isdisjoint(self.semantic.qualified_names(awaited.func)):
            return False
        tasks = [arg for arg in awaited.args if arg.keyword is None]
        return bool(tasks) and all(
            not arg.star and _task_key(arg.value) in cancelled for arg in tasks
        )


def _task_key(node: cst.BaseExpression) -> str | None:
    """What identifies a task in `x.cancel()` and `await x`: `task`, `self._task`,
    `app[listener]` as written; None for a call, which makes a new object each time."""
    if isinstance(node, cst.Name | cst.Attribute | cst.Subscript):
        return dotted(node) or cst.Module(body=[]).code_for_node(node)
    return None


def _cancelled_by(statement: cst.CSTNode) -> cst.BaseExpression | None:
    """`x` of an `x.cancel()` statement."""
    if not (isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call)):
        return None
    func = statement.value.func
    if isinstance(func, cst.Attribute) and func.attr.value == "cancel":
        return func.value
    return None


def _statements(body: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of a block, those sharing a line one by one."""
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    found: list[cst.CSTNode] = []
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            found.extend(statement.body)
        else:
            found.append(statement)
    return found
