"""PA2xx: type hints. Explicit is better than implicit.

Everything these rules need is in a `def` statement's own header: its parameters, return
annotation, decorators, and where it sits (directly in a class body, inside another function,
which the semantic model's scope tells). They never look into a function's body. PA203 asks the
semantic model which names mean `typing.Any` where the header is evaluated.
"""

from __future__ import annotations

import re

import libcst as cst

from pyarch_lint.checks.base import Rule, RuleContext, all_params
from pyarch_lint.checks.options import AnnotationOptions
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import ScopeKind, string_annotation

# ruff's default `dummy-variable-rgx`: `_`, `__`, `_unused`, but not `__dunder__` or `_x_`.
_DUMMY = re.compile(r"^(_+|(_+[a-zA-Z0-9_]*[a-zA-Z0-9]+?))$")
# Methods Python binds to the class without a decorator (ruff treats them the same way).
_IMPLICIT_CLASSMETHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})


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


def _fully_untyped(node: cst.FunctionDef) -> bool:
    return node.returns is None and all(p.annotation is None for p in all_params(node.params))


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
    """The functions the options exempt from PA201 and PA202 alike."""

    REQUIRES_ANY = (b"def",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.options = context.options(AnnotationOptions)

    def exempt(self, node: cst.FunctionDef, nested: bool) -> bool:
        options = self.options
        return (
            (options.ignore_private and _is_private(node.name.value))
            or (options.ignore_nested and nested)
            or (options.ignore_fully_untyped and _fully_untyped(node))
        )


class MissingParameterAnnotation(_MissingAnnotationRule):
    CODE = "PA201"
    NAME = "missing-parameter-annotation"
    SEVERITY = Severity.INFO
    OPTIONS = AnnotationOptions

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        params = node.params
        unannotated = [p for p in all_params(params) if p.annotation is None]
        if not unannotated or self.exempt(node, nested):
            return
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


class MissingReturnAnnotation(_MissingAnnotationRule):
    CODE = "PA202"
    NAME = "missing-return-annotation"
    SEVERITY = Severity.INFO
    OPTIONS = AnnotationOptions

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        if node.returns is not None or self.exempt(node, nested):
            return
        function = node.name.value
        decorators = decorator_names(node)
        if function == "__init__" and in_class and self.options.mypy_init_return:
            # mypy's rule, as in ruff: one annotated argument makes `-> None` implied.
            implicit = receiver(node, in_class, decorators)
            if any(p.annotation is not None for p in all_params(node.params) if p is not implicit):
                return
        returns_none = (function == "__init__" and in_class) or bool(
            decorators & {"setter", "deleter"}
        )
        hint = "add `-> None`" if returns_none else "say what it returns"
        self.report(node, f"`{function}` has no return annotation: {hint}")


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
