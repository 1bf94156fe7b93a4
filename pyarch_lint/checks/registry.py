"""The one place where rules are registered. Adding a rule: write its module and its document
in `rules/`, then add its class here."""

from __future__ import annotations

from pyarch_lint.checks.annotations import (
    AnyAnnotation,
    MissingParameterAnnotation,
    MissingReturnAnnotation,
)
from pyarch_lint.checks.asyncio_rules import (
    BlockingCallInAsync,
    BlockingFileIoInAsync,
    DanglingTask,
    NestedEventLoop,
)
from pyarch_lint.checks.base import Rule
from pyarch_lint.checks.errors import BareExcept, SilencedException, SwallowedBroadException
from pyarch_lint.checks.structure import TooComplex, TooDeepNesting, TooManyParameters
from pyarch_lint.findings import Severity

# Codes the engine itself reports: they are not visitors, but they are selectable like rules.
ENGINE_CODES: dict[str, tuple[str, Severity]] = {
    "PA001": ("syntax-error", Severity.ERROR),
    "PA002": ("unreadable-file", Severity.ERROR),
    "PA003": ("analysis-failed", Severity.ERROR),
}

RULES: tuple[type[Rule], ...] = (
    TooDeepNesting,
    TooComplex,
    TooManyParameters,
    MissingParameterAnnotation,
    MissingReturnAnnotation,
    AnyAnnotation,
    BareExcept,
    SwallowedBroadException,
    SilencedException,
    BlockingCallInAsync,
    BlockingFileIoInAsync,
    DanglingTask,
    NestedEventLoop,
)
