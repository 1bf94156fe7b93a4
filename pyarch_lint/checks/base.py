"""What a rule is: a small class that declares its code, name, severity and options, and
hooks the LibCST nodes it looks at.

The contract, which the walker (`pyarch_lint.walk`) keeps exactly:

- `visit_<Node>(self, node)` and `leave_<Node>(self, node)` are called for every node of the
  LibCST type `<Node>` in the module, statement-level and expression-level alike, in source
  order: a rule with `visit_Call` and `leave_FunctionDef` receives every call and every function.
- `visit_<Node>` returning `False` skips that node's children for this rule only; its
  `leave_<Node>` is still called, and other rules still see the children.
- Names and simple types come from `self.semantic`, one `SemanticModel` per file shared by all
  rules, whose scope follows the walk.
- Nothing else: no LibCST metadata (`METADATA_DEPENDENCIES`, `get_metadata`), no attribute hooks
  (`visit_Call_func`), no `on_visit`, no transformer-style `leave_X(original, updated)`. A rule
  class asking for any of them is refused when it is loaded (`rule_hooks`), never at run time.

A rule pays only for what it hooks: a file whose applicable rules hook statements alone is walked
through its statements, never into its expressions (a full walk costs as much as the parse).

A rule reports a node; the engine turns it into a positioned, suppressible `Finding`. A report
may carry a `Fix`: a node of the module and what replaces it, which `--fix` applies with LibCST
(`pyarch_lint.fixes`), every other byte of the file kept. A verdict
that needs more of the module than the walk has passed holds its reports (`hold`, placed where
the walk is) and delivers them later, or drops them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any, ClassVar, TypeVar

import libcst as cst

from pyarch_lint.findings import Severity
from pyarch_lint.semantics import SemanticModel

OptionsT = TypeVar("OptionsT")

# The node kinds the engine walks, numbers and places: statements and except handlers.
Statement = cst.BaseSmallStatement | cst.BaseCompoundStatement
Handler = cst.ExceptHandler | cst.ExceptStarHandler


def _node_types() -> dict[str, type[cst.CSTNode]]:
    # `CSTNode in __mro__`, not issubclass: LibCST's bases are ABCs, and their first subclass
    # checks over the module's 255 names cost a sixtieth of a second, which every run would pay.
    found = (getattr(cst, name) for name in dir(cst))
    return {k.__name__: k for k in found if isinstance(k, type) and cst.CSTNode in k.__mro__}


# Every LibCST node class by name, abstract bases included (hooks may only name concrete ones).
NODE_TYPES = _node_types()


def is_concrete(kind: type[cst.CSTNode]) -> bool:
    return not getattr(kind, "__abstractmethods__", None)


@dataclass(frozen=True, slots=True)
class Fix:
    """How to fix what a report says, as Fixit does it: `node` (of the module being walked, the
    reported node or another) becomes `replacement`, or leaves its parent when that is
    `cst.RemoveFromParent()`. `safe`: it keeps what the code means, and `--fix` applies it; an
    unsafe fix may change behaviour and waits for `--unsafe-fixes`. `imports`: modules the
    replacement names (`contextlib`), each imported once at the top of the module if no
    `import` binds it yet (the rule checks that the name is free)."""

    title: str  # what it does, as an editor's code action names it: "Add `-> None`"
    safe: bool
    node: cst.CSTNode
    replacement: cst.CSTNode | cst.RemovalSentinel
    imports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """What a rule saw, before the engine places it in the file."""

    code: str
    node: cst.CSTNode
    message: str
    anchor: int  # pre-order index of the innermost statement being visited, -1 at module level
    handler: int  # pre-order index of the innermost except handler being visited, or -1
    fix: Fix | None = None


class RuleContext:
    """What a rule gets from the engine for one file: its code, its options, the file's
    semantic model and path, a way to report."""

    def __init__(
        self,
        code: str,
        options: dict[type[Any], Any],
        semantic: SemanticModel,
        place: Callable[[str, cst.CSTNode, str, Fix | None], Report],
        deliver: Callable[[Report], None],
        *,
        path: str = "",
    ) -> None:
        self.code = code
        # Relative to the project root, `/`-separated, as per-file-ignores match it; "" when
        # the source is no file.
        self.path = path
        self._options = options
        self.semantic = semantic
        self._place = place
        self._deliver = deliver

    def options(self, kind: type[OptionsT]) -> OptionsT:
        """The configured options of type `kind` (a frozen dataclass declared by a rule)."""
        value: OptionsT = self._options[kind]
        return value

    def report(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        self._deliver(self._place(self.code, node, message, fix))

    def hold(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> Report:
        return self._place(self.code, node, message, fix)

    def deliver(self, report: Report) -> None:
        if report.code != self.code:
            raise ValueError(f"{self.code} cannot deliver a report of {report.code}")
        self._deliver(report)


class Rule:
    """Base class of every rule: subclasses declare what the rule is, define hooks (see the
    module docstring), and may set the knob below."""

    # The declaration: what configuration, reports and the catalogue know of the rule (built-in
    # rules are indexed in `registry`, which a test keeps equal to these).
    CODE: ClassVar[str]  # letters then digits; `PA` is ours, a plugin picks its own letters
    NAME: ClassVar[str]  # kebab-case, as `pyarch-lint rule NAME` accepts it
    SEVERITY: ClassVar[Severity]
    DEFAULT_ENABLED: ClassVar[bool] = True  # False: runs only when selected
    # A frozen dataclass whose fields, kebab-cased, are the keys of `[tool.pyarch-lint.<SECTION>]`
    # (a `SECTION` ClassVar) and whose field metadata "help" says what each key does.
    OPTIONS: ClassVar[type[Any] | None] = None
    # The rule's document in Markdown. A built-in rule's is `rules/<CODE>-<NAME>.md`, whose
    # examples the tests run; a plugin rule sets DOC or writes a docstring.
    DOC: ClassVar[str | None] = None

    # A file can only trip this rule if its bytes contain one of these (None: any file can).
    # Lets the engine skip work that cannot produce a finding; keep it a true necessary condition.
    REQUIRES_ANY: ClassVar[tuple[bytes, ...] | None] = None

    @classmethod
    def requires_any(cls, options: Mapping[type[Any], Any]) -> tuple[bytes, ...] | None:
        """REQUIRES_ANY under a run's options (by options class): a rule whose options add
        names it looks for widens it here."""
        return cls.REQUIRES_ANY

    def __init__(self, context: RuleContext) -> None:
        self.context = context

    @property
    def semantic(self) -> SemanticModel:
        """Names, scopes and simple types at the node being visited."""
        return self.context.semantic

    def report(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        """Report `node`; the engine computes its position and applies suppressions. `fix`:
        how to fix it, when a sound fix exists here (see `Fix`)."""
        self.context.report(node, message, fix)

    def hold(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> Report:
        """A report of `node` placed where the walk is now, not yet reported: `deliver` it
        later (by the end of the module, `leave_Module`), or drop it."""
        return self.context.hold(node, message, fix)

    def deliver(self, report: Report) -> None:
        """Report what `hold` placed."""
        self.context.deliver(report)


class InvalidRuleError(TypeError):
    """A rule class asks for something the walker does not give."""


@dataclass(frozen=True, slots=True)
class Hook:
    method: str  # `visit_Call`
    node_type: type[cst.CSTNode]
    visit: bool  # False: a leave hook


# Hooks of LibCST's own visitors that the walker never calls.
_FOREIGN_HOOKS = frozenset({"on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute"})
_METADATA = ("METADATA_DEPENDENCIES", "get_metadata")


_HOOKS: dict[type[Rule], tuple[Hook, ...]] = {}  # checked once per class, not per file


def rule_hooks(kind: type[Rule]) -> tuple[Hook, ...]:
    """The hooks of a rule class, checked against the contract; raises `InvalidRuleError`
    naming the class and the first hook the walker would not honour. Loading a rule calls it."""
    hooks = _HOOKS.get(kind)
    if hooks is None:
        # A memo, not state: functools.cache would do, but cannot type a class argument.
        hooks = _HOOKS[kind] = _checked_hooks(kind)  # noqa: PA506
    return hooks


def _checked_hooks(kind: type[Rule]) -> tuple[Hook, ...]:
    def refuse(reason: str) -> InvalidRuleError:
        return InvalidRuleError(f"rule {kind.__module__}.{kind.__qualname__}: {reason}")

    if not (isinstance(kind, type) and issubclass(kind, Rule)):
        raise refuse("is not a subclass of pyarch_lint.checks.base.Rule")
    if cst.MetadataDependent in kind.__mro__:
        raise refuse("inherits a LibCST visitor; subclass Rule alone")
    if getattr(kind, "METADATA_DEPENDENCIES", ()):
        raise refuse("declares METADATA_DEPENDENCIES; the walker resolves no LibCST metadata")
    for name, function in _own_functions(kind):
        if "get_metadata" in _names_used(function.__code__):
            raise refuse(f"{name} calls get_metadata; the walker resolves no LibCST metadata")
    hooks = []
    for name in dir(kind):
        if name in _FOREIGN_HOOKS:
            raise refuse(f"defines {name}, which the walker never calls; use visit_<Node>")
        if name.startswith(("visit_", "leave_")):
            hooks.append(_hook(kind, name, refuse))
    return tuple(hooks)


def _hook(kind: type[Rule], name: str, refuse: Callable[[str], InvalidRuleError]) -> Hook:
    what, _, node_name = name.partition("_")
    node_type = NODE_TYPES.get(node_name)
    if node_type is None:
        head = node_name.partition("_")[0]
        if head in NODE_TYPES:
            raise refuse(f"{name} is an attribute hook, which the walker never calls")
        raise refuse(f"{name} names no LibCST node type ({node_name!r})")
    if not is_concrete(node_type):
        raise refuse(f"{name} names the abstract {node_name}; hook its concrete node types")
    method = getattr(kind, name)
    if not callable(method):
        raise refuse(f"{name} is not a method")
    try:
        inspect.signature(method).bind(None, None)
    except TypeError:
        raise refuse(f"{name} must take one node: `def {name}(self, node)`") from None
    return Hook(name, node_type, what == "visit")


def _own_functions(kind: type[Rule]) -> Iterator[tuple[str, FunctionType]]:
    """Functions defined by the rule class and its bases below `Rule`."""
    for klass in kind.__mro__:
        if klass is Rule or klass is object:
            continue
        for name, value in vars(klass).items():
            function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            if isinstance(function, FunctionType):
                yield name, function


def _names_used(code: CodeType) -> set[str]:
    """Global and attribute names a function's code refers to, nested functions included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= _names_used(constant)
    return names


def all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    """Every parameter in source order, `*args` and `**kwargs` included."""
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg
