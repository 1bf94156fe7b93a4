"""The command line: options -> settings, then the flow of DESIGN.md, then an exit code."""

from __future__ import annotations

import dataclasses
import enum
import os
import sys
import textwrap
import traceback
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from pyarch_lint import __version__, baseline
from pyarch_lint.cache import CACHE_DIR_NAME, Cache
from pyarch_lint.catalogue import documents
from pyarch_lint.checks.options import option_help
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import (
    ConfigError,
    Settings,
    check_llm,
    check_selectors,
    load_settings,
)
from pyarch_lint.discovery import PathNotFound, discover
from pyarch_lint.engine import RunResult, SourceFile, default_jobs, run, settings_fingerprint
from pyarch_lint.findings import Critique, Finding, NotReviewed, Severity
from pyarch_lint.gitdiff import (
    Changes,
    GitError,
    changed_since,
    on_changed_lines,
    repository_root,
)
from pyarch_lint.init import InitError, init_pyproject, render_table
from pyarch_lint.plugins import PluginError, load_rule_set
from pyarch_lint.progress import progress_line
from pyarch_lint.report import FORMATS, Outcome, inert_lines, one_line, renderer
from pyarch_lint.report.text import source_lines, summary_line


class ExitStatus(enum.IntEnum):
    SUCCESS = 0  # no findings after suppressions
    FINDINGS = 1
    ERROR = 2  # usage or configuration error, missing path, internal error


EXAMPLES = """\b
Examples:
  pyarch-lint src/                       lint a tree (escalates when ANTHROPIC_API_KEY is set)
  pyarch-lint --no-llm --format json .   deterministic rules only, JSON on stdout
  pyarch-lint --select PA4 app.py        only the async rules
  pyarch-lint --explain src/             prose advice for each finding
  pyarch-lint --changed-since main .     only findings on lines changed since git ref main
  pyarch-lint --write-baseline b.json .  record today's findings in b.json
  pyarch-lint --baseline b.json .        report only findings that b.json does not record
  pyarch-lint rule PA401                 print one rule's documentation
  pyarch-lint rules                      list every rule
  pyarch-lint init                       add [tool.pyarch-lint] to pyproject.toml

\b
Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error.
"""


def _codes(values: Sequence[str]) -> tuple[str, ...]:
    """`--select PA1,PA2 --select PA4` -> (PA1, PA2, PA4)."""
    return tuple(
        code.strip().upper() for value in values for code in value.split(",") if code.strip()
    )


def _fail(message: str) -> NoReturn:
    click.echo(f"pyarch-lint: error: {one_line(message)}", err=True)
    sys.exit(ExitStatus.ERROR)


class _DefaultGroup(click.Group):
    """`pyarch-lint src/` runs `check`; `pyarch-lint rule PA401` runs a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --version belongs to the group; `check` would reject it as an unknown option.
        if not args or (args[0] not in self.commands and args[0] != "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pyarch-lint")
def main() -> None:
    """pyarch-lint: LibCST rules first, then an architectural critique of the flagged files."""


@main.command(epilog=EXAMPLES)
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
def check(paths: tuple[Path, ...], **options: Any) -> None:
    """Lint PATHS (default: the current folder) and report findings."""
    try:
        status = _check(paths or (Path("."),), options)
    except click.exceptions.Exit:
        raise
    except KeyboardInterrupt:
        click.echo("pyarch-lint: interrupted", err=True)
        status = ExitStatus.ERROR
    except Exception as error:
        if options["verbose"]:
            traceback.print_exc()
        hint = "" if options["verbose"] else " (run with -v for the traceback)"
        click.echo(f"pyarch-lint: internal error: {type(error).__name__}: {error}{hint}", err=True)
        status = ExitStatus.ERROR
    sys.exit(status)


def _cli_selection(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """The command line's selectors as a layer on top of the file's, as in ruff: `--select`
    starts afresh, and otherwise a code the command line enables or ignores wins over what the
    file said about it (the file's selectors it covers are dropped; specificity does the rest)."""
    where, rules = "command line", settings.rules
    select = check_selectors(where, "--select", _codes(options["select"]), rules)
    extend = check_selectors(where, "--extend-select", _codes(options["extend_select"]), rules)
    ignore = check_selectors(where, "--ignore", _codes(options["ignore"]), rules)
    if select:
        return {"select": select, "extend_select": extend, "ignore": ignore}
    file_select = None if settings.select is None else _kept(settings.select, ignore)
    return {
        "select": file_select,
        "extend_select": _kept(settings.extend_select, ignore) + extend,
        "ignore": _kept(settings.ignore, extend) + ignore,
    }


def _kept(selectors: tuple[str, ...], overridden_by: tuple[str, ...]) -> tuple[str, ...]:
    """The file's selectors that no command-line selector covers (equal or more general)."""
    return tuple(
        s for s in selectors if not any(o == "ALL" or s.startswith(o) for o in overridden_by)
    )


def _settings(options: dict[str, Any], cwd: Path) -> Settings:
    settings = load_settings(options["config_file"], cwd, load_rule_set())
    changes: dict[str, Any] = _cli_selection(settings, options)
    llm_changes = {k: options[k] for k in ("model", "language") if options[k]}
    for name in ("deadline", "timeout", "concurrency", "max_files", "max_output_tokens"):
        if options[f"llm_{name}"] is not None:
            llm_changes[name] = options[f"llm_{name}"]
    if llm_changes:
        changes["llm"] = dataclasses.replace(settings.llm, **llm_changes)
        check_llm(changes["llm"], "command line")
    return dataclasses.replace(settings, **changes)


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    """What to check and how, resolved from the options before any file is read."""

    settings: Settings
    files: list[SourceFile]
    changes: Changes | None  # --changed-since
    recorded: Counter[baseline.Key] | None  # --baseline


def _check_usage(options: dict[str, Any]) -> None:
    if options["write_baseline"] and (options["baseline_file"] or options["changed_since"]):
        _fail(
            "--write-baseline records every finding; it cannot be combined with --baseline "
            "or --changed-since"
        )
    if options["explain"] and options["output_format"] not in ("text", "concise"):
        _fail(
            "--explain prints prose; it cannot be combined with --format "
            + options["output_format"]
        )


def _plan(paths: tuple[Path, ...], options: dict[str, Any], cwd: Path) -> _Plan:
    def note(text: str) -> None:
        if options["verbose"]:
            click.echo(f"note: {one_line(text)}", err=True)

    try:
        settings = _settings(options, cwd)
        files = discover(
            paths, settings, cwd=cwd, force_exclude=options["force_exclude"], note=note
        )
        changes = None
        if options["changed_since"]:
            changes = changed_since(options["changed_since"], cwd)
            files = [file for file in files if changes.touches(file.path)]
        recorded = baseline.load(options["baseline_file"]) if options["baseline_file"] else None
    except (ConfigError, PathNotFound, GitError, baseline.BaselineError) as error:
        _fail(str(error))
    return _Plan(settings, files, changes, recorded)


def _check(paths: tuple[Path, ...], options: dict[str, Any]) -> ExitStatus:
    _check_usage(options)
    plan = _plan(paths, options, Path.cwd())
    settings, files = plan.settings, plan.files
    if options["show_settings"]:
        click.echo(_describe_settings(settings))
        return ExitStatus.SUCCESS
    if options["show_files"]:
        click.echo(inert_lines("".join(f"{one_line(f.display)}\n" for f in files)), nl=False)
        return ExitStatus.SUCCESS

    cache = None
    if not options["no_cache"]:
        cache = Cache(settings.root / CACHE_DIR_NAME, settings_fingerprint(settings))
    result = _run(plan, options, cache)
    by_display = {f.display: f.path for f in files}
    findings = result.findings
    if plan.changes is not None:  # before escalation: a pull request pays only for its change
        findings = on_changed_lines(findings, plan.changes, by_display)
    # Reports and the baseline name only files with findings (critiques are of those too).
    root_paths = _root_paths({f.path for f in findings}, by_display, settings)
    if options["write_baseline"]:
        return _write_baseline(options["write_baseline"], findings, root_paths, options["quiet"])
    if plan.recorded is not None:
        found = baseline.keys(findings, source_lines, root_paths)
        findings = baseline.new_findings(findings, found, plan.recorded)

    review = _escalate(findings, by_display, settings, cache, options)
    outcome = Outcome(
        findings,
        list(review.critiques),
        list(review.not_reviewed),
        result.files,
        len(_flagged(findings, settings)),
        review.escalated,
        root_paths,
        settings.rules,
    )
    _report(outcome, options)
    if review.failed_required is not None:
        message = one_line(review.failed_required)
        click.echo(f"pyarch-lint: error: --llm-required: {message}", err=True)
        return ExitStatus.ERROR
    if result.crashes:
        return ExitStatus.ERROR
    return ExitStatus.FINDINGS if findings and not options["exit_zero"] else ExitStatus.SUCCESS


def _run(plan: _Plan, options: dict[str, Any], cache: Cache | None) -> RunResult:
    """The engine over the planned files, with progress on a terminal and its complaints."""
    progress = progress_line(sys.stderr, options["quiet"])
    jobs = options["jobs"] or default_jobs()
    result = run(plan.files, plan.settings, jobs, cache, progress)
    if progress is not None:
        progress.finish()
    for warning in result.warnings:
        click.echo(f"pyarch-lint: warning: {one_line(warning)}", err=True)
    for crash in result.crashes:
        click.echo(f"pyarch-lint: error: {one_line(crash)}", err=True)
    return result


@dataclasses.dataclass(frozen=True, slots=True)
class _Review:
    critiques: Sequence[Critique] = ()
    not_reviewed: Sequence[NotReviewed] = ()
    escalated: int = 0
    failed_required: str | None = None  # why --llm-required is not met


def _flagged(findings: Sequence[Finding], settings: Settings) -> set[str]:
    threshold = Severity.parse(settings.llm.min_severity)
    return {f.path for f in findings if f.severity >= threshold}


def _escalate(
    findings: Sequence[Finding],
    by_display: dict[str, Path],
    settings: Settings,
    cache: Cache | None,
    options: dict[str, Any],
) -> _Review:
    if not _flagged(findings, settings):
        return _Review()
    if options["no_llm"] or settings.llm.enabled is False:
        off = "escalation is turned off (--no-llm or llm.enabled = false)"
        return _Review(failed_required=off if options["llm_required"] else None)
    from pyarch_lint.escalation import (
        RunOptions,
        run_escalation,
    )  # only when escalating: a fast start

    quiet = options["quiet"]
    run = RunOptions(
        api_key=os.environ.get("ANTHROPIC_API_KEY") or None,
        cache_dir=None if cache is None else cache.folder,
        dry_run=options["llm_dry_run"],
        required=options["llm_required"],
        progress=sys.stderr.isatty() and not quiet,
    )
    echo = (lambda _line: None) if quiet else (lambda line: click.echo(one_line(line), err=True))
    escalation = run_escalation(findings, by_display, settings.llm, run, echo)
    return _Review(
        escalation.critiques,
        escalation.not_reviewed,
        escalation.escalated,
        escalation.failed_required,
    )


def _report(outcome: Outcome, options: dict[str, Any]) -> None:
    if options["explain"]:
        from pyarch_lint.report.explain import render_explain

        explained = render_explain(outcome.findings, outcome.critiques, outcome.not_reviewed)
        click.echo(inert_lines(explained), nl=False)
    elif options["statistics"]:
        click.echo(_statistics(outcome), nl=False)
    else:
        click.echo(renderer(options["output_format"])(outcome), nl=False)
    if not options["quiet"] and options["output_format"] in ("text", "concise"):
        click.echo(summary_line(outcome), err=True)


def _root_paths(
    displays: set[str], by_display: Mapping[str, Path], settings: Settings
) -> dict[str, str]:
    """Display path -> path relative to the repository root (the git work tree, else the
    project root), as code hosts and the baseline want them whatever the current folder."""
    if not displays:
        return {}
    root = repository_root(settings.root) or settings.root.resolve()
    mapping = {}
    for display in displays:
        mapping[display] = display  # outside the repository: the path as given
        path = by_display.get(display)
        # The path as the tree holds it; resolved only when a symlink hides where it lies.
        for locate in () if path is None else (path.absolute, path.resolve):
            located = locate()
            if located.is_relative_to(root):
                mapping[display] = located.relative_to(root).as_posix()
                break
    return mapping


def _write_baseline(
    target: Path, findings: Sequence[Finding], root_paths: dict[str, str], quiet: bool
) -> ExitStatus:
    text = baseline.dumps(baseline.keys(findings, source_lines, root_paths))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"{target}: cannot write the baseline: {error.strerror}")
    if not quiet:
        plural = "finding" if len(findings) == 1 else "findings"
        click.echo(f"Recorded {len(findings)} {plural} in {target}.", err=True)
    return ExitStatus.SUCCESS


def _statistics(outcome: Outcome) -> str:
    counts = Counter((f.code, f.name) for f in outcome.findings)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{count:>6}  {code}  {name}\n" for (code, name), count in rows)


def _describe_settings(settings: Settings) -> str:
    source = (
        str(settings.config_path) if settings.config_path else "defaults (no config file found)"
    )
    lines = [f"config: {source}", f"root: {settings.root}"]
    for field in dataclasses.fields(settings):
        if field.name in ("config_path", "root", "rule_options", "llm", "rules"):
            continue
        lines.append(f"{field.name.replace('_', '-')}: {getattr(settings, field.name)!r}")
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


@main.command("rule")
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
    info = rules.by_code[doc.code]
    if info.plugin is not None:
        click.echo(f"\n(from the plugin {info.plugin})")
    if info.options_type is not None:  # the keys of its section, whichever rules read them
        click.echo(f"\n## Settings: [tool.pyarch-lint.{info.options_type.SECTION}]\n")
        defaults = info.options_type()
        for field in dataclasses.fields(defaults):
            key, default = field.name.replace("_", "-"), getattr(defaults, field.name)
            line = f"- `{key}` (default {default!r}): {option_help(field)}"
            click.echo(textwrap.fill(line, width=100, subsequent_indent="  "))


@main.command("rules")
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="Config file to read."
)
def list_rules(config_file: Path | None) -> None:
    """List every rule: code, name, family, default severity, and whether it is enabled."""
    try:
        settings = load_settings(config_file, Path.cwd(), load_rule_set())
    except ConfigError as error:
        _fail(str(error))
    enabled = settings.enabled_codes()
    docs = documents(settings.rules)
    for code, info in sorted(settings.rules.by_code.items()):
        state = "on " if code in enabled else "off"
        family = _FAMILIES.get(code[:3], "") if info.plugin is None else info.plugin
        summary = docs[code].summary if code in docs else ""
        click.echo(
            f"{code}  {state}  {info.severity.label:<7}  {family:<14}  {info.name:<28}  {summary}"
        )


_FAMILIES = {
    "PA0": "engine",
    "PA1": "structure",
    "PA2": "type hints",
    "PA3": "error handling",
    "PA4": "asyncio",
}


@main.command("init")
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
