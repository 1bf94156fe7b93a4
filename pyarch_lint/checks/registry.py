"""What a run knows of its rules, without importing them: `RuleInfo`s gathered in a `RuleSet`.

A rule is declared once, on its class (`CODE`, `NAME`, `SEVERITY`, `DEFAULT_ENABLED`, `OPTIONS`,
see `checks.base.Rule`). `BUILTIN_RULES` below is an index of those declarations, so that
configuration, reports and the catalogue know the built-in rules while a run whose files are all
cached never imports a rule module, nor LibCST with it; a test compares each entry with
`RuleInfo.of` its class, and fails on a rule class missing here. A plugin's rules are read from
their classes when the plugin is loaded (`plugins`).

Selection lives here too: which codes run, and which selectors name codes that exist.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pyarch_lint.checks.options import (
    AnnotationOptions,
    ArchitectureOptions,
    AsyncOptions,
    ClassOptions,
    ClientOptions,
    EnvironmentOptions,
    ModuleStateOptions,
    NoqaOptions,
    OperationsOptions,
    OutboundOptions,
    StructureOptions,
)
from pyarch_lint.findings import Severity

if TYPE_CHECKING:
    from pyarch_lint.checks.base import Rule
    from pyarch_lint.project import ProjectRule


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    # "package.module:Class", imported only when a file is analysed; None for the codes the
    # engine itself reports (a file that does not parse, decode or finish; a noqa comment that
    # suppresses nothing; PA607, which reads the file's tokens rather than its tree).
    rule_class: str | None
    # Off-by-default rules run only when selected by their code or prefix (or by "ALL").
    default_enabled: bool = True
    # A frozen dataclass, its table `[tool.pyarch-lint.<SECTION>]`.
    options_type: type[Any] | None = None
    # The distribution that provides the rule, "name version"; None for ours.
    plugin: str | None = None
    # A plugin rule's document (its DOC, else its docstring); ours are in `rules/`.
    doc: str | None = None
    # "package.module:NAME" of a `project.ProjectRule`, a rule over every file's facts run once
    # in the main process (`rule_class` is then None); imported only when it runs.
    project_rule: str | None = None

    @classmethod
    def of(cls, rule: type[Rule], plugin: str | None = None) -> RuleInfo:
        """The entry of a rule class, from its declaration."""
        return cls(
            rule.CODE,
            rule.NAME,
            rule.SEVERITY,
            f"{rule.__module__}:{rule.__qualname__}",
            rule.DEFAULT_ENABLED,
            rule.OPTIONS,
            plugin,
        )

    @classmethod
    def of_project(cls, rule: ProjectRule, location: str) -> RuleInfo:
        """The entry of the project rule found at `location` ("package.module:NAME")."""
        return cls(
            rule.code,
            rule.name,
            rule.severity,
            None,
            rule.default_enabled,
            rule.options,
            project_rule=location,
        )


def load_rule_class(info: RuleInfo) -> type[Rule]:
    """The rule class, checked against the walker's contract (`InvalidRuleError` if it asks
    for something the walker does not give)."""
    from pyarch_lint.checks.base import rule_hooks  # imports LibCST: only when analysing

    if info.rule_class is None:
        raise ValueError(f"{info.code} is reported by the engine, not by a rule class")
    module, _, name = info.rule_class.partition(":")
    rule: type[Rule] = getattr(importlib.import_module(module), name)
    rule_hooks(rule)
    return rule


def load_project_rule(info: RuleInfo) -> ProjectRule:
    """The project rule `info` points to, checked to be the one it declares."""
    from pyarch_lint.project import ProjectRule

    if info.project_rule is None:
        raise ValueError(f"{info.code} is not a project rule")
    module, _, name = info.project_rule.partition(":")
    rule = getattr(importlib.import_module(module), name)
    if not isinstance(rule, ProjectRule) or rule.code != info.code:
        raise TypeError(f"{info.project_rule} is not the project rule {info.code}")
    return rule


# Codes the engine itself reports: they are not rules, but they are selectable like rules.
# The first three say a file could not be analysed: always news, on whatever the selection
# unless ignored by code. An unused noqa is an ordinary finding, selected like any rule's.
_ALWAYS_NEWS = frozenset({"PA001", "PA002", "PA003"})
ENGINE_CODES: tuple[RuleInfo, ...] = (
    RuleInfo("PA001", "syntax-error", Severity.ERROR, None),
    RuleInfo("PA002", "unreadable-file", Severity.ERROR, None),
    RuleInfo("PA003", "analysis-failed", Severity.ERROR, None),
    RuleInfo("PA004", "unused-noqa", Severity.INFO, None, options_type=NoqaOptions),
)

_CHECKS = "pyarch_lint.checks."

BUILTIN_RULES: tuple[RuleInfo, ...] = (
    # PA1xx: structure
    RuleInfo(
        "PA101",
        "too-deep-nesting",
        Severity.WARNING,
        _CHECKS + "structure:TooDeepNesting",
        options_type=StructureOptions,
    ),
    RuleInfo(
        "PA102",
        "too-complex",
        Severity.WARNING,
        _CHECKS + "structure:TooComplex",
        options_type=StructureOptions,
    ),
    RuleInfo(
        "PA103",
        "too-many-parameters",
        Severity.WARNING,
        _CHECKS + "structure:TooManyParameters",
        options_type=StructureOptions,
    ),
    # PA2xx: type hints
    RuleInfo(
        "PA201",
        "missing-parameter-annotation",
        Severity.INFO,
        _CHECKS + "annotations:MissingParameterAnnotation",
        options_type=AnnotationOptions,
    ),
    RuleInfo(
        "PA202",
        "missing-return-annotation",
        Severity.INFO,
        _CHECKS + "annotations:MissingReturnAnnotation",
        options_type=AnnotationOptions,
    ),
    RuleInfo(
        "PA203",
        "any-annotation",
        Severity.INFO,
        _CHECKS + "annotations:AnyAnnotation",
        default_enabled=False,
        options_type=AnnotationOptions,
    ),
    RuleInfo(
        "PA204",
        "untyped-module",
        Severity.INFO,
        _CHECKS + "annotations:UntypedModule",
        options_type=AnnotationOptions,
    ),
    # PA3xx: error handling
    RuleInfo("PA301", "bare-except", Severity.WARNING, _CHECKS + "errors:BareExcept"),
    RuleInfo(
        "PA302",
        "swallowed-broad-exception",
        Severity.WARNING,
        _CHECKS + "errors:SwallowedBroadException",
    ),
    RuleInfo("PA303", "silenced-exception", Severity.INFO, _CHECKS + "errors:SilencedException"),
    # PA4xx: asyncio
    RuleInfo(
        "PA401",
        "blocking-call-in-async",
        Severity.ERROR,
        _CHECKS + "asyncio_rules:BlockingCallInAsync",
        options_type=AsyncOptions,
    ),
    RuleInfo(
        "PA402",
        "blocking-file-io-in-async",
        Severity.WARNING,
        _CHECKS + "asyncio_rules:BlockingFileIoInAsync",
        options_type=AsyncOptions,
    ),
    RuleInfo(
        "PA403",
        "dangling-task",
        Severity.WARNING,
        _CHECKS + "asyncio_rules:DanglingTask",
        options_type=AsyncOptions,
    ),
    RuleInfo(
        "PA404",
        "nested-event-loop",
        Severity.ERROR,
        _CHECKS + "asyncio_rules:NestedEventLoop",
        options_type=AsyncOptions,
    ),
    RuleInfo(
        "PA405",
        "sync-lock-in-async",
        Severity.WARNING,
        _CHECKS + "asyncio_rules:SyncLockInAsync",
        options_type=AsyncOptions,
    ),
    RuleInfo(
        "PA406",
        "swallowed-cancellation",
        Severity.WARNING,
        _CHECKS + "asyncio_rules:SwallowedCancellation",
        options_type=AsyncOptions,
    ),
    # PA5xx: architecture, over the import graph of every file's facts (`project`)
    RuleInfo(
        "PA501",
        "import-cycle",
        Severity.WARNING,
        None,
        options_type=ArchitectureOptions,
        project_rule="pyarch_lint.architecture:IMPORT_CYCLE",
    ),
    RuleInfo(
        "PA502",
        "layer-violation",
        Severity.WARNING,
        None,
        options_type=ArchitectureOptions,
        project_rule="pyarch_lint.architecture:LAYER_VIOLATION",
    ),
    # PA5xx: architecture, within one file
    RuleInfo(
        "PA503",
        "env-read-outside-config",
        Severity.WARNING,
        _CHECKS + "architecture_rules:EnvReadOutsideConfig",
        options_type=EnvironmentOptions,
    ),
    RuleInfo(
        "PA504",
        "client-constructed-per-call",
        Severity.WARNING,
        _CHECKS + "architecture_rules:ClientConstructedPerCall",
        options_type=ClientOptions,
    ),
    RuleInfo(
        "PA505",
        "god-class",
        Severity.INFO,
        _CHECKS + "cohesion:GodClass",
        options_type=ClassOptions,
    ),
    RuleInfo(
        "PA506",
        "mutable-module-state",
        Severity.INFO,
        _CHECKS + "architecture_rules:MutableModuleState",
        options_type=ModuleStateOptions,
    ),
    # PA6xx: operations
    RuleInfo(
        "PA601",
        "outbound-call-without-timeout",
        Severity.WARNING,
        _CHECKS + "outbound:OutboundCallWithoutTimeout",
        options_type=OutboundOptions,
    ),
    RuleInfo(
        "PA602",
        "sql-interpolated-into-execute",
        Severity.WARNING,
        _CHECKS + "ops_rules:SqlInterpolatedIntoExecute",
        options_type=OperationsOptions,
    ),
    RuleInfo(
        "PA603",
        "metric-constructed-in-function",
        Severity.ERROR,
        _CHECKS + "ops_rules:MetricConstructedInFunction",
    ),
    RuleInfo(
        "PA604",
        "task-enqueued-in-transaction",
        Severity.WARNING,
        _CHECKS + "ops_rules:TaskEnqueuedInTransaction",
    ),
    RuleInfo(
        "PA605",
        "db-session-without-scope",
        Severity.WARNING,
        _CHECKS + "ops_rules:DbSessionWithoutScope",
    ),
    RuleInfo(
        "PA606",
        "print-in-library-code",
        Severity.INFO,
        _CHECKS + "ops_rules:PrintInLibraryCode",
        default_enabled=False,
        options_type=OperationsOptions,
    ),
    # PA607: decided by the engine from the file's tokens (`analysis`): the walker gives rules
    # tree nodes, and a secret may sit in a comment, which the tree does not hold.
    RuleInfo("PA607", "hard-coded-secret", Severity.WARNING, None),
)


# The code of the secrets the engine reports (`pyarch_lint.secrets`).
HARD_CODED_SECRET = "PA607"

# Every code is letters then digits (`PA401`, `ACME101`); a selector is ALL, or a code or a
# prefix of one that keeps its letters whole (`PA`, `PA4`, `ACME1`; not `P` or `ACM`).
CODE = re.compile(r"[A-Z]+[0-9]+")
_SELECTOR = re.compile(r"[A-Z]+[0-9]*")


def letters(code: str) -> str:
    """`ACME` of `ACME101`, `PA` of `PA4`."""
    return code.rstrip("0123456789")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every code a run knows, by code: the engine's, the built-in rules', the plugins'.

    Built once per run (`plugins.load_rule_set`) and carried by the settings to the engine and
    the worker processes: nothing reads the rules from a module global."""

    by_code: Mapping[str, RuleInfo]
    # "name version" of each plugin distribution that provides rules: part of the cache key.
    plugins: tuple[str, ...] = ()

    def with_severities(self, severities: Mapping[str, Severity]) -> RuleSet:
        """These rules, those named in `severities` (codes this set knows) with that severity
        instead of their own: `[tool.pyarch-lint.severity]`."""
        if not severities:
            return self
        by_code = dict(self.by_code)
        for code, severity in severities.items():
            by_code[code] = replace(by_code[code], severity=severity)
        return RuleSet(by_code, self.plugins)

    def option_types(self) -> dict[str, type[Any]]:
        """Each rule-options section name and its dataclass."""
        return {
            info.options_type.SECTION: info.options_type
            for info in self.by_code.values()
            if info.options_type is not None
        }

    def enabled_codes(
        self,
        select: tuple[str, ...] | None,
        extend_select: tuple[str, ...],
        ignore: tuple[str, ...],
    ) -> frozenset[str]:
        """The codes that run (`select` None: those on by default): the most specific matching
        selector wins, ignore wins ties; PA001-PA003 are on unless ignored."""
        return frozenset(
            code
            for code, info in self.by_code.items()
            if is_selected(
                code,
                info.default_enabled,
                (select, extend_select, ignore),
                always=code in _ALWAYS_NEWS,
            )
        )

    def knows(self, selector: str) -> bool:
        """Is `selector` ALL, a known code, or a prefix of one that keeps its letters whole?"""
        if selector == "ALL":
            return True
        if not _SELECTOR.fullmatch(selector):
            return False
        wanted = letters(selector)
        return any(c.startswith(selector) and letters(c) == wanted for c in self.by_code)


def is_selected(
    code: str,
    default_enabled: bool,
    selectors: tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]],
    *,
    always: bool = False,
) -> bool:
    """Does `code` run under (select, extend-select, ignore)? `always`: unless ignored."""
    select, extend_select, ignore = selectors
    by_default = 0 if default_enabled else -1
    selected = by_default if select is None else _specificity(code, select)
    selected = max(selected, _specificity(code, extend_select))
    if always:
        selected = max(selected, 0)
    return selected >= 0 and selected > _specificity(code, ignore)


def _specificity(code: str, selectors: tuple[str, ...]) -> int:
    """Length of the longest selector matching `code`; -1 when none does. ALL matches weakest."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


BUILTIN = RuleSet({info.code: info for info in (*ENGINE_CODES, *BUILTIN_RULES)})
