"""files -> findings: read once, parse once, one pruned walk for all rules, cached by content.

It never dies on one file: a file that does not decode or parse becomes a finding (PA002,
PA001), anything else that goes wrong while analysing it becomes PA003, and a rule that raises is
reported by name while every other rule's findings still come out.
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
import pathspec

from pyarch_lint.cache import Cache, RawFinding, digest
from pyarch_lint.checks.base import Rule
from pyarch_lint.checks.registry import ENGINE_CODES, RULES
from pyarch_lint.config import Settings, enabled_rules
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.locate import Locator, Span, split_lines
from pyarch_lint.suppress import file_suppressions, is_suppressed
from pyarch_lint.walk import Walker

_CODE_INFO: dict[str, tuple[str, Severity]] = dict(ENGINE_CODES)
_CODE_INFO.update({rule.code: (rule.name, rule.severity) for rule in RULES})


@dataclass(frozen=True, slots=True)
class SourceFile:
    display: str  # as the user would type it
    path: Path


@dataclass(frozen=True, slots=True)
class Analysis:
    """What analysing one file's bytes gives: cacheable findings, and rule crashes (not cached)."""

    key: str
    findings: list[RawFinding]
    crashes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunResult:
    findings: list[Finding]
    crashes: list[str]
    warnings: list[str]
    files: int


class _Unanalysable(Exception):
    """The file cannot be analysed; carries the engine finding that says why."""

    def __init__(self, finding: RawFinding) -> None:
        super().__init__(finding[5])
        self.finding = finding


def settings_fingerprint(settings: Settings) -> str:
    """What besides a file's bytes decides its findings (per-file-ignores are applied later)."""
    options = sorted(repr(value) for value in settings.rule_options.values())
    return digest(",".join(sorted(settings.enabled_codes())), *options)


def _decode(source: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        if "invalid or missing" not in str(error):
            raise _Unanalysable((1, 1, 1, 1, "PA002", f"cannot decode: {error}")) from None
        # Non-UTF-8 bytes in the first two lines fail the cookie search itself; decoding as
        # UTF-8, the default, points at the bad byte instead of a "missing declaration".
        encoding = "utf-8"
    try:
        text = source.decode(encoding)
    except UnicodeDecodeError as error:
        line = source.count(b"\n", 0, error.start) + 1
        column = error.start - (source.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"cannot decode as {encoding}: byte {source[error.start]:#04x} is invalid"
        raise _Unanalysable((line, column, line, column + 1, "PA002", message)) from None
    except LookupError:
        message = f"cannot decode: unknown encoding {encoding!r} in the coding declaration"
        raise _Unanalysable((1, 1, 1, 1, "PA002", message)) from None
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        message = "contains a NUL byte: not a Python source file"
        raise _Unanalysable((line, 1, line, 1, "PA002", message))
    return text


def _parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        line, column = max(error.editor_line, 1), max(error.editor_column, 1)
        message = f"syntax error: {error.message}"
        # CPython's own parser words it better ("'(' was never closed") where it agrees.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
        except SyntaxError as better:
            if better.lineno is not None:
                line, column = better.lineno, max(better.offset or 1, 1)
                message = f"syntax error: {better.msg}"
        except (ValueError, RecursionError, MemoryError):
            pass
        raise _Unanalysable((line, column, line, column + 1, "PA001", message)) from None


def analyse_source(source: bytes, rule_types: Sequence[type[Rule]], settings: Settings) -> Analysis:
    """Findings of one file's bytes, suppressions applied, per-file-ignores not yet."""
    key = digest(source)
    try:
        return _analyse(source, key, rule_types, settings)
    except _Unanalysable as problem:
        return Analysis(key, [problem.finding])
    except (RecursionError, MemoryError) as error:
        message = (
            f"analysis failed: {type(error).__name__} (the file nests too deeply or is too big)"
        )
        return Analysis(key, [(1, 1, 1, 1, "PA003", message)])
    except Exception as error:  # reported as a finding, never lost
        message = f"analysis failed: {type(error).__name__}: {error}"
        return Analysis(key, [(1, 1, 1, 1, "PA003", message)])


def _analyse(
    source: bytes, key: str, rule_types: Sequence[type[Rule]], settings: Settings
) -> Analysis:
    text = _decode(source)
    module = _parse(text)
    applicable = [
        rule
        for rule in rule_types
        if rule.REQUIRES_ANY is None or any(t in source for t in rule.REQUIRES_ANY)
    ]
    if not applicable:
        return Analysis(key, [])
    walker = Walker(applicable, dict(settings.rule_options), b"async" in source)
    walker.walk(module)
    crashes = [
        f"rule {crash.code} ({crash.rule}) crashed: {type(crash.error).__name__}: {crash.error}"
        for crash in walker.crashes
    ]
    if not walker.reports:
        return Analysis(key, [], crashes)
    lines = split_lines(text)
    locator = Locator(text, lines, module, walker.statements, walker.handlers)
    file_codes = file_suppressions(text)
    findings: list[RawFinding] = []
    for report in walker.reports:
        span: Span = locator.span(report)
        line_text = lines[span.line - 1] if span.line <= len(lines) else ""
        if is_suppressed(report.code, line_text, file_codes):
            continue
        findings.append(
            (span.line, span.column, span.end_line, span.end_column, report.code, report.message)
        )
    return Analysis(key, sorted(set(findings)), crashes)


def to_findings(display: str, raw: Iterable[RawFinding], enabled: frozenset[str]) -> list[Finding]:
    result = []
    for line, column, end_line, end_column, code, message in raw:
        if code not in enabled:
            continue
        name, severity = _CODE_INFO[code]
        result.append(
            Finding(display, line, column, end_line, end_column, code, name, severity, message)
        )
    return result


def check_source(source: bytes, path: str, settings: Settings) -> list[Finding]:
    """All findings of one file's bytes under `settings`: the whole pipeline, minus I/O."""
    analysis = analyse_source(source, enabled_rules(settings), settings)
    findings = to_findings(path, analysis.findings, settings.enabled_codes())
    return _per_file_ignores(findings, settings, path)


# -- running over many files -----------------------------------------------------------------

_worker_state: tuple[Settings, list[type[Rule]]] | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_state  # noqa: PLW0603 - the pool's way to hand each worker its settings once
    _worker_state = (settings, enabled_rules(settings))


def _analyse_path(path: Path, settings: Settings, rules: Sequence[type[Rule]]) -> Analysis:
    try:
        source = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return Analysis("", [(1, 1, 1, 1, "PA002", f"cannot read: {reason}")])
    return analyse_source(source, rules, settings)


def _work(path: Path) -> Analysis:
    assert _worker_state is not None
    settings, rules = _worker_state
    return _analyse_path(path, settings, rules)


def _relative(path: Path, root: Path) -> str:
    """The path per-file-ignores match: relative to the project root, wherever the run started
    (the display path is relative to the working directory instead)."""
    absolute = Path(os.path.abspath(path))  # lexical: `src/../x.py` is `x.py`
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def run(
    files: Sequence[SourceFile],
    settings: Settings,
    jobs: int,
    cache: Cache | None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Findings for every file, sorted; identical whatever the job count. `progress(done,
    total)` is called in this process as files complete (cache hits count as done at once)."""
    analyses: dict[SourceFile, Analysis] = {}
    pending: list[SourceFile] = []
    for file in files:
        if cache is not None:
            try:
                content = digest(file.path.read_bytes())
            except OSError:
                pending.append(file)
                continue
            hit = cache.get(cache.key(content))
            if hit is not None:
                analyses[file] = Analysis(content, hit)
                continue
        pending.append(file)
    report = progress or (lambda _done, _total: None)
    report(len(analyses), len(files))
    cached = len(analyses)
    analyses.update(
        _analyse_all(pending, settings, jobs, lambda done: report(cached + done, len(files)))
    )
    enabled = settings.enabled_codes()
    findings: list[Finding] = []
    crashes: list[str] = []
    for file in files:
        analysis = analyses[file]
        if cache is not None and file in pending and analysis.key and not analysis.crashes:
            cache.put(cache.key(analysis.key), analysis.findings)
        found = to_findings(file.display, analysis.findings, enabled)
        findings.extend(_per_file_ignores(found, settings, _relative(file.path, settings.root)))
        crashes.extend(f"{file.display}: {crash}" for crash in analysis.crashes)
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.code, f.message))
    return RunResult(findings, crashes, list(cache.warnings) if cache else [], len(files))


def _per_file_ignores(findings: list[Finding], settings: Settings, relative: str) -> list[Finding]:
    if not settings.per_file_ignores or not findings:
        return findings
    ignored = [
        code
        for glob, codes in settings.per_file_ignores.items()
        if pathspec.PathSpec.from_lines("gitignore", [glob]).match_file(relative)
        for code in codes
    ]
    return [f for f in findings if not any(f.code.startswith(c) for c in ignored)]


def _analyse_all(
    pending: list[SourceFile], settings: Settings, jobs: int, done: Callable[[int], None]
) -> dict[SourceFile, Analysis]:
    results: dict[SourceFile, Analysis] = {}
    if jobs <= 1 or len(pending) <= 1:
        rules = enabled_rules(settings)
        for file in pending:
            results[file] = _analyse_path(file.path, settings, rules)
            done(len(results))
        return results
    chunk = max(1, min(32, len(pending) // (jobs * 8)))
    try:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(settings,)) as pool:
            paths = [file.path for file in pending]
            for file, analysis in zip(
                pending, pool.map(_work, paths, chunksize=chunk), strict=True
            ):
                results[file] = analysis
                done(len(results))
    except BrokenProcessPool:
        # A worker died (the native parser can overflow its stack on pathological input).
        # Retry what is left one file per process, so only the culprit is lost.
        for file in pending:
            if file not in results:
                results[file] = _isolated(file, settings)
                done(len(results))
    return results


def _isolated(file: SourceFile, settings: Settings) -> Analysis:
    try:
        with ProcessPoolExecutor(1, initializer=_init_worker, initargs=(settings,)) as pool:
            return pool.submit(_work, file.path).result()
    except BrokenProcessPool:
        message = "analysis failed: the analyser process crashed on this file"
        return Analysis("", [(1, 1, 1, 1, "PA003", message)])


def default_jobs() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
