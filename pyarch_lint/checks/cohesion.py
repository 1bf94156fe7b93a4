"""PA505: god classes. If the implementation is hard to explain, it's a bad idea.

A class is judged when it is large (`min-methods` methods, or `min-attributes` instance
attributes assigned through `self`), which a look at its body and its assignments tells; only
then are its methods read in full for LCOM4 (Hitz and Montazeri's lack of cohesion): methods are
linked when they use a common member of `self` or one uses another, and each connected group is
a class struggling to get out. Dunder methods (`__init__` touches everything and would link it
all), static and class methods, and methods that use no member of `self` are left out of the
graph: they say nothing about which state belongs together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import libcst as cst

from pyarch_lint.checks.base import Rule, RuleContext
from pyarch_lint.checks.options import TEST_MODULES, ClassOptions
from pyarch_lint.files import path_matches
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import dotted, target_parts
from pyarch_lint.walk import descendants

# Classes that are records, declarations or interfaces by what they derive from: data holders
# (NamedTuple, TypedDict, pydantic), enumerations, ORM models (Django, SQLAlchemy, SQLModel),
# Protocols and ABCs, and test cases. Matched by the last part of the base's name, so a base
# imported through a relative import or re-exported elsewhere still counts.
_EXEMPT_BASES = frozenset(
    {"NamedTuple", "TypedDict", "Protocol", "ABC", "BaseModel", "BaseSettings", "RootModel"}
    | {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum"}
    | {"Model", "Base", "DeclarativeBase", "DeclarativeBaseNoMeta", "SQLModel", "Document"}
    | {"TestCase", "SimpleTestCase", "TransactionTestCase", "IsolatedAsyncioTestCase"}
)
# Class decorators that make a record: dataclasses, attrs, pydantic's dataclasses.
_RECORD_DECORATORS = frozenset({"dataclass", "dataclasses", "attr", "attrs"})
_RECORD_CALLS = frozenset({"namedtuple", "NamedTuple", "declarative_base", "TypedDict"})
_EXEMPT_METACLASSES = frozenset({"ABCMeta", "EnumMeta", "EnumType", "ModelBase"})
_ABSTRACT = frozenset({"abstractmethod", "abstractproperty"})
_RECEIVERLESS = frozenset({"staticmethod", "classmethod"})
_ASSIGNMENTS: frozenset[type[cst.CSTNode]] = frozenset({cst.Assign, cst.AnnAssign, cst.AugAssign})
_ATTRIBUTES: frozenset[type[cst.CSTNode]] = frozenset({cst.Attribute})
_NOTHING: frozenset[type[cst.CSTNode]] = frozenset()

# How many method and attribute names a message shows per group, and how many groups.
_SHOWN_METHODS = 4
_SHOWN_ATTRIBUTES = 3
_SHOWN_GROUPS = 4


def _last(node: cst.BaseExpression) -> str | None:
    written = dotted(node)
    return None if written is None else written.rpartition(".")[2]


def _decorator_names(function: cst.FunctionDef | cst.ClassDef) -> Iterator[str]:
    for decorator in function.decorators:
        expression = decorator.decorator
        if isinstance(expression, cst.Call):
            expression = expression.func
        written = dotted(expression)
        if written is not None:
            yield written


def _receiver(method: cst.FunctionDef) -> str | None:
    if any(name.rpartition(".")[2] in _RECEIVERLESS for name in _decorator_names(method)):
        return None
    first = [*method.params.posonly_params, *method.params.params][:1]
    return first[0].name.value if first else None


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _assigned_attributes(
    methods: list[cst.FunctionDef], receivers: dict[str, str], *, anywhere: bool = False
) -> set[str]:
    """The instance attributes `__init__` (`anywhere`: any method) assigns as
    `self.<name> = ...`: the state every instance starts with (reading every method again for
    the ones assigned later would cost a second walk of most of a module's code, so that is
    done only for a class about to be judged)."""
    found: set[str] = set()
    for method in methods:
        receiver = receivers.get(method.name.value)
        if receiver is None or (method.name.value != "__init__" and not anywhere):
            continue
        for statement in descendants(method.body, _ASSIGNMENTS, _NOTHING):
            if isinstance(statement, cst.Assign):
                targets = [t.target for t in statement.targets]
            elif isinstance(statement, cst.AnnAssign | cst.AugAssign):
                targets = [statement.target]
            found.update(
                node.attr.value
                for target in targets
                for node in target_parts(target)
                if isinstance(node, cst.Attribute)
                and isinstance(node.value, cst.Name)
                and node.value.value == receiver
            )
    return found


def _is_state(member: str) -> bool:
    """Does using `self.<member>` say something about which state a method belongs with? Not
    for Python's own attributes (`__class__`, `__dict__`) or class constants (`MAX_SIZE`)."""
    return not _is_dunder(member) and not member.isupper()


def _members_used(method: cst.FunctionDef, receiver: str) -> set[str]:
    """Every `self.<name>` the method reads, writes or calls, nested functions included (but
    Python's own attributes and class constants)."""
    return {
        node.attr.value
        for node in descendants(method.body, _ATTRIBUTES, _NOTHING)
        if isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == receiver
        and _is_state(node.attr.value)
    }


def _is_abstract(method: cst.FunctionDef) -> bool:
    """`@abstractmethod`, or a body that only raises NotImplementedError (a docstring aside):
    the two ways Python code declares an interface for subclasses to fill in."""
    if any(name.rpartition(".")[2] in _ABSTRACT for name in _decorator_names(method)):
        return True
    statements: list[cst.BaseSmallStatement] = []
    body = method.body
    if isinstance(body, cst.SimpleStatementSuite):
        statements = list(body.body)
    elif len(body.body) <= 2:  # a docstring and a `raise` at most
        for line in body.body:
            if isinstance(line, cst.SimpleStatementLine):
                statements.extend(line.body)
    if statements and isinstance(statements[0], cst.Expr):
        statements = statements[1:]
    if len(statements) != 1 or not isinstance(statements[0], cst.Raise):
        return False
    raised = statements[0].exc
    if isinstance(raised, cst.Call):
        raised = raised.func
    return isinstance(raised, cst.Name) and raised.value == "NotImplementedError"


@dataclasses.dataclass(slots=True)
class _Group:
    methods: list[str]
    attributes: set[str]


def cohesive_groups(members: dict[str, set[str]]) -> list[_Group]:
    """LCOM4's connected components: methods (by name, in order) linked when they use a common
    attribute, or one uses the other. `members` maps each method to the members it uses."""
    parent = {method: method for method in members}

    def find(method: str) -> str:
        while parent[method] != method:
            parent[method] = parent[parent[method]]
            method = parent[method]
        return method

    owner: dict[str, str] = {}  # attribute -> a method using it
    for method, used in members.items():
        for member in used:
            other = member if member in parent else owner.setdefault(member, method)
            parent[find(method)] = find(other)
    groups: dict[str, _Group] = {}
    for method, used in members.items():
        group = groups.setdefault(find(method), _Group([], set()))
        group.methods.append(method)
        group.attributes.update(member for member in used if member not in parent)
    return list(groups.values())


def _shown(names: Sequence[str], limit: int) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _described(group: _Group) -> str:
    methods = _shown(group.methods, _SHOWN_METHODS)
    if not group.attributes:
        return f"{{{methods}}}"
    return f"{{{methods}}} using {_shown(sorted(group.attributes), _SHOWN_ATTRIBUTES)}"


class GodClass(Rule):
    CODE = "PA505"
    NAME = "god-class"
    SEVERITY = Severity.INFO
    OPTIONS = ClassOptions
    REQUIRES_ANY = (b"class",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        options = context.options(ClassOptions)
        self._min_methods = options.min_methods
        self._min_attributes = options.min_attributes
        self._test = bool(context.path) and path_matches(context.path, TEST_MODULES)
        self._classes: dict[str, cst.ClassDef] = {}  # this module's, by name, as walked
        self._exempt: dict[str, bool] = {}  # of those judged

    def visit_Module(self, node: cst.Module) -> bool:
        return not self._test

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes[node.name.value] = node

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        methods = [s for s in body if isinstance(s, cst.FunctionDef)]
        receivers = {
            method.name.value: receiver
            for method in methods
            if (receiver := _receiver(method)) is not None
        }
        # LCOM4 > 1 takes two methods in the graph: most classes are ruled out here, before
        # anything in their methods is read.
        if sum(not _is_dunder(name) for name in receivers) < 2:
            return
        attributes = _assigned_attributes(methods, receivers)
        if len(methods) < self._min_methods and len(attributes) < self._min_attributes:
            return
        if self._is_exempt(node):
            return
        members = {
            method.name.value: _members_used(method, receivers[method.name.value])
            for method in methods
            if method.name.value in receivers and not _is_dunder(method.name.value)
        }
        if node.bases and not _assigned_attributes(methods, receivers, anywhere=True):
            # No state of its own: what its methods use is its bases', and which of them belong
            # together is the bases' design (a compiler's `visit_*` methods, a backend's hooks).
            return
        groups = cohesive_groups({method: used for method, used in members.items() if used})
        if len(groups) < 2:
            return
        shown = "; ".join(_described(group) for group in groups[:_SHOWN_GROUPS])
        if len(groups) > _SHOWN_GROUPS:
            shown += f"; and {len(groups) - _SHOWN_GROUPS} more"
        self.report(
            node,
            f"Class `{node.name.value}` is large ({len(methods)} methods, {len(attributes)} "
            f"instance attributes) and not cohesive (LCOM4 = {len(groups)}): its methods fall "
            f"into groups that share no attribute and do not call each other: {shown}; split "
            "it into one class per group",
        )

    def _is_exempt(self, node: cst.ClassDef) -> bool:
        """A record, a declaration, an interface or a test case, or derived from one defined
        in this module."""
        name = node.name.value
        if name not in self._exempt:
            self._exempt[name] = False  # a class deriving from itself, in a cycle of names
            self._exempt[name] = self._judged_exempt(node)
        return self._exempt[name]

    def _judged_exempt(self, node: cst.ClassDef) -> bool:
        name = node.name.value
        if name.startswith("Test") or name.endswith(("Test", "Tests", "TestCase")):
            return True
        for decorator in _decorator_names(node):
            if decorator.partition(".")[0] in _RECORD_DECORATORS or decorator.endswith(
                ".dataclass"
            ):
                return True
        for argument in node.keywords:
            keyword = argument.keyword
            if (
                keyword is not None
                and keyword.value == "metaclass"
                and _last(argument.value) in (_EXEMPT_METACLASSES)
            ):
                return True
        for base in node.bases:
            if self._is_exempt_base(base.value):
                return True
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        return any(
            isinstance(statement, cst.FunctionDef) and _is_abstract(statement) for statement in body
        )

    def _is_exempt_base(self, base: cst.BaseExpression) -> bool:
        if isinstance(base, cst.Call):  # `namedtuple("P", "x y")`, `declarative_base()`
            return _last(base.func) in _RECORD_CALLS
        if isinstance(base, cst.Subscript):  # `Protocol[T]`, `Generic[T]`
            base = base.value
        last = _last(base)
        if last is None:
            return False
        if last in _EXEMPT_BASES or last.endswith("TestCase"):
            return True
        if isinstance(base, cst.Name) and base.value in self._classes:
            return self._is_exempt(self._classes[base.value])
        # `Base = declarative_base()` then `class User(Base)`.
        made_by = self.semantic.class_of(base)
        return made_by is not None and made_by.rpartition(".")[2] in _RECORD_CALLS
