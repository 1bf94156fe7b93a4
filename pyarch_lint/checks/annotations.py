"""PA2xx: type hints. Explicit is better than implicit.

Everything these rules need is in a `def` statement's own header: its parameters, return
annotation, decorators, `# type:` comments, and where it sits (directly in a class body, inside
another function, which the semantic model's scope tells). They never look into a function's
body beyond the comment on its first line. PA203 asks the semantic model which names mean
`typing.Any` where the header is evaluated, PA201 and PA202 which decorator is `@overload`.

As mypy does by default, a function with no hint at all is not checked (`ignore-fully-untyped`):
its first hint makes every missing one a finding. A module where no function has one is reported
once, by PA204, when the walk leaves it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

import libcst as cst

from pyarch_lint.checks.base import Fix, Rule, RuleContext, all_params
from pyarch_lint.checks.options import AnnotationOptions
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import Scope, ScopeKind, SemanticModel, string_annotation
from pyarch_lint.walk import descendants

# ruff's default `dummy-variable-rgx`: `_`, `__`, `_unused`, but not `__dunder__` or `_x_`.
_DUMMY = re.compile(r"^(_+|(_+[a-zA-Z0-9_]*[a-zA-Z0-9]+?))$")
# Methods Python binds to the class without a decorator (ruff treats them the same way).
_IMPLICIT_CLASSMETHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
# PEP 484 type comments: `# type: int` after a parameter, `# type: (int) -> str` for a whole
# signature (on the def line or the first line of its body). `# type: ignore` is no hint.
_TYPE_COMMENT = re.compile(r"#\s*type:(?!\s*ignore\b)")
_OVERLOAD = frozenset({"typing.overload", "typing_extensions.overload"})
_PYTEST_FIXTURE = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})


def decorator_names(node: cst.FunctionDef) -> frozenset[str]:
    """The last name of each decorator: `overload` for `@typing.overload`, `setter` for
    `@value.setter`, `wraps` for `@functools.wraps(f)`."""
    names = set()
    for decorator in node.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        if isinstance(expression, cst.Name):
            names.add(expression.value)
        elif isinstance(expression, cst.Attribute):
            names.add(expression.attr.value)
    return frozenset(names)


def receiver(node: cst.FunctionDef, in_class: bool, decorators: frozenset[str]) -> cst.Param | None:
    """The parameter Python fills in itself (`self` of a method, `cls` of a classmethod), if any.

    Only a def directly in a class body is a method; a `@staticmethod` has no receiver. The
    first positional parameter is the receiver whatever it is called, as in ruff.
    """
    if not in_class or "staticmethod" in decorators:
        return None
    params = node.params
    if params.posonly_params:
        return params.posonly_params[0]
    if params.params:
        return params.params[0]
    return None


def display_name(param: cst.Param, params: cst.Parameters) -> str:
    if param is params.star_arg:
        return f"*{param.name.value}"
    if param is params.star_kwarg:
        return f"**{param.name.value}"
    return param.name.value


def is_dummy(name: str) -> bool:
    return _DUMMY.match(name) is not None


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_type_comment(comment: cst.Comment | None) -> bool:
    return comment is not None and _TYPE_COMMENT.match(comment.value) is not None


def _ends_in_type_comment(whitespace: cst.BaseParenthesizableWhitespace) -> bool:
    return isinstance(whitespace, cst.ParenthesizedWhitespace) and _is_type_comment(
        whitespace.first_line.comment
    )


def _param_annotated(param: cst.Param) -> bool:
    """An annotation, or a `# type:` comment right after the parameter (or its comma)."""
    if param.annotation is not None:
        return True
    comma = param.comma
    return _ends_in_type_comment(param.whitespace_after_param) or (
        isinstance(comma, cst.Comma) and _ends_in_type_comment(comma.whitespace_after)
    )


def signature_comment(node: cst.FunctionDef) -> bool:
    """Does a `# type: (...) -> R` comment, on the def line or the next, type the signature?"""
    body = node.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    if _is_type_comment(body.header.comment):
        return True
    # Every statement has `leading_lines`, the comment lines above it: the first is the next line.
    leading: Sequence[cst.EmptyLine] = getattr(body.body[0], "leading_lines", ())
    return bool(leading) and _is_type_comment(leading[0].comment)


def unannotated_params(node: cst.FunctionDef) -> list[cst.Param]:
    """The parameters without a hint (none under a signature comment)."""
    missing = [p for p in all_params(node.params) if not _param_annotated(p)]
    return [] if missing and signature_comment(node) else missing


def has_hint(node: cst.FunctionDef) -> bool:
    """Does any parameter, the return, or a signature comment of `node` carry a type?"""
    return (
        node.returns is not None
        or any(_param_annotated(p) for p in all_params(node.params))
        or signature_comment(node)
    )


class FunctionRule(Rule):
    """A rule that judges each `def` by its header, knowing where the def sits.

    `check` is called once per def with `in_class` (directly in a class body: a method) and
    `nested` (inside another function, at any depth, including via a class defined there).
    """

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        raise NotImplementedError

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # The def's own scope opens at its body: here the scope is the one it sits in.
        semantic = self.semantic
        self.check(node, semantic.scope.kind is ScopeKind.CLASS, semantic.in_function())


class _MissingAnnotationRule(FunctionRule):
    """What PA201, PA202 and PA204 share: the functions the options exempt and the `@overload`
    implementations."""

    REQUIRES_ANY = (b"def",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.options = context.options(AnnotationOptions)
        # Per scope: the name of its last def, when that def was an `@overload` variant.
        self._overloaded: dict[Scope, str] = {}

    def exempt(self, node: cst.FunctionDef, nested: bool) -> bool:
        """Is `node` none of these rules' business? Called for every def, in order."""
        options = self.options
        return (
            self._implements_overloads(node)
            or (options.ignore_private and _is_private(node.name.value))
            or (options.ignore_nested and nested)
        )

    def unchecked(self, node: cst.FunctionDef, nested: bool) -> bool:
        """Does PA201 or PA202 skip `node`: exempt, or without any hint (mypy's default)?"""
        return self.exempt(node, nested) or (
            self.options.ignore_fully_untyped and not has_hint(node)
        )

    def _implements_overloads(self, node: cst.FunctionDef) -> bool:
        """Is `node` the implementation after `@overload` variants of its name (the def right
        after them in the same scope)? Its signature is for the body, callers see the variants
        (ruff's rule too)."""
        scope = self.semantic.scope
        previous = self._overloaded.pop(scope, None)
        if node.decorators and any(
            name in _OVERLOAD
            for decorator in node.decorators
            for name in self.semantic.qualified_names(decorator.decorator)
        ):
            self._overloaded[scope] = node.name.value
            return False
        return previous == node.name.value


class MissingParameterAnnotation(_MissingAnnotationRule):
    CODE = "PA201"
    NAME = "missing-parameter-annotation"
    SEVERITY = Severity.INFO
    OPTIONS = AnnotationOptions

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        if self.unchecked(node, nested):
            return
        unannotated = unannotated_params(node)
        if not unannotated or (self.options.ignore_pytest_parameters and self._pytest(node)):
            return
        params = node.params
        implicit = receiver(node, in_class, decorator_names(node))
        function = node.name.value
        for param in unannotated:
            if param is implicit:
                continue
            if self.options.suppress_dummy_args and is_dummy(param.name.value):
                continue
            self.report(
                param,
                f"Parameter `{display_name(param, params)}` of `{function}` has no type "
                "annotation: say what it expects",
            )

    def _pytest(self, node: cst.FunctionDef) -> bool:
        """Does pytest fill in `node`'s parameters? A test function (pytest's default
        `python_functions` and `python_classes`: `test*` at module level or in a `Test*` class)
        or a fixture. Judged from the module alone: rules do not see the file's name."""
        if node.name.value.startswith("test"):
            owner = self.semantic.scope.owner
            if isinstance(owner, cst.Module) or (
                isinstance(owner, cst.ClassDef) and owner.name.value.startswith("Test")
            ):
                return True
        for decorator in node.decorators:
            expression = decorator.decorator
            if isinstance(expression, cst.Call):  # `@pytest.fixture(scope="module")`
                expression = expression.func
            if any(name in _PYTEST_FIXTURE for name in self.semantic.qualified_names(expression)):
                return True
        return False


class MissingReturnAnnotation(_MissingAnnotationRule):
    CODE = "PA202"
    NAME = "missing-return-annotation"
    SEVERITY = Severity.INFO
    OPTIONS = AnnotationOptions

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        if self.unchecked(node, nested) or node.returns is not None or signature_comment(node):
            return
        function = node.name.value
        decorators = decorator_names(node)
        if function == "__init__" and in_class and self.options.mypy_init_return:
            # mypy's rule, as in ruff: one annotated argument makes `-> None` implied.
            implicit = receiver(node, in_class, decorators)
            if any(p is not implicit for p in all_params(node.params) if _param_annotated(p)):
                return
        returns_none = (function == "__init__" and in_class) or bool(
            decorators & {"setter", "deleter"}
        )
        hint = "add `-> None`" if returns_none else "say what it returns"
        fix = self._none_fix(node, in_class, decorators)
        self.report(node, f"`{function}` has no return annotation: {hint}", fix)

    def _none_fix(
        self, node: cst.FunctionDef, in_class: bool, decorators: frozenset[str]
    ) -> Fix | None:
        """`-> None` for a function that surely returns None: no `return` with a value, no
        `yield`. Not for what has its return type decided elsewhere: abstract methods,
        `@overload` variants, a Protocol's methods, and bodies that are only a placeholder (a
        stub, a method meant to be overridden, or one that only raises)."""
        if decorators & _DECIDED_ELSEWHERE or _placeholder_body(node.body):
            return None
        if in_class and _is_protocol(self.semantic, self.semantic.scope.owner):
            return None
        if _returns_a_value(node.body):
            return None
        none = cst.Annotation(cst.Name("None"))
        return Fix("Add `-> None`", True, node, node.with_changes(returns=none))


# Decorators that leave a function's return type to another definition.
_DECIDED_ELSEWHERE = frozenset({"abstractmethod", "abstractproperty", "overload"})
_PROTOCOLS = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
# Where a `return` or `yield` belongs to another function.
_OTHER_FUNCTIONS: frozenset[type[cst.CSTNode]] = frozenset(
    {cst.FunctionDef, cst.Lambda, cst.ClassDef}
)


def _placeholder_body(body: cst.BaseSuite) -> bool:
    """A docstring, `pass`, `...` and `raise` only."""
    statements: list[cst.CSTNode] = []
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            statements.extend(statement.body)
        else:
            statements.append(statement)
    return all(_is_placeholder(statement) for statement in statements)


def _is_placeholder(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.Pass):
        return True
    if isinstance(statement, cst.Expr):
        return isinstance(statement.value, cst.Ellipsis | cst.SimpleString | cst.ConcatenatedString)
    # A body that only raises: `NotImplementedError` for subclasses to fill in, or a function
    # that never returns (`NoReturn`); either way not `None`.
    return isinstance(statement, cst.Raise)


def _is_protocol(semantic: SemanticModel, owner: object) -> bool:
    if not isinstance(owner, cst.ClassDef):
        return False
    for base in owner.bases:
        value = base.value.value if isinstance(base.value, cst.Subscript) else base.value
        if any(name in _PROTOCOLS for name in semantic.qualified_names(value)):
            return True
    return False


_RESULTS: frozenset[type[cst.CSTNode]] = frozenset({cst.Return, cst.Yield})


def _returns_a_value(body: cst.BaseSuite) -> bool:
    """Does a `return <value>` (other than `return None`) or a `yield` belong to the function
    whose body this is? Walks the body: a cost paid per finding, not per function."""
    for found in descendants(body, _RESULTS, _OTHER_FUNCTIONS):
        if isinstance(found, cst.Yield):
            return True
        value = cast(cst.Return, found).value
        if value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
            return True
    return False


class UntypedModule(_MissingAnnotationRule):
    """PA204: one finding, on the first function, for a module whose functions have no hint at
    all, which PA201 and PA202 then leave alone (`ignore-fully-untyped`, whose `false` turns this
    rule off)."""

    CODE = "PA204"
    NAME = "untyped-module"
    SEVERITY = Severity.INFO
    OPTIONS = AnnotationOptions

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        # True until a function of the module shows a hint.
        self._untyped = self.options.ignore_fully_untyped
        self._first: cst.FunctionDef | None = None
        self._functions = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._untyped and has_hint(node):
            self._untyped = False
        super().visit_FunctionDef(node)

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        # Counted: the functions PA201 and PA202 would check once the module has a hint.
        if not self._untyped or self.exempt(node, nested):
            return
        self._functions += 1
        if self._first is None:
            self._first = node

    def leave_Module(self, node: cst.Module) -> None:
        if not self._untyped or self._first is None:
            return
        count = self._functions
        functions = "1 function" if count == 1 else f"{count} functions"
        self.report(
            self._first,
            f"No function in this module has a type hint ({functions}): annotate its public "
            "functions first; PA201 and PA202 then list what each annotated function still misses",
        )


_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_ANY, _OPTIONAL, _UNION, _ANNOTATED = "Any", "Optional", "Union", "Annotated"


class AnyAnnotation(FunctionRule):
    """PA203. Names are resolved by the semantic model, so that `from typing import Any as A`,
    `import typing as t` and `typing_extensions.Any` are recognised and a local `class Any` is
    not."""

    CODE = "PA203"
    NAME = "any-annotation"
    SEVERITY = Severity.INFO
    DEFAULT_ENABLED = False
    OPTIONS = AnnotationOptions

    REQUIRES_ANY = (b"Any",)

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        decorators = decorator_names(node)
        if "override" in decorators:
            return  # the signature is the base class's to choose (ruff ANN401 agrees)
        function = node.name.value
        implicit = receiver(node, in_class, decorators)
        params = node.params
        for param in all_params(params):
            annotation = param.annotation
            if annotation is not None and param is not implicit and self._is_any(annotation):
                self.report(
                    annotation,
                    f"Parameter `{display_name(param, params)}` of `{function}` is annotated "
                    "`Any`, which turns type checking off for it: name the type, or use "
                    "`object`, a Protocol or a TypeVar",
                )
        if node.returns is not None and self._is_any(node.returns):
            self.report(
                node.returns,
                f"`{function}` returns `Any`, which turns type checking off for its callers: "
                "name the type it returns",
            )

    def _is_any(self, annotation: cst.Annotation) -> bool:
        return self._resolves_to_any(annotation.annotation, 0)

    def _resolves_to_any(self, expression: cst.BaseExpression, quoted: int) -> bool:
        meaning = self._meaning(expression)
        if _ANY in meaning:
            return True
        if isinstance(expression, cst.BinaryOperation) and isinstance(
            expression.operator, cst.BitOr
        ):
            return self._resolves_to_any(expression.left, quoted) or self._resolves_to_any(
                expression.right, quoted
            )
        if isinstance(expression, cst.Subscript):
            wrapper = self._meaning(expression.value)
            arguments = [
                element.slice.value
                for element in expression.slice
                if isinstance(element.slice, cst.Index)
            ]
            if wrapper & {_OPTIONAL, _ANNOTATED} and arguments:
                return self._resolves_to_any(arguments[0], quoted)
            if _UNION in wrapper:
                return any(self._resolves_to_any(a, quoted) for a in arguments)
            return False
        if isinstance(expression, cst.SimpleString | cst.ConcatenatedString) and quoted == 0:
            # A forward reference such as `"Any"` or `"Optional[t.Any]"`, parsed once only.
            parsed = string_annotation(expression)
            return parsed is not None and self._resolves_to_any(parsed, 1)
        return False

    def _meaning(self, expression: cst.BaseExpression) -> set[str]:
        """The `typing` names (`Any`, `Optional`, ...) an expression may stand for."""
        meanings = set()
        for name in self.semantic.qualified_names(expression):
            module, _, member = name.rpartition(".")
            if module in _TYPING_MODULES:
                meanings.add(member)
        return meanings
