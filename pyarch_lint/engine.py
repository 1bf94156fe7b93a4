"""files -> findings: each file's bytes looked up in the cache, the rest analysed, all named.

Files are analysed (`analysis`) in worker processes (`workers`), even with one job, so that a
file which crashes the native parser or runs past `file-timeout` costs only its own findings.
`analysis`, and LibCST with it, is imported only when some file is not in the cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from pyarch_lint.cache import Analysis, Cache, digest
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import Settings
from pyarch_lint.excerpt import NO_EXCERPT, Excerpt, excerpt_of, lenient_text, merged
from pyarch_lint.facts import FileFacts
from pyarch_lint.files import path_matches, read_regular, relative_to_root, split_lines
from pyarch_lint.findings import Applicability, Finding, RawFinding

if TYPE_CHECKING:
    from pyarch_lint.checks.registry import RuleInfo
    from pyarch_lint.workers import Failure


@dataclass(frozen=True, slots=True)
class SourceFile:
    display: str  # as the user would type it
    path: Path


@dataclass(frozen=True, slots=True)
class RunResult:
    findings: list[Finding]
    crashes: list[str]
    warnings: list[str]
    files: int
    excerpts: dict[str, Excerpt]  # by display path: what the reports show of each file
    facts: dict[str, FileFacts]  # by display path, the context's too, when `Extras.facts` asks


def by_place(finding: Finding) -> tuple[str, int, int, str, str]:
    """The order findings are reported in."""
    return (finding.path, finding.line, finding.column, finding.code, finding.message)


@dataclass(frozen=True, slots=True)
class Extras:
    """What a run does besides finding what the file rules find."""

    # Whether a report will show source lines (text, GitLab, baseline): if not, files read
    # from the cache come without their excerpt, which is then not even parsed.
    excerpts: bool = True
    # Whether the result carries every file's facts (the critique's view of the project).
    facts: bool = False


_NO_FIXES: Mapping[int, Applicability] = MappingProxyType({})


def settings_fingerprint(settings: Settings) -> str:
    """What besides a file's bytes decides its findings (per-file-ignores are applied later):
    the rules that analyse files, their options, and the version of each plugin that provides
    rules. Project rules run after analysis over the facts every entry keeps, so neither their
    codes nor options only they read are part of it: selecting PA5 or editing a contract
    analyses no file again."""
    by_code = settings.rules.by_code
    codes = sorted(code for code in settings.enabled_codes() if by_code[code].project_rule is None)
    analysing = {info.options_type for info in by_code.values() if info.project_rule is None}
    options = sorted(
        repr(value) for kind, value in settings.rule_options.items() if kind in analysing
    )
    return digest(",".join(codes), *options, *settings.rules.plugins)


def to_findings(
    display: str,
    raw: Iterable[RawFinding],
    enabled: frozenset[str],
    rules: RuleSet,
    fixes: Mapping[int, Applicability] = _NO_FIXES,
) -> list[Finding]:
    """The findings of one file's analysis, named; `fixes`: which of `raw` (by index) have a
    fix, and how it applies."""
    result = []
    for index, (line, column, end_line, end_column, code, message) in enumerate(raw):
        if code not in enabled:
            continue
        info = rules.by_code[code]
        result.append(
            Finding(
                display,
                line,
                column,
                end_line,
                end_column,
                code,
                info.name,
                info.severity,
                message,
                fix=fixes.get(index) if fixes else None,
            )
        )
    return result


def check_source(source: bytes, path: str, settings: Settings) -> list[Finding]:
    """All findings of one file's bytes under `settings`: the whole pipeline, minus I/O."""
    from pyarch_lint.analysis import analyse_source, visitors

    analysis = analyse_source(source, visitors(settings), settings, path)
    enabled = settings.enabled_codes()
    findings = to_findings(path, analysis.findings, enabled, settings.rules, analysis.fixes)
    return per_file_ignores(findings, settings, path)


# -- running over many files -----------------------------------------------------------------


def _failed(failure: Failure, path: Path) -> Analysis:
    try:
        source = read_regular(path)
    except OSError:
        source = None
    return failed_analysis(failure, source)


def failure_message(failure: Failure) -> str:
    """What PA003 says of a file whose worker timed out or died."""
    if failure.timed_out:
        return f"analysis exceeded file-timeout ({failure.reason}) and was stopped"
    return f"analysis failed: the process analysing this file died ({failure.reason})"


def failed_analysis(failure: Failure, source: bytes | None) -> Analysis:
    """PA003 for a file whose worker died or ran out of time, with what the reports show of
    its `source` (None: unreadable)."""
    found: list[RawFinding] = [(1, 1, 1, 1, "PA003", failure_message(failure))]
    # What the reports show of it, taken here since its worker could not; not parsed again, in
    # this process, for its scopes: that is what stopped its worker.
    shown = NO_EXCERPT
    if source is not None:
        shown = excerpt_of(split_lines(lenient_text(source)), None, found)
    return Analysis("", found, excerpt=shown)


def source_analyser(settings: Settings) -> Callable[[tuple[bytes, str]], Analysis]:
    """What a worker process runs for a file's bytes (standard input) and the path, relative
    to the project root, it is linted as: `analyse_source`."""
    from pyarch_lint.analysis import analyse_source, visitors

    rules = visitors(settings)
    return lambda item: analyse_source(item[0], rules, settings, item[1])


def run(
    files: Sequence[SourceFile],
    settings: Settings,
    jobs: int,
    cache: Cache | None,
    progress: Callable[[int, int], None] | None = None,
    *,
    extras: Extras = Extras(),
    context: Sequence[SourceFile] = (),
) -> RunResult:
    """Findings for every file, sorted; identical whatever the job count. `progress(done,
    total)` is called in this process as files complete (cache hits count as done at once).
    `context`: other files of the project, analysed for what project rules and the critique's
    view of the project (`extras.facts`) see of them, and reported in none of them (nor counted
    in `files`)."""
    analyses: dict[SourceFile, Analysis] = {}
    pending: list[SourceFile] = []
    relative = relative_to_root(settings.root)
    # What an analysis can store: every enabled code but PA003 (a crash or a timeout is never
    # stored).
    storable = settings.enabled_codes() - {"PA003"}
    selected = settings.enabled_project_rules()
    everything = [*files, *context] if selected or extras.facts else files
    for file in everything:
        if cache is not None:
            try:
                source = read_regular(file.path)
            except OSError:
                pending.append(file)
                continue
            content = digest(source)
            hit = cache.get(
                relative(file.path),
                content,
                source,
                storable,
                with_excerpt=extras.excerpts,
                with_facts=bool(selected) or extras.facts,
            )
            if hit is not None:
                analyses[file] = hit
                continue
        pending.append(file)
    report = progress or (lambda _done, _total: None)
    report(len(analyses), len(everything))
    cached = len(analyses)
    fresh = _analyse_all(
        pending, settings, jobs, lambda done: report(cached + done, len(everything))
    )
    if cache is not None:
        for file, analysis in fresh.items():
            if _cacheable(analysis):
                cache.put(relative(file.path), analysis)
        cache.save()
    analyses.update(fresh)
    project, crashes, warnings = _project_phase(
        selected, everything, analyses, settings, relative, report_in=frozenset(files)
    )
    enabled = settings.enabled_codes()
    findings: list[Finding] = []
    excerpts: dict[str, Excerpt] = {}
    for file in files:
        analysis = analyses[file]
        more, shown = project.get(file, _NOTHING)
        found = to_findings(
            file.display, analysis.findings, enabled, settings.rules, analysis.fixes
        )
        found += more
        findings.extend(per_file_ignores(found, settings, relative(file.path)))
        crashes.extend(f"{file.display}: {crash}" for crash in analysis.crashes)
        excerpts[file.display] = merged(analysis.excerpt, shown)
    findings.sort(key=by_place)
    warnings[:0] = cache.warnings if cache else []
    known = {file.display: analyses[file].facts for file in everything} if extras.facts else {}
    return RunResult(findings, crashes, warnings, len(files), excerpts, known)


_NOTHING: tuple[list[Finding], Excerpt] = ([], NO_EXCERPT)  # no project finding in a file


def _project_phase(
    rules: Sequence[RuleInfo],
    project: Sequence[SourceFile],
    analyses: Mapping[SourceFile, Analysis],
    settings: Settings,
    relative: Callable[[Path], str],
    *,
    report_in: Collection[SourceFile],
) -> tuple[dict[SourceFile, tuple[list[Finding], Excerpt]], list[str], list[str]]:
    """The project rules' findings over the facts of every file of `project`, in each file of
    `report_in`, what their reports show of it, and the rules' crashes and warnings. A file
    they report in is read again (only such a file), for the reported lines' `# noqa` and code
    frames: its facts alone do not hold its lines."""
    if not rules:
        return {}, [], []
    from pyarch_lint.checks.registry import load_project_rule
    from pyarch_lint.project import placed, run_project_rules

    by_path = {relative(file.path): file for file in project}
    facts = {path: analyses[file].facts for path, file in by_path.items()}
    result = run_project_rules([load_project_rule(info) for info in rules], facts, settings)
    codes = frozenset(info.code for info in rules)
    reported: dict[SourceFile, tuple[list[Finding], Excerpt]] = {}
    for path, found in result.found.items():
        file = by_path[path]
        if file not in report_in:
            continue
        try:
            kept, shown = placed(read_regular(file.path), found)
        except OSError:  # gone since it was analysed: reported without a frame
            kept, shown = found, NO_EXCERPT
        reported[file] = to_findings(file.display, kept, codes, settings.rules), shown
    return reported, result.crashes, result.warnings


def per_file_ignores(findings: list[Finding], settings: Settings, relative: str) -> list[Finding]:
    if not settings.per_file_ignores or not findings:
        return findings
    ignored = [
        code
        for glob, codes in settings.per_file_ignores.items()
        if path_matches(relative, (glob,))
        for code in codes
    ]
    return [f for f in findings if not any(f.code.startswith(c) for c in ignored)]


def _cacheable(analysis: Analysis) -> bool:
    """A crash, a timeout or running out of memory says something about this run, not about
    the file's bytes: the next run tries again."""
    return (
        bool(analysis.key)
        and not analysis.crashes
        and not any(finding[4] == "PA003" for finding in analysis.findings)
    )


def _analyser(settings: Settings) -> Callable[[Path], Analysis]:
    """What a worker process runs for each file. Each worker imports LibCST itself: were it
    imported here before the fork, every worker would copy the pages of LibCST's objects as it
    touched them, which costs more than the import (measured: a one-file run, 0.08 s)."""
    from pyarch_lint.analysis import analyser

    return analyser(settings)


def _analyse_all(
    pending: list[SourceFile], settings: Settings, jobs: int, done: Callable[[int], None]
) -> dict[SourceFile, Analysis]:
    """Each file in a worker process, with one job too: a file that kills its process or runs
    past `file-timeout` becomes PA003 and no other file is lost (measured: a worker costs a few
    milliseconds to fork, one message each way per file)."""
    if not pending:
        return {}
    from pyarch_lint.workers import Failure, map_isolated  # multiprocessing: only to analyse

    try:
        outcomes = map_isolated(
            _analyser,
            settings,
            [file.path for file in pending],
            jobs=max(1, jobs),
            timeout=settings.file_timeout,
            done=done,
        )
    except OSError:  # no process can be started here (a process limit, a sandbox): unguarded
        analyse = _analyser(settings)
        return {file: analyse(file.path) for file in pending}
    return {
        file: _failed(outcome, file.path) if isinstance(outcome, Failure) else outcome
        for file, outcome in zip(pending, outcomes, strict=True)
    }


def default_jobs() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
