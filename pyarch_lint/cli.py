"""The command line: options -> `api.LintOptions`, the run (`api`), then what it prints and the
exit code."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import os
import shutil
import sys
import textwrap
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import click

from pyarch_lint import __version__, api
from pyarch_lint.api import LintOptions, LlmOverrides
from pyarch_lint.catalogue import documents
from pyarch_lint.checks.options import option_help
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import ConfigError, Settings, load_settings, top_level_keys
from pyarch_lint.discovery import shown_as
from pyarch_lint.errors import LintError
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.init import InitError, init_pyproject, render_table
from pyarch_lint.plugins import PluginError, load_rule_set
from pyarch_lint.progress import ProgressLine, progress_line
from pyarch_lint.report import FORMATS, Outcome, counted, inert_lines, one_line, renderer
from pyarch_lint.report.text import fix_line, summary_line


class ExitStatus(enum.IntEnum):
    SUCCESS = 0  # no finding at or above fail-on after suppressions
    FINDINGS = 1
    ERROR = 2  # usage or configuration error, missing path, internal error


EXAMPLES = """\b
Examples:
  pyarch-lint src/                       lint a tree (escalates when ANTHROPIC_API_KEY is set)
  pyarch-lint --no-llm --format json .   deterministic rules only, JSON on stdout
  pyarch-lint --select PA4 app.py        only the async rules
  pyarch-lint --fail-on info src/        exit 1 on any finding, info included
  pyarch-lint --explain src/             prose advice for each finding
  pyarch-lint --fix src/                 apply the safe fixes (--unsafe-fixes: the others too)
  pyarch-lint --diff src/                show what --fix would change, write nothing
  pyarch-lint - --stdin-filename app/x.py < x.py   lint standard input as app/x.py
  pyarch-lint --changed-since main .     only findings on lines changed since git ref main
  pyarch-lint --write-baseline b.json .  record today's findings in b.json
  pyarch-lint --baseline b.json .        report only findings that b.json does not record
  pyarch-lint rule PA401                 print one rule's documentation
  pyarch-lint rules                      list every rule
  pyarch-lint init                       add [tool.pyarch-lint] to pyproject.toml
  pyarch-lint audit --submit .           send every flagged file as one Message Batch
  pyarch-lint audit --collect .          store the batch's critiques in the cache
  pyarch-lint server                     the language server, for editors (docs/editors.md)

\b
Exit status: 0 no finding at or above fail-on (default: warning), 1 some, 2 usage,
configuration or internal error, or a path that does not exist (the others are checked).
"""


def _codes(values: Sequence[str]) -> tuple[str, ...]:
    """`--select PA1,PA2 --select PA4` -> (PA1, PA2, PA4)."""
    return tuple(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def _fail(message: str) -> NoReturn:
    click.echo(f"pyarch-lint: error: {one_line(message)}", err=True)
    sys.exit(ExitStatus.ERROR)


# The group's own options: given first, they are the group's, not `check`'s.
_GROUP_OPTIONS = ("-h", "--help", "-V", "--version")


class _DefaultGroup(click.Group):
    """`pyarch-lint src/` runs `check`; `pyarch-lint rule PA401` runs a subcommand;
    `pyarch-lint --help` lists them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in _GROUP_OPTIONS):
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[COMMAND]", "[OPTIONS]", "[PATHS]..."]


@click.group(
    cls=_DefaultGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXAMPLES,
)
@click.version_option(__version__, "-V", "--version", prog_name="pyarch-lint")
def main() -> None:
    """pyarch-lint: LibCST rules first, then an architectural critique of the flagged files.

    Without a command it runs `check`: `pyarch-lint src/` is `pyarch-lint check src/`, and
    `pyarch-lint check --help` lists its options.
    """


@main.command(epilog=EXAMPLES, short_help="Lint PATHS and report findings (the default).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--select",
    multiple=True,
    help="Codes or prefixes to enable, replacing the config's (comma-separated).",
)
@click.option(
    "--extend-select", multiple=True, help="Codes or prefixes to enable on top of the selection."
)
@click.option("--ignore", multiple=True, help="Codes or prefixes to disable.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Use this config file instead of the nearest pyproject.toml.",
)
@click.option("--no-llm", is_flag=True, help="Deterministic rules only: never contact the model.")
@click.option("--explain", is_flag=True, help="Print prose advice for each finding and critique.")
@click.option(
    "--llm-dry-run",
    is_flag=True,
    help="Show which files would be sent to the model, and send nothing.",
)
@click.option(
    "--show-prompt",
    type=click.Path(path_type=Path),
    help="With --llm-dry-run: print the exact request for this file (redacted, as it would go) "
    "instead of the report.",
)
@click.option(
    "--llm-required",
    is_flag=True,
    help="Exit 2 when escalation cannot run or a flagged file is not reviewed.",
)
@click.option("--model", help="Model for the critique (overrides llm.model).")
@click.option("--language", help="Language of the model's prose, e.g. zh (overrides llm.language).")
@click.option(
    "--llm-deadline",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds the whole escalation may take (overrides llm.deadline).",
)
@click.option(
    "--llm-timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds one request may take (overrides llm.timeout).",
)
@click.option(
    "--llm-concurrency",
    type=click.IntRange(min=1),
    help="Requests in flight at once (overrides llm.concurrency).",
)
@click.option(
    "--llm-max-files",
    type=click.IntRange(min=1),
    help="Most files sent to the model in one run (overrides llm.max-files).",
)
@click.option(
    "--llm-max-output-tokens",
    type=click.IntRange(min=1),
    help="Output token limit per critique (overrides llm.max-output-tokens).",
)
@click.option(
    "--llm-max-run-tokens",
    type=click.IntRange(min=1),
    envvar="PYARCH_LINT_MAX_RUN_TOKENS",
    help="Most tokens (input and output, estimated) one run may spend on the model; with "
    "PYARCH_LINT_MAX_RUN_TOKENS, the only way above the default 250,000.",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path),
    help="Report only findings that are not recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path),
    help="Record today's findings in this file (see --baseline) and exit 0.",
)
@click.option(
    "--changed-since",
    metavar="REF",
    help="Only findings on lines changed since this git revision; only those files escalated.",
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add a `# noqa: CODE` comment for every finding to its file, and exit.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Apply the safe fixes to the files (to standard output with `-`), then report what "
    "remains.",
)
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Include fixes that may change what the code does (with --fix or --diff; marks them "
    "fixable otherwise).",
)
@click.option(
    "--diff",
    is_flag=True,
    help="Print what the fixes would change as a unified diff, write nothing; exit 1 if any.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path),
    help="With the path `-`: lint standard input as this file (its settings, per-file-ignores "
    "and excludes).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error"]),
    help="Least severe finding that makes the exit status 1 (overrides fail-on; default warning).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding.")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: CPU count)."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply excludes and .gitignore to files named explicitly (for pre-commit).",
)
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be checked and exit.")
@click.option(
    "-q", "--quiet", is_flag=True, help="Print findings only: no summary or status lines."
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Print notes and, on internal errors, tracebacks."
)
def check(
    *,
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    config_file: Path | None,
    no_llm: bool,
    explain: bool,
    llm_dry_run: bool,
    show_prompt: Path | None,
    llm_required: bool,
    model: str | None,
    language: str | None,
    llm_deadline: float | None,
    llm_timeout: float | None,
    llm_concurrency: int | None,
    llm_max_files: int | None,
    llm_max_output_tokens: int | None,
    llm_max_run_tokens: int | None,
    baseline_file: Path | None,
    write_baseline: Path | None,
    changed_since: str | None,
    add_noqa: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    stdin_filename: Path | None,
    fail_on: str | None,
    exit_zero: bool,
    statistics: bool,
    jobs: int | None,
    no_cache: bool,
    force_exclude: bool,
    show_settings: bool,
    show_files: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Lint PATHS (default: the current folder) and report findings."""
    options = LintOptions(
        paths=paths,
        config=config_file,
        select=_codes(select) or None,
        extend_select=_codes(extend_select),
        ignore=_codes(ignore),
        llm=LlmOverrides(
            model=model or None,
            language=language or None,
            deadline=llm_deadline,
            timeout=llm_timeout,
            concurrency=llm_concurrency,
            max_files=llm_max_files,
            max_output_tokens=llm_max_output_tokens,
            max_run_tokens=llm_max_run_tokens,
        ),
        fail_on=fail_on,
        changed_since=changed_since,
        baseline=baseline_file,
        jobs=jobs,
        cache=not no_cache,
        force_exclude=force_exclude,
        escalate=not no_llm,
        llm_dry_run=llm_dry_run,
        show_prompt=show_prompt,
        llm_required=llm_required,
        # Only these formats show source lines; others leave the cached ones unread.
        excerpts=output_format in ("text", "gitlab") and not (explain or statistics),
    )
    command = _Command(
        output_format,
        explain,
        statistics,
        exit_zero,
        quiet,
        verbose,
        show_settings,
        show_files,
        write_baseline,
        add_noqa,
        _Fixing(fix, unsafe_fixes, diff),
        stdin_filename,
    )
    try:
        status = _check(options, command)
    except click.exceptions.Exit:
        raise
    except KeyboardInterrupt:
        click.echo("pyarch-lint: interrupted", err=True)
        status = ExitStatus.ERROR
    except Exception as error:
        if verbose:
            traceback.print_exc()
        hint = "" if verbose else " (run with -v for the traceback)"
        click.echo(f"pyarch-lint: internal error: {type(error).__name__}: {error}{hint}", err=True)
        status = ExitStatus.ERROR
    sys.exit(status)


@dataclasses.dataclass(frozen=True, slots=True)
class _Fixing:
    """`--fix`, `--unsafe-fixes`, `--diff`."""

    fix: bool
    unsafe: bool
    diff: bool

    @property
    def any(self) -> bool:
        """Is a fix to be made (or shown)?"""
        return self.fix or self.diff


@dataclasses.dataclass(frozen=True, slots=True)
class _Command:
    """What `check` was asked besides the run's options: what to print, and the exit code."""

    output_format: str
    explain: bool
    statistics: bool
    exit_zero: bool
    quiet: bool
    verbose: bool
    show_settings: bool
    show_files: bool
    write_baseline: Path | None
    add_noqa: bool
    fixing: _Fixing
    stdin_filename: Path | None


def _note(text: str) -> None:
    click.echo(f"note: {one_line(text)}", err=True)


def _status(line: str) -> None:
    click.echo(one_line(line), err=True)


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[ProgressLine | None]:
    """The progress line of the analysis, erased before anything else is printed."""
    line = progress_line(sys.stderr, quiet)
    try:
        yield line
    finally:
        if line is not None:
            line.finish()


def _check_usage(command: _Command) -> None:
    if command.explain and command.output_format not in ("text", "concise"):
        _fail(
            f"--explain prints prose; it cannot be combined with --format {command.output_format}"
        )
    if command.add_noqa and command.write_baseline is not None:
        _fail("--add-noqa and --write-baseline are two ways to accept findings: choose one")
    if command.fixing.any and (command.add_noqa or command.write_baseline is not None):
        _fail(
            "--fix and --diff change findings, --add-noqa and --write-baseline accept them: "
            "choose one"
        )


def _stdin_path(options: LintOptions, command: _Command) -> Path | None:
    """The file standard input stands for, when the path is `-`."""
    reading = Path("-") in options.paths
    if not reading:
        if command.stdin_filename is not None:
            _fail("--stdin-filename names what standard input stands for: give the path `-`")
        return None
    if len(options.paths) > 1:
        _fail("`-` reads standard input: give no other path")
    if command.stdin_filename is None:
        _fail("`-` reads standard input: name the file it stands for with --stdin-filename")
    if command.add_noqa or command.write_baseline is not None:
        _fail("standard input has no file to add comments to or to record")
    return command.stdin_filename


def _check(options: LintOptions, command: _Command) -> ExitStatus:
    _check_usage(command)
    note = _note if command.verbose else None
    stdin = _stdin_path(options, command)
    try:
        if stdin is not None:
            return _check_stdin(options, command, stdin, note)
        if command.write_baseline is not None:
            return _write_baseline(options, command.write_baseline, command.quiet, note)
        plan = api.plan(options, note=note)
        _missing(plan.missing)
        if command.show_settings or command.show_files:
            return _show(plan, command.show_settings)
        with _progress(command.quiet) as progress:
            checked = api.check(plan, progress=progress, note=note)
        _complain(checked.warnings, checked.crashes)
        if command.fixing.any:
            fixed = _fix(checked, command, note)
            if isinstance(fixed, ExitStatus):
                return fixed
            checked = fixed
        if command.add_noqa:
            left = _add_noqa(checked.findings, checked.sources, command.quiet)
            if plan.missing:
                return ExitStatus.ERROR
            return ExitStatus.FINDINGS if left and not command.exit_zero else ExitStatus.SUCCESS
        result = api.review(
            checked,
            status=None if command.quiet else _status,
            each_file=sys.stderr.isatty() and not command.quiet,
        )
    except LintError as error:
        _fail(str(error))
    return _finish(result, command)


def _finish(result: api.LintResult, command: _Command) -> ExitStatus:
    """Print a run's outcome; its exit status."""
    if result.request is not None:  # --show-prompt: the request is the output
        click.echo(result.request)
        return ExitStatus.SUCCESS
    _report(dataclasses.replace(result.outcome, unsafe_fixes=command.fixing.unsafe), command)
    return _exit_status(result, command)


def _show(plan: api.Plan, settings: bool) -> ExitStatus:
    """`--show-settings` (`settings`) or `--show-files`."""
    if settings:
        click.echo("\n\n".join(_describe_settings(g.settings) for g in plan.groups))
    else:
        lines = "".join(f"{one_line(f.display)}\n" for f in plan.files)
        click.echo(inert_lines(lines), nl=False)
    return ExitStatus.ERROR if plan.missing else ExitStatus.SUCCESS


def _exit_status(result: api.LintResult, command: _Command) -> ExitStatus:
    if result.failed_required is not None:
        message = one_line(result.failed_required)
        click.echo(f"pyarch-lint: error: --llm-required: {message}", err=True)
        return ExitStatus.ERROR
    if result.crashes or result.missing:
        return ExitStatus.ERROR
    return ExitStatus.FINDINGS if result.failed and not command.exit_zero else ExitStatus.SUCCESS


def _fix(
    checked: api.Checked, command: _Command, note: Callable[[str], None] | None
) -> api.Checked | ExitStatus:
    """`--fix`: the files fixed, then checked again for what remains. `--diff`: the diff
    printed, and the exit status."""
    with _progress(command.quiet) as progress:
        fixed = api.fix(
            checked, unsafe=command.fixing.unsafe, write=not command.fixing.diff, progress=progress
        )
    for line in fixed.notes:
        click.echo(f"pyarch-lint: {one_line(line)}", err=True)
    if command.fixing.diff:
        return _print_diff(fixed, command, bool(checked.plan.missing or checked.crashes))
    if fixed.files:  # what remains, the fixed files analysed again
        with _progress(command.quiet) as progress:
            checked = api.check(checked.plan, progress=progress, note=note)
        _complain(checked.warnings, checked.crashes)
    if not command.quiet:
        click.echo(_fixed_line(fixed), err=True)
    return checked


def _fixed_line(fixed: api.Fixed) -> str:
    findings, files = counted(fixed.fixed, "finding"), counted(len(fixed.files), "file")
    return f"Fixed {findings} in {files}."


def _print_diff(fixed: api.Fixed, command: _Command, failed: bool) -> ExitStatus:
    """`--diff`: each changed file's diff; exit 1 when there is one."""
    from pyarch_lint.fixes import unified_diff

    for file in fixed.files:
        click.echo(unified_diff(file.display, file.before, file.after), nl=False)
    if not command.quiet:
        findings, files = counted(fixed.fixed, "finding"), counted(len(fixed.files), "file")
        click.echo(f"Would fix {findings} in {files}.", err=True)
    if failed:
        return ExitStatus.ERROR
    return ExitStatus.FINDINGS if fixed.files and not command.exit_zero else ExitStatus.SUCCESS


def _check_stdin(
    options: LintOptions, command: _Command, path: Path, note: Callable[[str], None] | None
) -> ExitStatus:
    """`pyarch-lint - --stdin-filename PATH`: standard input linted as PATH. With --fix the
    fixed source goes to standard output and the findings that remain to standard error; with
    --diff, the diff to standard output."""
    source = sys.stdin.buffer.read()
    checked = api.check_source(api.plan_source(path, options, note=note), source)
    _complain(checked.warnings, checked.crashes)
    findings = checked.findings
    if command.fixing.any:
        result = api.fix_checked_source(checked, source, unsafe=command.fixing.unsafe)
        for line in result.notes:
            click.echo(f"pyarch-lint: {one_line(line)}", err=True)
        if command.fixing.diff:
            display = shown_as(path, Path.cwd())
            fixed = api.Fixed(
                (api.FileFix(display, source, result.source, result.fixed),)
                if result.changed(source)
                else (),
                (),
            )
            return _print_diff(fixed, command, bool(checked.crashes))
        sys.stdout.buffer.write(result.source)
        sys.stdout.flush()
        findings = result.remaining
    outcome = Outcome(
        list(findings),
        [],
        [],
        checked.files,
        0,
        0,
        rules=checked.plan.settings.rules,
        excerpts={} if command.fixing.fix else checked.excerpts,
        unsafe_fixes=command.fixing.unsafe,
    )
    with contextlib.redirect_stdout(sys.stderr) if command.fixing.fix else contextlib.nullcontext():
        _report(outcome, command)
    if checked.crashes:
        return ExitStatus.ERROR
    fail_on = Severity.parse(checked.plan.settings.fail_on)
    failed = any(f.severity >= fail_on for f in findings)
    return ExitStatus.FINDINGS if failed and not command.exit_zero else ExitStatus.SUCCESS


def _missing(paths: Sequence[Path]) -> None:
    for path in paths:
        click.echo(
            f"pyarch-lint: error: {one_line(str(path))}: no such file or directory", err=True
        )


def _complain(warnings: Sequence[str], crashes: Sequence[str]) -> None:
    for warning in warnings:
        click.echo(f"pyarch-lint: warning: {one_line(warning)}", err=True)
    for crash in crashes:
        click.echo(f"pyarch-lint: error: {one_line(crash)}", err=True)


def _write_baseline(
    options: LintOptions, target: Path, quiet: bool, note: Callable[[str], None] | None
) -> ExitStatus:
    with _progress(quiet) as progress:
        checked = api.record_baseline(options, target, note=note, progress=progress)
    _complain(checked.warnings, checked.crashes)
    if not quiet:
        recorded = counted(len(checked.findings), "finding")
        click.echo(f"Recorded {recorded} in {target}.", err=True)
    return ExitStatus.SUCCESS


def _add_noqa(findings: Sequence[Finding], paths: Mapping[str, Path], quiet: bool) -> bool:
    """`--add-noqa`; whether some finding is left without its comment (each is named)."""
    from pyarch_lint.add_noqa import add_noqa

    added = add_noqa(findings, paths)
    for line in added.left:
        click.echo(f"pyarch-lint: {one_line(line)}", err=True)
    if not quiet:
        comments, files = counted(added.comments, "noqa comment"), counted(added.files, "file")
        click.echo(f"Added {comments} in {files}.", err=True)
    return bool(added.left)


def _report(outcome: Outcome, command: _Command) -> None:
    if command.explain:
        from pyarch_lint.report.explain import render_explain

        click.echo(inert_lines(render_explain(outcome)), nl=False)
    elif command.statistics:
        click.echo(_statistics(outcome), nl=False)
    else:
        click.echo(renderer(command.output_format)(outcome), nl=False)
    if command.output_format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        _write_step_summary(outcome, Path(os.environ["GITHUB_STEP_SUMMARY"]))
    if not command.quiet and command.output_format in ("text", "concise"):
        click.echo(summary_line(outcome), err=True)
        fixable = fix_line(outcome)
        if fixable is not None:
            click.echo(fixable, err=True)


def _write_step_summary(outcome: Outcome, target: Path) -> None:
    """The critiques, as Markdown, at the end of the job's summary page (GitHub Actions shows
    the file each step appends to)."""
    from pyarch_lint.report.github import blob_url, step_summary

    summary = step_summary(outcome, blob_url(os.environ))
    if not summary:
        return
    try:
        with target.open("a", encoding="utf-8", errors="backslashreplace") as file:
            file.write(summary)
    except OSError as error:
        message = one_line(f"{target}: {error.strerror or error}")
        click.echo(f"pyarch-lint: warning: step summary not written: {message}", err=True)


def _statistics(outcome: Outcome) -> str:
    counts = Counter((f.code, f.name) for f in outcome.findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>6}  {code}  {name}\n" for (code, name), count in rows)


def _describe_settings(settings: Settings) -> str:
    source = (
        str(settings.config_path) if settings.config_path else "defaults (no config file found)"
    )
    lines = [f"config: {source}", f"root: {settings.root}"]
    for key in top_level_keys().values():
        lines.append(f"{key.name}: {getattr(settings, key.attribute)!r}")
    if settings.rules.plugins:
        lines.append(f"plugins: {', '.join(settings.rules.plugins)}")
    lines.append(f"enabled: {', '.join(sorted(settings.enabled_codes()))}")
    for options in settings.rule_options.values():
        section = type(options).SECTION
        for field in dataclasses.fields(options):
            if option_help(field):
                lines.append(f"# {option_help(field)}")
            lines.append(
                f"{section}.{field.name.replace('_', '-')}: {getattr(options, field.name)!r}"
            )
    for field in dataclasses.fields(settings.llm):
        lines.append(f"llm.{field.name.replace('_', '-')}: {getattr(settings.llm, field.name)!r}")
    return "\n".join(lines)


def _rule_set() -> RuleSet:
    try:
        return load_rule_set()
    except PluginError as error:
        _fail(str(error))


@main.command("audit", short_help="Critique every flagged file through the Message Batches API.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--submit", "action", flag_value="submit", help="Send the flagged files as a batch.")
@click.option(
    "--collect",
    "action",
    flag_value="collect",
    help="Store the ended batches' critiques in the cache; send their failures again.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Use this config file instead of the nearest pyproject.toml.",
)
@click.option("--select", multiple=True, help="Codes or prefixes to enable, as for check.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to add, as for check.")
@click.option("--ignore", multiple=True, help="Codes or prefixes to disable, as for check.")
@click.option("--model", help="Model for the critique (overrides llm.model).")
@click.option("--language", help="Language of the model's prose (overrides llm.language).")
@click.option(
    "--llm-max-output-tokens",
    type=click.IntRange(min=1),
    help="Output token limit per critique (overrides llm.max-output-tokens).",
)
@click.option(
    "--llm-max-run-tokens",
    type=click.IntRange(min=1),
    envvar="PYARCH_LINT_MAX_RUN_TOKENS",
    help="Most tokens (input and output, estimated) one batch may spend; as for check.",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: CPU count)."
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Print notes and, on internal errors, tracebacks."
)
def audit(
    *,
    paths: tuple[Path, ...],
    action: str | None,
    config_file: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    model: str | None,
    language: str | None,
    llm_max_output_tokens: int | None,
    llm_max_run_tokens: int | None,
    jobs: int | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Critique every flagged file of PATHS through the Message Batches API, for nightly audits
    of a large repository: `--submit` sends the files that are neither cached nor waiting in a
    batch and exits; `--collect` (and every ordinary run) stores the ended batches' critiques in
    the critique cache, where ordinary runs find them, and `--collect` sends the failures again.
    Select rules as for the runs that should find these critiques cached."""
    if action is None:
        _fail("audit: say --submit or --collect")
    options = LintOptions(
        paths=paths,
        config=config_file,
        select=_codes(select) or None,
        extend_select=_codes(extend_select),
        ignore=_codes(ignore),
        llm=LlmOverrides(
            model=model or None,
            language=language or None,
            max_output_tokens=llm_max_output_tokens,
            max_run_tokens=llm_max_run_tokens,
        ),
        jobs=jobs,
        excerpts=False,
    )
    note = _note if verbose else None
    try:
        with _progress(quiet) as progress:
            checked = api.check(api.plan(options, note=note), progress=progress, note=note)
        _complain(checked.warnings, checked.crashes)
        _missing(checked.plan.missing)
        api.audit(checked, submit=action == "submit", status=None if quiet else _status)
    except LintError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        click.echo("pyarch-lint: interrupted", err=True)
        sys.exit(ExitStatus.ERROR)
    except Exception as error:
        if verbose:
            traceback.print_exc()
        hint = "" if verbose else " (run with -v for the traceback)"
        _fail(f"internal error: {type(error).__name__}: {error}{hint}")
    failed = checked.crashes or checked.plan.missing
    sys.exit(ExitStatus.ERROR if failed else ExitStatus.SUCCESS)


@main.command("rule", short_help="Print one rule's documentation.")
@click.argument("code")
def show_rule(code: str) -> None:
    """Print the documentation of one rule, by code (PA401) or name (blocking-call-in-async)."""
    rules = _rule_set()
    docs = documents(rules)
    wanted = code.upper()
    doc = docs.get(wanted) or next((d for d in docs.values() if d.name == code.lower()), None)
    if doc is None:
        _fail(f"unknown rule {code!r}; `pyarch-lint rules` lists them")
    click.echo(doc.text.rstrip("\n"))
    if "Fix" not in doc.sections:  # a rule that fixes says how, and whether safely, in "Fix"
        click.echo("\n## Fix\n\nNo automatic fix: `--fix` leaves its findings as they are.")
    info = rules.by_code[doc.code]
    if info.plugin is not None:
        click.echo(f"\n(from the plugin {info.plugin})")
    if info.options_type is not None:  # the keys of its section, whichever rules read them
        click.echo(f"\n## Settings: [tool.pyarch-lint.{info.options_type.SECTION}]\n")
        defaults = info.options_type()
        for field in dataclasses.fields(defaults):
            key, default = field.name.replace("_", "-"), getattr(defaults, field.name)
            line = f"- `{key}` (default {default!r}): {option_help(field)}"
            click.echo(
                textwrap.fill(line, width=100, subsequent_indent="  ", break_on_hyphens=False)
            )


@main.command("rules", short_help="List every rule and whether it is on.")
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Config file to read."
)
def list_rules(config_file: Path | None) -> None:
    """List every rule: code, whether it is enabled, severity (after the config's `severity`
    table), family, name and summary; on a terminal, each line cut to its width."""
    try:
        settings = load_settings(config_file, Path.cwd(), load_rule_set())
    except ConfigError as error:
        _fail(str(error))
    enabled = settings.enabled_codes()
    docs = documents(settings.rules)
    # As `ls` and `ps` do: cut to the terminal, whole lines for a pipe or a file (grep, less -S).
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    for code, info in sorted(settings.rules.by_code.items()):
        state = "on " if code in enabled else "off"
        family = _FAMILIES.get(code[:3], "") if info.plugin is None else info.plugin
        summary = docs[code].summary if code in docs else ""
        line = (
            f"{code}  {state}  {info.severity.label:<7}  {family:<14}  {info.name:<28}  {summary}"
        )
        click.echo(line.rstrip() if width is None else _cut(line.rstrip(), width))


def _cut(line: str, width: int) -> str:
    """`line` in `width` columns, an ellipsis where it was cut."""
    return line if len(line) <= width else line[: max(width - 1, 0)] + "\u2026"


_FAMILIES = {
    "PA0": "engine",
    "PA1": "structure",
    "PA2": "type hints",
    "PA3": "error handling",
    "PA4": "asyncio",
    "PA5": "architecture",
    "PA6": "operations",
}


@main.command("server", short_help="Run the language server (LSP over stdio) for editors.")
def server() -> None:
    """Run the language server on standard input and output, for an editor to start: findings
    as diagnostics as you type, "add noqa" quick fixes, rule summaries on hover, and the model's
    critique on demand (the command `pyarch-lint.critique`). docs/editors.md shows the set-up."""
    from pyarch_lint.server import serve  # pygls: only for this command

    serve()


@main.command("init", short_help="Add [tool.pyarch-lint] to pyproject.toml.")
@click.argument(
    "pyproject", type=click.Path(path_type=Path, dir_okay=False), default="pyproject.toml"
)
@click.option("--force", is_flag=True, help="Replace an existing [tool.pyarch-lint] table.")
@click.option(
    "--print", "print_only", is_flag=True, help="Print the table instead of writing the file."
)
def init(pyproject: Path, force: bool, print_only: bool) -> None:
    """Add a [tool.pyarch-lint] table with every default and a comment each to PYPROJECT
    (default: ./pyproject.toml, created when missing). Existing lines are kept byte for byte."""
    rules = _rule_set()
    if print_only:
        click.echo(render_table(rules), nl=False)
        return
    try:
        done = init_pyproject(pyproject, force, rules)
    except InitError as error:
        _fail(str(error))
    click.echo(f"pyarch-lint: {one_line(done)}", err=True)
