"""PA3xx: error handling. Errors should never pass silently, unless explicitly silenced."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from pyarch_lint.checks.base import Handler, Rule, RuleContext
from pyarch_lint.findings import Severity

_BROAD = frozenset({"Exception", "BaseException"})
# Method names that record an error wherever they are called: logging, structlog, loguru
# (`logger.error`, `log.exception`, `self.logger.warning`), and warnings.warn.
_LOGGING_METHODS = frozenset(
    {"exception", "error", "warning", "warn", "critical", "fatal", "log", "aexception", "aerror"}
    | {"awarning", "acritical"}
)
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

    def __init__(self, bound: str | None) -> None:
        super().__init__()
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
            self.handled = _is_error_report(node.func)
        elif isinstance(node, cst.Name) and self.bound is not None:
            self.handled = node.value == self.bound
        return not self.handled


def _is_error_report(func: cst.BaseExpression) -> bool:
    if isinstance(func, cst.Attribute):
        return func.attr.value in _LOGGING_METHODS or func.attr.value in _REPORTERS
    return isinstance(func, cst.Name) and func.value in _REPORTERS


def _bound_name(handler: Handler) -> str | None:
    if handler.name is not None and isinstance(handler.name.name, cst.Name):
        return handler.name.name.value
    return None


def _body_statements(handler: Handler) -> list[cst.BaseStatement | cst.BaseSmallStatement]:
    body = handler.body
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

    def _check(self, node: Handler) -> None:
        if not _is_broad(node):
            return
        scan = _HandledScan(_bound_name(node))
        node.body.visit(scan)
        if not scan.handled:
            caught = "everything" if node.type is None else "a broad exception"
            self.report(
                node,
                f"Handler catches {caught} and swallows it: re-raise, log it "
                "(`logger.exception(...)`), or catch the specific exceptions you expect",
            )


class SilencedException(Rule):
    CODE = "PA303"
    NAME = "silenced-exception"
    SEVERITY = Severity.INFO
    _COMMENT: ClassVar[str] = "add a comment that says why it is safe to ignore"

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        # One entry per `try` being walked: could `contextlib.suppress` replace its handler?
        # Not when another handler, an `else` or an `except*` goes with it.
        self._suppressible: list[bool] = []

    def visit_Try(self, node: cst.Try) -> None:
        self._suppressible.append(len(node.handlers) == 1 and node.orelse is None)

    def leave_Try(self, node: cst.Try) -> None:
        self._suppressible.pop()

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._suppressible.append(False)

    def leave_TryStar(self, node: cst.TryStar) -> None:
        self._suppressible.pop()

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._check(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._check(node)

    def _check(self, node: Handler) -> None:
        if node.type is None or _is_broad(node):
            return
        if not all(_is_placeholder(s) for s in _body_statements(node)) or _has_comment(node):
            return
        code = cst.Module(body=[]).code_for_node
        kind = node.type
        types = code(kind)
        caught = types
        if isinstance(kind, cst.Tuple):  # suppress() takes the types as separate arguments
            types = ", ".join(code(element.value) for element in kind.elements)
            caught = f"({types})"
        advice = self._COMMENT
        if self._suppressible[-1]:
            advice = f"use `contextlib.suppress({types})` or {advice}"
        self.report(node, f"`{caught}` is silenced without a word; {advice}")
