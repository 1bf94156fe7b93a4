"""What a rule is: a small LibCST visitor that declares its code, name, severity and options.

The engine walks each module once for all enabled rules. It dispatches `visit_<Node>` and
`leave_<Node>` only for statement-level nodes (statements, blocks, except handlers, match cases),
and does not descend into expressions: that is where most of a full walk's time goes, and no rule
needs it outside async bodies. A rule that sets `EXPRESSIONS_IN_ASYNC` also gets every node inside
`async def` bodies. A rule that needs to look deeper at a node it was given (an except handler's
body, a function's parameters) reads the node's children directly.

A rule reports a node; the engine turns it into a positioned, suppressible `Finding`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import libcst as cst

from pyarch_lint.findings import Severity

OptionsT = TypeVar("OptionsT")

# The node kinds the engine walks, numbers and places: statements and except handlers.
Statement = cst.BaseSmallStatement | cst.BaseCompoundStatement
Handler = cst.ExceptHandler | cst.ExceptStarHandler


@dataclass(frozen=True, slots=True)
class Report:
    """What a rule saw, before the engine places it in the file."""

    code: str
    node: cst.CSTNode
    message: str
    anchor: int  # pre-order index of the innermost statement being visited, -1 at module level
    handler: int  # pre-order index of the innermost except handler being visited, or -1


class RuleContext:
    """What a rule gets from the engine for one file: its code, its options, a way to report."""

    def __init__(
        self,
        code: str,
        options: dict[type[Any], Any],
        sink: Callable[[str, cst.CSTNode, str], None],
    ) -> None:
        self.code = code
        self._options = options
        self._sink = sink

    def options(self, kind: type[OptionsT]) -> OptionsT:
        """The configured options of type `kind` (a frozen dataclass declared by a rule)."""
        value: OptionsT = self._options[kind]
        return value

    def report(self, node: cst.CSTNode, message: str) -> None:
        self._sink(self.code, node, message)


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule: subclasses declare what the rule is, define visit methods,
    and may set the two knobs below."""

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

    # Ask the engine for every node inside `async def` bodies, not just statements.
    EXPRESSIONS_IN_ASYNC: ClassVar[bool] = False
    # A file can only trip this rule if its bytes contain one of these (None: any file can).
    # Lets the engine skip work that cannot produce a finding; keep it a true necessary condition.
    REQUIRES_ANY: ClassVar[tuple[bytes, ...] | None] = None

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context

    def report(self, node: cst.CSTNode, message: str) -> None:
        """Report `node`; the engine computes its position and applies suppressions."""
        self.context.report(node, message)


def all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    """Every parameter in source order, `*args` and `**kwargs` included."""
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg
