"""A file's facts: what rules over the whole project need to know of it without parsing it again.

Analysis takes them from the stdlib `ast` tree it already built (one walk over the statements;
expressions are looked at only where a fact is), and the cache keeps them with the file's
findings, so a warm run has every file's facts without parsing anything. They are:

- its imports: one record per name an import statement binds, with whether the statement runs
  only for a type checker (under `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`; the `else:`
  of such an `if` does run) and whether it runs only when a function is called;
- its top-level definitions: functions with their signatures, classes with their bases and
  method names (at module level, also inside a module-level `if` or `try`);
- its module-level bindings: the names assigned outside any def or class, with the callee
  when the value is a call (`engine = create_engine(url)` -> `create_engine`).

Names are as written in the file (`sa.create_engine`); resolving them through the file's imports
is the reader's work. Text (annotations, bases) is the source text of the expression. Lines and
columns are 1-based, columns in characters, as findings place them. A file CPython does not
parse has no facts.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple, get_args

from pyarch_lint.excerpt import COMPOUND, statements_in

Kind = Literal[
    "positional-only", "positional-or-keyword", "var-positional", "keyword-only", "var-keyword"
]
_KINDS: frozenset[str] = frozenset(get_args(Kind))


class Import(NamedTuple):
    """One name bound by an import: `import a.b as c` is ("a.b", None, "c"), `from ..x import y`
    is ("x", "y", None) at level 2, `from . import y` is ("", "y", None) at level 1."""

    module: str  # without the leading dots of a relative import
    name: str | None  # the imported name of `from m import name`; None for `import m`
    alias: str | None  # the `as` name, if any
    level: int  # leading dots: 0 for an absolute import
    line: int
    column: int
    type_checking: bool  # only for a type checker: under `if TYPE_CHECKING:`
    in_function: bool  # runs when a function (or method) runs, not when the module loads


class Parameter(NamedTuple):
    name: str
    kind: Kind
    annotation: str | None  # its source text
    has_default: bool


class Function(NamedTuple):
    name: str
    line: int  # of the `def` keyword (decorators are above it)
    column: int
    is_async: bool
    parameters: tuple[Parameter, ...]
    returns: str | None  # the return annotation's source text


class Class(NamedTuple):
    name: str
    line: int  # of the `class` keyword
    column: int
    bases: tuple[str, ...]  # each positional base's source text
    methods: tuple[str, ...]  # names of the defs directly in its body


class Binding(NamedTuple):
    name: str
    line: int
    column: int
    called: str | None  # the dotted callee when the value is a call of a (dotted) name


class FileFacts(NamedTuple):
    imports: tuple[Import, ...] = ()
    functions: tuple[Function, ...] = ()
    classes: tuple[Class, ...] = ()
    bindings: tuple[Binding, ...] = ()


NO_FACTS = FileFacts()


# -- from the tree -----------------------------------------------------------------------------


def facts_of(tree: ast.Module | None, lines: Sequence[str]) -> FileFacts:
    """The facts of a file of `lines` (as `split_lines` gives them) whose `ast` tree is `tree`."""
    if tree is None:
        return NO_FACTS
    collector = _Collector(lines)
    collector.block(tree, type_checking=False, in_function=False, top=True)
    return FileFacts(
        tuple(collector.imports),
        tuple(collector.functions),
        tuple(collector.classes),
        tuple(collector.bindings),
    )


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING`, or `<module>.TYPE_CHECKING` (`typing.`, `t.`, `typing_extensions.`)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return (
        isinstance(test, ast.Attribute)
        and test.attr == "TYPE_CHECKING"
        and isinstance(test.value, ast.Name)
    )


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Collector:
    """One walk over a module's statements, gathering its facts."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.imports: list[Import] = []
        self.functions: list[Function] = []
        self.classes: list[Class] = []
        self.bindings: list[Binding] = []

    def block(self, node: ast.AST, *, type_checking: bool, in_function: bool, top: bool) -> None:
        """The statements in `node`'s blocks. `top`: at module level, outside any def or class."""
        if isinstance(node, ast.If) and _guard(node.test) is not None:
            guarded = _guard(node.test)
            self.statements(node.body, type_checking or guarded is True, in_function, top)
            self.statements(node.orelse, type_checking or guarded is False, in_function, top)
            return
        self.statements(statements_in(node), type_checking, in_function, top)

    def statements(
        self, statements: list[ast.stmt], type_checking: bool, in_function: bool, top: bool
    ) -> None:
        for statement in statements:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                self.import_(statement, type_checking, in_function)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                if top:
                    self.functions.append(self.function(statement))
                self.block(statement, type_checking=type_checking, in_function=True, top=False)
            elif isinstance(statement, ast.ClassDef):
                if top:
                    self.classes.append(self.class_(statement))
                self.block(
                    statement, type_checking=type_checking, in_function=in_function, top=False
                )
            elif isinstance(statement, COMPOUND):
                self.block(statement, type_checking=type_checking, in_function=in_function, top=top)
            elif top and isinstance(statement, ast.Assign | ast.AnnAssign):
                self.binding(statement)

    def column(self, line: int, offset: int) -> int:
        """1-based character column of a UTF-8 byte `offset` (what `ast` gives) on `line`."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return offset + 1
        return len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "replace")) + 1

    def text(self, node: ast.expr) -> str:
        """The source text of an expression."""
        first, last = node.lineno, node.end_lineno or node.lineno
        start, end = node.col_offset, node.end_col_offset or 0
        if first == last:
            return _between(self.lines[first - 1], start, end)
        parts = [_between(self.lines[first - 1], start, None)]
        parts.extend(self.lines[first : last - 1])
        parts.append(_between(self.lines[last - 1], 0, end))
        return "\n".join(parts)

    def import_(
        self, node: ast.Import | ast.ImportFrom, type_checking: bool, in_function: bool
    ) -> None:
        line, column = node.lineno, self.column(node.lineno, node.col_offset)
        for alias in node.names:
            if isinstance(node, ast.Import):
                module, name, level = alias.name, None, 0
            else:
                module, name, level = node.module or "", alias.name, node.level
            self.imports.append(
                Import(module, name, alias.asname, level, line, column, type_checking, in_function)
            )

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Function:
        arguments = node.args
        parameters: list[Parameter] = []
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults = len(positional) - len(arguments.defaults)
        for index, argument in enumerate(positional):
            kind: Kind = (
                "positional-only" if index < len(arguments.posonlyargs) else "positional-or-keyword"
            )
            parameters.append(self.parameter(argument, kind, index >= defaults))
        if arguments.vararg is not None:
            parameters.append(self.parameter(arguments.vararg, "var-positional", False))
        for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
            parameters.append(self.parameter(argument, "keyword-only", default is not None))
        if arguments.kwarg is not None:
            parameters.append(self.parameter(arguments.kwarg, "var-keyword", False))
        returns = None if node.returns is None else self.text(node.returns)
        line = node.lineno
        return Function(
            node.name,
            line,
            self.column(line, node.col_offset),
            isinstance(node, ast.AsyncFunctionDef),
            tuple(parameters),
            returns,
        )

    def parameter(self, argument: ast.arg, kind: Kind, has_default: bool) -> Parameter:
        annotation = None if argument.annotation is None else self.text(argument.annotation)
        return Parameter(argument.arg, kind, annotation, has_default)

    def class_(self, node: ast.ClassDef) -> Class:
        methods = tuple(
            statement.name
            for statement in node.body
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
        )
        bases = tuple(self.text(base) for base in node.bases)
        return Class(
            node.name, node.lineno, self.column(node.lineno, node.col_offset), bases, methods
        )

    def binding(self, node: ast.Assign | ast.AnnAssign) -> None:
        if node.value is None:  # `x: int` declares, binds nothing
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        called = _dotted(value.func) if isinstance(value, ast.Call) else None
        for target in targets:
            for name in _names(target):
                line = name.lineno
                column = self.column(line, name.col_offset)
                # `a, b = f()` binds neither a nor b to what f returns
                self.bindings.append(
                    Binding(name.id, line, column, called if name is target else None)
                )


def _guard(test: ast.expr) -> bool | None:
    """True when an `if` with this test runs its body only for a type checker, False when only
    its `else:` does (`if not TYPE_CHECKING:`), None for any other test."""
    if _is_type_checking(test):
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return False if _is_type_checking(test.operand) else None
    return None


def _names(target: ast.expr) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _names(element)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []  # attributes and subscripts bind no name of the module


def _between(line: str, start: int, end: int | None) -> str:
    """`line[start:end]` where start and end are UTF-8 byte offsets."""
    if line.isascii():
        return line[start:end]
    return line.encode("utf-8", "surrogatepass")[start:end].decode("utf-8", "replace")


# -- as the cache stores it --------------------------------------------------------------------


def to_json(facts: FileFacts) -> list[Any]:
    """Nested lists, in field order (what `json.dumps` makes of named tuples)."""
    return list(facts)


def from_json(data: Any, max_lines: int, max_columns: int) -> FileFacts | None:
    """The facts `to_json` wrote, or None if `data` is not facts of a file of at most
    `max_lines` lines and `max_columns` columns."""
    if type(data) is not list or len(data) != 4 or not all(type(part) is list for part in data):
        return None

    def place(line: Any, column: Any) -> bool:
        return (
            type(line) is int
            and type(column) is int
            and 1 <= line <= max_lines
            and 1 <= column <= max_columns
        )

    imports, functions, classes, bindings = data
    try:
        facts = FileFacts(
            tuple(_import(item, place) for item in imports),
            tuple(_function(item, place) for item in functions),
            tuple(_class(item, place) for item in classes),
            tuple(_binding(item, place) for item in bindings),
        )
    except _Invalid:
        return None
    return facts


class _Invalid(Exception):
    pass


def _fields(item: Any, count: int) -> list[Any]:
    if type(item) is not list or len(item) != count:
        raise _Invalid
    return item


def _text(value: Any, optional: bool = False) -> Any:
    if type(value) is str or (optional and value is None):
        return value
    raise _Invalid


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise _Invalid
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is not list:
        raise _Invalid
    return tuple(_text(item) for item in value)


def _import(item: Any, place: Any) -> Import:
    module, name, alias, level, line, column, type_checking, in_function = _fields(item, 8)
    if type(level) is not int or level < 0 or not place(line, column):
        raise _Invalid
    return Import(
        _text(module),
        _text(name, True),
        _text(alias, True),
        level,
        line,
        column,
        _flag(type_checking),
        _flag(in_function),
    )


def _parameter(item: Any) -> Parameter:
    name, kind, annotation, has_default = _fields(item, 4)
    if kind not in _KINDS:
        raise _Invalid
    return Parameter(_text(name), kind, _text(annotation, True), _flag(has_default))


def _function(item: Any, place: Any) -> Function:
    name, line, column, is_async, parameters, returns = _fields(item, 6)
    if not place(line, column) or type(parameters) is not list:
        raise _Invalid
    return Function(
        _text(name),
        line,
        column,
        _flag(is_async),
        tuple(_parameter(p) for p in parameters),
        _text(returns, True),
    )


def _class(item: Any, place: Any) -> Class:
    name, line, column, bases, methods = _fields(item, 5)
    if not place(line, column):
        raise _Invalid
    return Class(_text(name), line, column, _texts(bases), _texts(methods))


def _binding(item: Any, place: Any) -> Binding:
    name, line, column, called = _fields(item, 4)
    if not place(line, column):
        raise _Invalid
    return Binding(_text(name), line, column, _text(called, True))
