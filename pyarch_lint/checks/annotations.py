"""PA2xx: type hints. Explicit is better than implicit.

Everything these rules need is in a `def` statement's own header: its parameters, return
annotation, decorators, and where it sits (directly in a class body, inside another function).
They never look into a function's body. PA203 also follows the module's import statements, as
the walk meets them, to know which names mean `typing.Any`.
"""

from __future__ import annotations

import re

import libcst as cst

from pyarch_lint.checks.base import Rule, RuleContext, all_params
from pyarch_lint.checks.options import AnnotationOptions
from pyarch_lint.findings import Severity

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

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._in_class: list[bool] = []  # one entry per enclosing def or class, innermost last
        self._functions = 0

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        raise NotImplementedError

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._in_class.append(True)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._in_class.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.check(node, bool(self._in_class) and self._in_class[-1], self._functions > 0)
        self._in_class.append(False)
        self._functions += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._in_class.pop()
        self._functions -= 1


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


# What an imported name can stand for, as far as PA203 cares.
_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_ANY, _MODULE, _OPTIONAL, _UNION, _ANNOTATED = "Any", "module", "Optional", "Union", "Annotated"
_TYPING_NAMES = frozenset({_ANY, _OPTIONAL, _UNION, _ANNOTATED})
_SHADOWED = ""  # bound to something else: a local class, assignment or unrelated import


class AnyAnnotation(FunctionRule):
    """PA203. Imports are resolved from the module's own import statements as the walk meets
    them, in a stack of scopes, so that `from typing import Any as A`, `import typing as t` and
    `typing_extensions.Any` are recognised and a local `Any = ...` or `class Any` is not."""

    CODE = "PA203"
    NAME = "any-annotation"
    SEVERITY = Severity.INFO
    DEFAULT_ENABLED = False
    OPTIONS = AnnotationOptions

    REQUIRES_ANY = (b"Any",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        # Per scope (module, then each class or def, innermost last): name -> what it means
        # (_ANY, _MODULE, _OPTIONAL, ...), or _SHADOWED once rebound to something else.
        self._scopes: list[dict[str, str]] = [{}]
        self._kinds: list[bool] = [False]  # True for a class scope
        self._tracked: set[str] = set()  # every name ever bound to something typing-related

    # -- scopes --------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, _SHADOWED)
        self._scopes.append({})
        self._kinds.append(True)
        super().visit_ClassDef(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()
        self._kinds.pop()
        super().leave_ClassDef(original_node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)  # the header is read in the enclosing scope
        self._bind(node.name.value, _SHADOWED)
        scope: dict[str, str] = {}
        if self._tracked:
            for param in all_params(node.params):
                if param.name.value in self._tracked:
                    scope[param.name.value] = _SHADOWED
        self._scopes.append(scope)
        self._kinds.append(False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()
        self._kinds.pop()
        super().leave_FunctionDef(original_node)

    def _bind(self, name: str, meaning: str) -> None:
        if meaning != _SHADOWED:
            self._tracked.add(name)
        elif name not in self._tracked:
            return  # shadowing a name that never meant anything here changes nothing
        self._scopes[-1][name] = meaning

    def _lookup(self, name: str) -> str:
        """What `name` means where the current def's header is evaluated: its own scope, then
        enclosing functions (class bodies are skipped, as Python does), then the module."""
        scopes = self._scopes
        for index in range(len(scopes) - 1, -1, -1):
            if index != len(scopes) - 1 and self._kinds[index]:
                continue
            meaning = scopes[index].get(name)
            if meaning is not None:
                return meaning
        return _SHADOWED

    # -- bindings ------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                meaning = _MODULE if module in _TYPING_MODULES else _SHADOWED
                self._bind(alias.asname.name.value, meaning)
            else:  # `import typing.x` binds `typing` itself
                top = module.partition(".")[0]
                self._bind(top, _MODULE if top in _TYPING_MODULES else _SHADOWED)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        from_typing = (
            not node.relative
            and node.module is not None
            and _dotted(node.module) in _TYPING_MODULES
        )
        if isinstance(node.names, cst.ImportStar):
            if from_typing:
                for name in _TYPING_NAMES:
                    self._bind(name, name)
            return
        for alias in node.names:
            imported = _dotted(alias.name)
            bound = imported
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound = alias.asname.name.value
            meaning = imported if from_typing and imported in _TYPING_NAMES else _SHADOWED
            self._bind(bound, meaning)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._tracked:
            for target in node.targets:
                self._shadow_target(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self._tracked and node.value is not None:
            self._shadow_target(node.target)

    def visit_For(self, node: cst.For) -> None:
        if self._tracked:
            self._shadow_target(node.target)

    def visit_With(self, node: cst.With) -> None:
        if self._tracked:
            for item in node.items:
                if item.asname is not None:
                    self._shadow_target(item.asname.name)

    def _shadow_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, _SHADOWED)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._shadow_target(element.value)

    # -- the check -----------------------------------------------------------------------

    def check(self, node: cst.FunctionDef, in_class: bool, nested: bool) -> None:
        if not self._tracked:
            return
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
        if meaning == _ANY:
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
            if wrapper in (_OPTIONAL, _ANNOTATED) and arguments:
                return self._resolves_to_any(arguments[0], quoted)
            if wrapper == _UNION:
                return any(self._resolves_to_any(a, quoted) for a in arguments)
            return False
        if isinstance(expression, cst.SimpleString | cst.ConcatenatedString) and quoted == 0:
            return self._string_is_any(expression)
        return False

    def _string_is_any(self, expression: cst.SimpleString | cst.ConcatenatedString) -> bool:
        """A forward reference such as `"Any"` or `"Optional[t.Any]"`."""
        text = expression.evaluated_value
        if not isinstance(text, str):
            return False
        text = text.strip()
        if text.isidentifier():
            return self._lookup(text) == _ANY
        try:
            parsed = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return False
        return self._resolves_to_any(parsed, 1)

    def _meaning(self, expression: cst.BaseExpression) -> str:
        """What a name or `module.attribute` stands for: _ANY, _OPTIONAL, ... or _SHADOWED."""
        if isinstance(expression, cst.Name):
            return self._lookup(expression.value)
        if (
            isinstance(expression, cst.Attribute)
            and isinstance(expression.value, cst.Name)
            and expression.attr.value in _TYPING_NAMES
            and self._lookup(expression.value.value) == _MODULE
        ):
            return expression.attr.value
        return _SHADOWED


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
