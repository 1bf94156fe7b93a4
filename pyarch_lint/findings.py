"""The value types every stage shares: plain, frozen, picklable records."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class Severity(enum.IntEnum):
    """How serious a finding is; ordered so that thresholds compare naturally."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Return the severity named `text` (`info`, `warning` or `error`)."""
        try:
            return cls[text.upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {choices})") from None


class Applicability(enum.Enum):
    """Whether a finding's fix keeps what the code means (`--fix` applies it) or may change
    it (only with `--unsafe-fixes`), as ruff has it."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Finding(NamedTuple):
    """One problem at one place. Lines and columns are 1-based, as users see them.

    A named tuple rather than a frozen dataclass: as immutable, ordered and hashable, and five
    times cheaper to build, which counts when a cached run over a large tree rebuilds tens of
    thousands of them."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: Severity
    message: str
    source: str = "rule"
    fix: Applicability | None = None  # None: no automatic fix


@dataclass(frozen=True, slots=True)
class CritiqueItem:
    """One point of the model's architectural critique, checked against the file."""

    line: int
    end_line: int
    severity: Severity
    principle: str
    problem: str
    suggestion: str
    example: str | None = None


@dataclass(frozen=True, slots=True)
class Critique:
    """The model's review of one file: an overview, the points tied to lines, and what a
    reviewer says of the file as a whole (each a short list, often empty)."""

    path: str
    model: str
    summary: str
    items: tuple[CritiqueItem, ...]
    cached: bool = False
    note: str | None = None
    dropped_items: int = 0
    trade_offs: tuple[str, ...] = ()  # what the suggested design costs, and what it buys
    testing: tuple[str, ...] = ()  # how to test the suggested design
    monitoring: tuple[str, ...] = ()  # what to log, measure or alert on in production


@dataclass(frozen=True, slots=True)
class NotReviewed:
    """A flagged file the model did not review, and why."""

    path: str
    reason: str


# (line, column, end_line, end_column, code, message): a finding as analysis places it, before
# the run names its file and rule (what the cache stores and workers send back).
RawFinding = tuple[int, int, int, int, str, str]
