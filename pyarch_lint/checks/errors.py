"""PA3xx: error handling. Errors should never pass silently, unless explicitly silenced.

What a handler calls is resolved through the file's semantic model: `logging.exception` however
it was imported, a logger made by `logging.getLogger` (a module logger, `self.logger`, a
parameter annotated `logging.Logger`) and loguru's `logger` are logging; `math.log` is not.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, cast

import libcst as cst

from pyarch_lint.checks.base import Fix, Handler, Rule, RuleContext
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import SemanticModel, dotted

_BROAD = frozenset({"Exception", "BaseException"})
_BROAD_NAMES = frozenset(f"builtins.{name}" for name in _BROAD)
# Methods that record an error: the standard library's, and structlog's async ones.
_LOGGING_METHODS = frozenset(
    {"exception", "error", "warning", "warn", "critical", "fatal", "log", "aexception", "aerror"}
    | {"awarning", "acritical"}
)
# Modules and objects whose logging methods are called directly: `logging.error(...)`,
# `from logging import exception`, `from loguru import logger`.
_LOGGING_OWNERS = frozenset({"logging", "logging.root", "loguru.logger"})
# What the logger factories give, for `class_of`: a name bound to `logging.getLogger(...)` is a
# `logging.Logger`.
_LOGGER_FACTORIES: Mapping[str, str] = {
    "logging.getLogger": "logging.Logger",
    "logging.getLoggerClass": "logging.Logger",
    "structlog.get_logger": "structlog.BoundLogger",
    "structlog.getLogger": "structlog.BoundLogger",
    "structlog.stdlib.get_logger": "structlog.BoundLogger",
    "loguru.logger.bind": "loguru.Logger",
    "loguru.logger.opt": "loguru.Logger",
}
_LOGGER_CLASSES = frozenset(
    {"logging.Logger", "logging.LoggerAdapter", "logging.RootLogger", *_LOGGER_FACTORIES.values()}
)
_CANCELLED = frozenset(
    {"asyncio.CancelledError", "asyncio.exceptions.CancelledError"}
    | {"concurrent.futures.CancelledError"}
)
_SUPPRESS = frozenset({"contextlib.suppress"})
# Free functions and methods that report or end the program instead of ignoring the error.
_REPORTERS = frozenset(
    {
        "capture_exception",  # sentry_sdk
        "capture_message",
        "report_exc_info",  # rollbar
        "notify",  # bugsnag
        "print_exc",  # traceback
        "print_exception",
        "format_exc",
        "warn",  # from warnings import warn
        "exit",  # sys.exit: the error ends the program, loudly
        "_exit",
        "abort",
    }
)


def _is_broad(handler: Handler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    candidates = kind.elements if isinstance(kind, cst.Tuple) else [kind]
    for candidate in candidates:
        value = candidate.value if isinstance(candidate, cst.Element) else candidate
        if isinstance(value, cst.Name) and value.value in _BROAD:
            return True
        if (
            isinstance(value, cst.Attribute)
            and isinstance(value.value, cst.Name)
            and value.value.value == "builtins"
            and value.attr.value in _BROAD
        ):
            return True
    return False


class _HandledScan(cst.CSTVisitor):
    """Does a handler body re-raise, log, report, or use the bound exception?"""

    def __init__(self, semantic: SemanticModel, bound: str | None) -> None:
        super().__init__()
        self.semantic = semantic
        self.bound = bound
        self.handled = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.handled:
            return False
        # Code in a nested function or class runs elsewhere, later: it handles nothing here.
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return False
        if isinstance(node, cst.Raise):
            self.handled = True
        elif isinstance(node, cst.Call):
            self.handled = _is_reporter(node.func) or _is_logging_call(self.semantic, node.func)
        elif isinstance(node, cst.Name) and self.bound is not None:
            self.handled = node.value == self.bound
        return not self.handled


def _is_reporter(func: cst.BaseExpression) -> bool:
    if isinstance(func, cst.Attribute):
        return func.attr.value in _REPORTERS
    return isinstance(func, cst.Name) and func.value in _REPORTERS


def _is_logging_call(semantic: SemanticModel, func: cst.BaseExpression) -> bool:
    """A logging method called on the `logging` module or loguru's logger, on a logger the code
    shows (`class_of`), or on something named like one whose type it does not show (a logger
    imported from the project, `self.log`): `math.log(x)` is none of these."""
    for name in semantic.qualified_names(func):
        owner, _, method = name.rpartition(".")
        if owner in _LOGGING_OWNERS and method in _LOGGING_METHODS:
            return True
    if not (isinstance(func, cst.Attribute) and func.attr.value in _LOGGING_METHODS):
        return False
    receiver = func.value
    return semantic.class_of(receiver, _LOGGER_FACTORIES) in _LOGGER_CLASSES or _named_like_logger(
        receiver
    )


def _named_like_logger(node: cst.BaseExpression) -> bool:
    """`log`, `logger`, `LOG`, `self._logger`, `request_log`, `app.logger`."""
    if isinstance(node, cst.Attribute):
        node = node.attr
    if not isinstance(node, cst.Name):
        return False
    name = node.value.lower().lstrip("_")
    return name == "log" or name.endswith(("logger", "_log"))


def _bound_name(handler: Handler) -> str | None:
    if handler.name is not None and isinstance(handler.name.name, cst.Name):
        return handler.name.name.value
    return None


def _body_statements(body: cst.BaseSuite) -> list[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements of a block, those sharing a line one by one."""
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    statements: list[cst.BaseStatement | cst.BaseSmallStatement] = []
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            statements.extend(statement.body)
        else:
            statements.append(statement)
    return statements


def _is_placeholder(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.Pass) or (
        isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis)
    )


def _has_comment(handler: Handler) -> bool:
    """A comment anywhere in the handler's body is the explicit reason the issue asks for."""
    body = handler.body
    if isinstance(body, cst.SimpleStatementSuite):
        return body.trailing_whitespace.comment is not None
    if not isinstance(body, cst.IndentedBlock):
        return False
    if body.header.comment is not None or any(line.comment for line in body.footer):
        return True
    for statement in body.body:
        leading = getattr(statement, "leading_lines", ())
        if any(line.comment for line in leading):
            return True
        if (
            isinstance(statement, cst.SimpleStatementLine)
            and statement.trailing_whitespace.comment is not None
        ):
            return True
    return False


class BareExcept(Rule):
    CODE = "PA301"
    NAME = "bare-except"
    SEVERITY = Severity.WARNING

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.type is None:
            self.report(
                node,
                "Bare `except:` also catches KeyboardInterrupt and SystemExit; "
                "name the exceptions you expect",
            )


class SwallowedBroadException(Rule):
    CODE = "PA302"
    NAME = "swallowed-broad-exception"
    SEVERITY = Severity.WARNING

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._check(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._check(node)

    def visit_With(self, node: cst.With) -> None:
        """`with contextlib.suppress(Exception):` is `try/except Exception: pass` written short."""
        for item in node.items:
            call = item.item
            if isinstance(call, cst.Call) and self._suppresses_broad(call):
                shown = cst.Module(body=[]).code_for_node(call)
                self.report(
                    node,
                    f"`{shown}` swallows a broad exception: suppress only the specific "
                    "exceptions you expect, or catch it and log it (`logger.exception(...)`)",
                )
                return

    def _suppresses_broad(self, call: cst.Call) -> bool:
        semantic = self.semantic
        if not _SUPPRESS.intersection(semantic.qualified_names(call.func)):
            return False
        return any(
            not arg.star and not _BROAD_NAMES.isdisjoint(semantic.qualified_names(arg.value))
            for arg in call.args
        )

    def _check(self, node: Handler) -> None:
        if not _is_broad(node):
            return
        scan = _HandledScan(self.semantic, _bound_name(node))
        node.body.visit(scan)
        if not scan.handled:
            caught = "everything" if node.type is None else "a broad exception"
            self.report(
                node,
                f"Handler catches {caught} and swallows it: re-raise, log it "
                "(`logger.exception(...)`), or catch the specific exceptions you expect",
            )


@dataclass(slots=True)
class _Frame:
    """What PA303 knows of the function (or module) being walked."""

    loops: list[bool] = field(default_factory=list)  # per enclosing loop: has it an `else`?
    cancelled: set[str] = field(default_factory=set)  # `x` of each `x.cancel()` statement seen


@dataclass(frozen=True, slots=True)
class _TryState:
    node: cst.Try | cst.TryStar
    suppressible: bool  # could `contextlib.suppress` replace its one handler as written?


class SilencedException(Rule):
    CODE = "PA303"
    NAME = "silenced-exception"
    SEVERITY = Severity.INFO
    _COMMENT: ClassVar[str] = "add a comment that says why it is safe to ignore"

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._frames = [_Frame()]
        self._tries: list[_TryState] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.append(_Frame())

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._frames.pop()

    def visit_For(self, node: cst.For) -> None:
        self._frames[-1].loops.append(node.orelse is not None)

    def leave_For(self, node: cst.For) -> None:
        self._frames[-1].loops.pop()

    def visit_While(self, node: cst.While) -> None:
        self._frames[-1].loops.append(node.orelse is not None)

    def leave_While(self, node: cst.While) -> None:
        self._frames[-1].loops.pop()

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "cancel"
        ):
            cancelled = dotted(call.func.value)
            if cancelled is not None:
                self._frames[-1].cancelled.add(cancelled)

    def visit_Try(self, node: cst.Try) -> None:
        # Not when another handler or an `else` goes with it, nor in a loop with an `else`,
        # whose `break` inside `with suppress(...)` would read as always taken.
        loops = self._frames[-1].loops
        suppressible = len(node.handlers) == 1 and node.orelse is None
        self._tries.append(_TryState(node, suppressible and not (loops and loops[-1])))

    def leave_Try(self, node: cst.Try) -> None:
        self._tries.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._tries.append(_TryState(node, False))

    def leave_TryStar(self, node: cst.TryStar) -> None:
        self._tries.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._check(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._check(node)

    def _check(self, node: Handler) -> None:
        if node.type is None or _is_broad(node):
            return
        if not all(_is_placeholder(s) for s in _body_statements(node.body)) or _has_comment(node):
            return
        state = self._tries[-1]
        if self._awaits_cancelled_task(state.node, node.type):
            return
        code = cst.Module(body=[]).code_for_node
        kind = node.type
        types = code(kind)
        caught = types
        if isinstance(kind, cst.Tuple):  # suppress() takes the types as separate arguments
            types = ", ".join(code(element.value) for element in kind.elements)
            caught = f"({types})"
        advice = self._COMMENT
        fix = None
        if state.suppressible:
            advice = f"use `contextlib.suppress({types})` or {advice}"
            fix = self._suppress_fix(state.node, node, types)
        self.report(node, f"`{caught}` is silenced without a word; {advice}", fix)

    def _suppress_fix(
        self, node: cst.Try | cst.TryStar, handler: Handler, types: str
    ) -> Fix | None:
        """`with contextlib.suppress(<types>):` around the `try` body, where nothing but the
        handler goes: no `finally`, no name bound by `as`, no comment dropped. Safe when each
        caught type is a builtin or an imported name: `suppress` evaluates the types before the
        body runs, the handler only once something is raised, which matters for anything else
        (a name the body binds, an attribute of an object)."""
        if not isinstance(node, cst.Try) or node.finalbody is not None or handler.name is not None:
            return None
        if "#" in types or any(line.comment for line in handler.leading_lines):
            return None
        module = self.semantic.qualified_names(cst.Name("contextlib"))
        if module not in (("contextlib",), ("builtins.contextlib",)):
            return None  # the name means something else here
        kind = handler.type
        caught = [kind] if not isinstance(kind, cst.Tuple) else kind.elements
        if any(isinstance(c, cst.StarredElement) for c in caught):
            return None  # `except (*errors, E)`: the message's types lose the star
        values = [c.value if isinstance(c, cst.Element) else c for c in caught]
        safe = all(self._names_a_class(cast(cst.BaseExpression, value)) for value in values)
        suppress = cst.parse_expression(f"contextlib.suppress({types})")
        with_ = cst.With(
            items=[cst.WithItem(suppress)],
            body=node.body,
            leading_lines=node.leading_lines,
            whitespace_before_colon=node.whitespace_before_colon,
        )
        imports = ("contextlib",) if module == ("builtins.contextlib",) else ()
        title = f"Use `contextlib.suppress({types})`"
        return Fix(title, safe, node, with_, imports)

    def _names_a_class(self, expression: cst.BaseExpression) -> bool:
        """A builtin exception or an imported name: looked up, nothing run."""
        names = self.semantic.qualified_names(expression)
        return bool(names) and all(
            isinstance(getattr(builtins, name.removeprefix("builtins."), None), type)
            if name.startswith("builtins.")
            else True
            for name in names
        )

    def _awaits_cancelled_task(
        self, node: cst.Try | cst.TryStar, caught: cst.BaseExpression
    ) -> bool:
        """`task.cancel()`, then `try: await task` / `except CancelledError: pass`: waiting for
        a task this code cancelled, whose CancelledError is the expected outcome."""
        if _CANCELLED.isdisjoint(self.semantic.qualified_names(caught)):
            return False
        cancelled = self._frames[-1].cancelled
        for statement in _body_statements(node.body):
            if not (isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Await)):
                return False
            if dotted(statement.value.expression) not in cancelled:
                return False
        return True
