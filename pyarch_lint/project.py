"""The project phase: rules that need more than one file, run in the main process over the facts
of every file (see `facts`) once each file is analysed or read from the cache. No file is parsed
here, so a warm run pays only for the rules themselves.

A project rule is a value: its code, name, default severity and options, and a function from
the facts of the project's files (by path relative to the project root, `/`-separated) and the
settings to findings in those files. It is registered like a rule class (`checks.registry`,
`RuleInfo.project_rule`), so selection, severities, options and documents work for it as for
any rule. The engine runs the rules the selection enables; their findings then go through what
every finding goes through: the reported line's `# noqa`, a file-level suppression,
per-file-ignores and the sort apply to them as to any other. (`# noqa` comments naming a
project rule are not judged unused by PA004: the analysis of one file cannot know.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pyarch_lint.config import Settings
from pyarch_lint.excerpt import Excerpt, excerpt_of_text, lenient_text
from pyarch_lint.facts import FileFacts
from pyarch_lint.files import split_lines
from pyarch_lint.findings import RawFinding, Severity
from pyarch_lint.suppress import NO_COMMENTS, file_suppressions, scan, suppressing_line


class ProjectFinding(NamedTuple):
    """A project rule's finding: in which file, where, and what (lines and columns 1-based)."""

    path: str  # a key of the facts the rule was given
    line: int
    column: int
    end_line: int
    end_column: int
    message: str


class ProjectWarning(NamedTuple):
    """What a project rule says of its configuration rather than of a file (a contract that
    matches no module): a warning of the run, as for an unreadable cache; findings stay whole."""

    message: str


Check = Callable[[Mapping[str, FileFacts], Settings], Iterable[ProjectFinding | ProjectWarning]]


@dataclass(frozen=True, slots=True)
class ProjectRule:
    code: str
    name: str  # kebab-case, shown beside the code
    severity: Severity
    check: Check
    default_enabled: bool = True
    # A frozen dataclass, its table `[tool.pyarch-lint.<SECTION>]`; the check finds the
    # configured values in `settings.rule_options`.
    options: type[Any] | None = None


@dataclass(frozen=True, slots=True)
class ProjectResult:
    found: dict[str, list[RawFinding]]  # by path, in the rules' order
    crashes: list[str]
    warnings: list[str]


def run_project_rules(
    rules: Sequence[ProjectRule], facts: Mapping[str, FileFacts], settings: Settings
) -> ProjectResult:
    """The findings of `rules` (those the selection runs) over `facts`, in the files `facts`
    holds. A rule that raises is reported by name, and the other rules' findings still come
    out."""
    found: dict[str, list[RawFinding]] = {}
    crashes: list[str] = []
    warnings: list[str] = []
    for rule in rules:
        try:
            results = []
            for result in rule.check(facts, settings):
                if isinstance(result, ProjectWarning):
                    warnings.append(f"{rule.code} ({rule.name}): {result.message}")
                else:
                    results.append(result)
        except Exception as error:
            crashes.append(
                f"project rule {rule.code} ({rule.name}) crashed: {type(error).__name__}: {error}"
            )
            continue
        strays = sorted({result.path for result in results if result.path not in facts})
        if strays:
            crashes.append(
                f"project rule {rule.code} ({rule.name}) reported in {strays[0]!r}, "
                "which is not a file of the project; its findings are dropped"
            )
            continue
        for result in results:
            raw = (*result[1:5], rule.code, result.message)
            found.setdefault(result.path, []).append(raw)
    return ProjectResult(found, crashes, warnings)


def placed(source: bytes, found: Sequence[RawFinding]) -> tuple[list[RawFinding], Excerpt]:
    """Of project findings in a file of bytes `source`, those its `# noqa` comments leave (read
    as analysis reads them), and what their reports show of the file, as analysis keeps it."""
    text = lenient_text(source)
    lines = split_lines(text)
    file_codes = file_suppressions(text)
    # No `noqa` anywhere, nothing to read: the file is not tokenized (measured: the five files
    # PA501 reports in on django took 0.09 s, more than the rule itself).
    comments = scan(text) if "noqa" in text.lower() else NO_COMMENTS
    kept = [
        raw
        for raw in found
        if not any(raw[4].startswith(prefix) for prefix in file_codes)
        and not suppressing_line(raw[4], raw[0], lines, comments)
    ]
    return kept, excerpt_of_text(text, kept)
