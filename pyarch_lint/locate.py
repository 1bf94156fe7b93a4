"""Place reported LibCST nodes in the file without LibCST's position pass.

`PositionProvider` regenerates the whole module's code and costs twice the parse. The stdlib
`ast` of the same text costs a tenth of it and carries line numbers. Both trees hold the same
statements and except handlers in the same source order, so the walker's numbering picks the
matching `ast` node; parameters match by name, annotations by their owner, calls by their order
inside one statement. When anything does not line up (a mismatch, or a syntax `ast` rejects),
the file falls back to `PositionProvider`: slower, never wrong. Tests compare the two.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from pyarch_lint.checks.base import Handler, Report, Statement, all_params


@dataclass(frozen=True, slots=True)
class Span:
    """1-based line and column; the end column is exclusive, as in SARIF."""

    line: int
    column: int
    end_line: int
    end_column: int


_AST_KINDS: dict[type[cst.CSTNode], tuple[type[ast.AST], ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.Expr: (ast.Expr,),
    cst.Assign: (ast.Assign,),
    cst.AugAssign: (ast.AugAssign,),
    cst.AnnAssign: (ast.AnnAssign,),
    cst.Return: (ast.Return,),
    cst.Raise: (ast.Raise,),
    cst.Pass: (ast.Pass,),
    cst.Break: (ast.Break,),
    cst.Continue: (ast.Continue,),
    cst.Del: (ast.Delete,),
    cst.Import: (ast.Import,),
    cst.ImportFrom: (ast.ImportFrom,),
    cst.Global: (ast.Global,),
    cst.Nonlocal: (ast.Nonlocal,),
    cst.Assert: (ast.Assert,),
}
if hasattr(ast, "TryStar"):
    _AST_KINDS[cst.TryStar] = (ast.TryStar,)
_AST_KINDS[cst.Match] = (ast.Match,)


def _ast_children(node: ast.AST) -> Iterator[ast.AST]:
    """Statements and handlers below `node`, in source order."""
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        for child in getattr(node, name, ()):
            if isinstance(child, ast.match_case):
                yield from child.body
            else:
                yield child


def _preorder(tree: ast.Module) -> tuple[list[ast.stmt], list[ast.excepthandler]]:
    statements: list[ast.stmt] = []
    handlers: list[ast.excepthandler] = []
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            statements.append(node)
        elif isinstance(node, ast.excepthandler):
            handlers.append(node)
        stack.extend(reversed(list(_ast_children(node))))
    return statements, handlers


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


class Locator:
    """Positions for the reports of one file."""

    def __init__(
        self,
        tree: ast.Module | None,
        lines: Sequence[str],
        module: cst.Module,
        statements: Sequence[Statement],
        handlers: Sequence[Handler],
    ) -> None:
        """`tree`: the stdlib ast of the same text (the engine has parsed it already), or None
        where Python rejects what LibCST accepts (newer syntax): then every span is slow."""
        self._lines = lines
        self._module = module
        self._statements = statements
        self._handlers = handlers
        self._statement_index: dict[int, int] | None = None
        self._fallback: dict[cst.CSTNode, object] | None = None
        self._ast_statements: list[ast.stmt] = []
        self._ast_handlers: list[ast.excepthandler] = []
        self._fast = tree is not None and self._number(tree)

    def _number(self, tree: ast.Module) -> bool:
        self._ast_statements, self._ast_handlers = _preorder(tree)
        return len(self._ast_statements) == len(self._statements) and len(
            self._ast_handlers
        ) == len(self._handlers)

    def span(self, report: Report) -> Span:
        span = self._fast_span(report) if self._fast else None
        return span if span is not None else self._slow_span(report.node)

    # -- fast path: the stdlib ast ----------------------------------------------------------

    def _fast_span(self, report: Report) -> Span | None:
        node = report.node
        if isinstance(node, cst.SimpleStatementLine) and node.body:
            first, last = self._statement_span(node.body[0]), self._statement_span(node.body[-1])
            if first is None or last is None:
                return None
            return Span(first.line, first.column, last.end_line, last.end_column)
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            return self._statement_span(node)
        if isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            return self._handler_span(node, report.handler)
        return self._inner_span(node, report.anchor)

    def _handler_span(self, node: Handler, index: int) -> Span | None:
        if not (0 <= index < len(self._handlers)) or self._handlers[index] is not node:
            index = next((i for i, h in enumerate(self._handlers) if h is node), -1)
        if index < 0:
            return None
        handler = self._ast_handlers[index]
        return self._header(handler.lineno, handler.col_offset)

    def _inner_span(self, node: cst.CSTNode, anchor: int) -> Span | None:
        """A node inside the statement that was being visited when it was reported."""
        if not 0 <= anchor < len(self._statements):
            return None
        owner, ast_owner = self._statements[anchor], self._ast_statements[anchor]
        if isinstance(node, cst.Param) and isinstance(owner, cst.FunctionDef):
            return self._param_span(node, ast_owner)
        if isinstance(node, cst.Annotation):
            return self._annotation_span(node, owner, ast_owner)
        if isinstance(node, cst.Call):
            return self._call_span(node, owner, ast_owner)
        return None

    def _statement_span(self, node: cst.CSTNode) -> Span | None:
        if self._statement_index is None:
            self._statement_index = {id(s): i for i, s in enumerate(self._statements)}
        index = self._statement_index.get(id(node))
        if index is None:
            return None
        found = self._ast_statements[index]
        if not isinstance(found, _AST_KINDS.get(type(node), (ast.stmt,))):
            self._fast = False  # the numbering is off: trust nothing from ast in this file
            return None
        if isinstance(node, cst.BaseCompoundStatement):
            return self._header(found.lineno, found.col_offset)
        return self._ast_span(found)

    def _param_span(self, node: cst.Param, ast_owner: ast.stmt) -> Span | None:
        """The star and the name, as LibCST places a parameter (ast's `arg` runs on over the
        annotation)."""
        found = _ast_arg(ast_owner, node.name.value)
        if found is None:
            return None
        line, column = found.lineno, self._column(found.lineno, found.col_offset)
        end = column + len(node.name.value)
        star = node.star if isinstance(node.star, str) else ""
        if not star:
            return Span(line, column, line, end)
        # ast places `*args` at the name; the span starts at the star.
        gap = node.whitespace_after_star
        if not isinstance(gap, cst.SimpleWhitespace) or "\\" in gap.value:
            return None
        return Span(line, column - len(star) - len(gap.value), line, end)

    def _annotation_span(
        self, node: cst.Annotation, owner: Statement, ast_owner: ast.stmt
    ) -> Span | None:
        target: ast.AST | None = None
        if isinstance(owner, cst.FunctionDef) and isinstance(
            ast_owner, ast.FunctionDef | ast.AsyncFunctionDef
        ):
            if owner.returns is node:
                target = ast_owner.returns
            for param in all_params(owner.params):
                if param.annotation is node:
                    arg = _ast_arg(ast_owner, param.name.value)
                    target = arg.annotation if arg is not None else None
        elif isinstance(owner, cst.AnnAssign) and isinstance(ast_owner, ast.AnnAssign):
            target = ast_owner.annotation
        return self._ast_span(target) if target is not None else None

    def _call_span(self, node: cst.Call, owner: Statement, ast_owner: ast.stmt) -> Span | None:
        collector = _Calls()
        owner.visit(collector)
        ours = collector.calls
        theirs = sorted(
            (n for n in ast.walk(ast_owner) if isinstance(n, ast.Call)),
            key=lambda n: (n.lineno, n.col_offset, -(n.end_lineno or 0), -(n.end_col_offset or 0)),
        )
        if len(ours) != len(theirs):
            return None
        index = next((i for i, call in enumerate(ours) if call is node), -1)
        return self._ast_span(theirs[index]) if index >= 0 else None

    def _column(self, line: int, byte_offset: int) -> int:
        """ast columns are UTF-8 byte offsets; users count characters."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def _ast_span(self, node: ast.AST) -> Span:
        line: int = getattr(node, "lineno", 1)
        end_line: int = getattr(node, "end_lineno", None) or line
        column = self._column(line, getattr(node, "col_offset", 0))
        end_column = self._column(end_line, getattr(node, "end_col_offset", None) or 0)
        return Span(line, column, end_line, max(end_column, column if end_line == line else 1))

    def _header(self, line: int, byte_offset: int) -> Span:
        """A compound statement or handler is shown on its first line, to the line's end."""
        column = self._column(line, byte_offset)
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return Span(line, column, line, max(len(text.rstrip()) + 1, column))

    # -- slow path: LibCST positions --------------------------------------------------------

    def _slow_span(self, node: cst.CSTNode) -> Span:
        if self._fallback is None:
            wrapper = MetadataWrapper(self._module, unsafe_skip_copy=True)
            self._fallback = dict(wrapper.resolve(PositionProvider))
        position = self._fallback.get(node)
        if position is None:
            return Span(1, 1, 1, 1)
        start, end = position.start, position.end  # type: ignore[attr-defined]
        if isinstance(node, cst.FunctionDef | cst.ClassDef) and node.decorators:
            name = self._fallback[node.name].start  # type: ignore[attr-defined]
            text = self._lines[name.line - 1]
            return self._header_chars(name.line, len(text) - len(text.lstrip()))
        column = start.column + self._dropped(start.line)
        if isinstance(node, cst.BaseCompoundStatement | cst.ExceptHandler | cst.ExceptStarHandler):
            return self._header_chars(start.line, column)
        return Span(start.line, column + 1, end.line, end.column + self._dropped(end.line) + 1)

    def _dropped(self, line: int) -> int:
        """LibCST leaves form feeds out of a line's indentation (its code omits them), so its
        columns on such a line fall short of the file's by their number."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return text[: len(text) - len(text.lstrip(" \t\x0c"))].count("\x0c")

    def _header_chars(self, line: int, column: int) -> Span:
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        return Span(line, column + 1, line, max(len(text.rstrip()) + 1, column + 1))


def _ast_arg(function: ast.stmt, name: str) -> ast.arg | None:
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    arguments = function.args
    candidates = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    candidates += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return next((a for a in candidates if a.arg == name), None)
