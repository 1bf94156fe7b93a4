"""The one place where rules are registered. Adding a rule: write its visitor module and its
document in `rules/`, then add its entry here.

An entry is what configuration, reports and the catalogue know of a rule; its visitor (a LibCST
class) is named, not imported, so that a run whose files are all cached never imports LibCST.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyarch_lint.checks.options import AnnotationOptions, AsyncOptions, StructureOptions
from pyarch_lint.findings import Severity

if TYPE_CHECKING:
    from pyarch_lint.checks.base import Rule


@dataclass(frozen=True, slots=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    visitor: str  # "package.module:Class", imported only when a file is analysed
    # Off-by-default rules run only when selected by their code or prefix (or by "ALL").
    default_enabled: bool = True
    # A dataclass of `checks.options`, its table `[tool.pyarch-lint.<SECTION>]`.
    options_type: type[Any] | None = None


def load_visitor(info: RuleInfo) -> type[Rule]:
    module, _, name = info.visitor.partition(":")
    visitor: type[Rule] = getattr(importlib.import_module(module), name)
    return visitor


# Codes the engine itself reports: they are not visitors, but they are selectable like rules.
ENGINE_CODES: dict[str, tuple[str, Severity]] = {
    "PA001": ("syntax-error", Severity.ERROR),
    "PA002": ("unreadable-file", Severity.ERROR),
    "PA003": ("analysis-failed", Severity.ERROR),
}

_CHECKS = "pyarch_lint.checks."

RULES: tuple[RuleInfo, ...] = (
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
)
