"""The library API: a whole run from one frozen `LintOptions`, returned as data, printed nowhere.

    from pathlib import Path
    from pyarch_lint.api import LintOptions, lint

    result = lint(LintOptions(paths=(Path("src"),), escalate=False))
    for finding in result.outcome.findings:
        print(finding.path, finding.line, finding.code, finding.message)

A run is three stages, each callable on its own: `plan` (settings and files), `check` (findings:
analysis, the changed-lines filter, the baseline) and `review` (the model's critique of the
flagged files); `lint` runs the three. What happens meanwhile reaches the caller only through the
optional callbacks it passes. Problems with the input raise `LintError` (a bad config, an
unknown git revision, an unreadable baseline); anything else raised is a bug. A path that does
not exist is no reason to leave the others unchecked: it is listed in `Plan.missing` and
`LintResult.missing`. The command line (`cli`) turns its options into a `LintOptions`, calls
these functions and prints.

Settings, as in ruff: each path gets those of the nearest pyproject.toml with a
`[tool.pyarch-lint]` table at or above it (else the working folder's, else the defaults), unless
`LintOptions.config` names one file for all; the options' selection and model settings go on top
of each. Paths that share a configuration form a group, analysed and cached with its settings.
The model's critique is one per run, and so is the verdict (`fail-on`): both use the settings of
the first path's group. A rule's severity (`[tool.pyarch-lint.severity]`) is its group's.
Relative paths are relative to the working folder, and findings name files as seen from there.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyarch_lint import baseline
from pyarch_lint.cache import CACHE_DIR_NAME, Analysis, Cache
from pyarch_lint.checks.options import ArchitectureOptions
from pyarch_lint.config import (
    LlmSettings,
    Settings,
    check_llm,
    check_selectors,
    check_severity,
    settings_of,
)
from pyarch_lint.discovery import PathNotFound, discover, excluded_name, shown_as
from pyarch_lint.engine import (
    Extras,
    SourceFile,
    by_place,
    default_jobs,
    failed_analysis,
    per_file_ignores,
    run,
    settings_fingerprint,
    source_analyser,
    to_findings,
)
from pyarch_lint.errors import LintError
from pyarch_lint.excerpt import Excerpt
from pyarch_lint.facts import FileFacts
from pyarch_lint.files import FileChanged, read_for_edit, relative_to_root, replace_file
from pyarch_lint.findings import Applicability, Critique, Finding, NotReviewed, Severity
from pyarch_lint.gitdiff import Changes, changed_since, on_changed_lines, repository_root
from pyarch_lint.plugins import load_rule_set
from pyarch_lint.report import Outcome
from pyarch_lint.storage import KEY_ENV, Store, user_key

if TYPE_CHECKING:
    from pyarch_lint.fixes import FixResult
    from pyarch_lint.workers import Failure

__all__ = [
    "Checked",
    "FileFix",
    "Fixed",
    "Group",
    "LintError",
    "LintOptions",
    "LintResult",
    "LlmOverrides",
    "Plan",
    "UsageError",
    "audit",
    "check",
    "check_source",
    "fix",
    "fix_checked_source",
    "lint",
    "plan",
    "plan_source",
    "record_baseline",
    "review",
    "settings_for",
]

Note = Callable[[str], None]
Progress = Callable[[int, int], None]


class UsageError(LintError):
    """Options that contradict each other."""


@dataclass(frozen=True, slots=True)
class LlmOverrides:
    """Model settings that replace the configuration's (`[tool.pyarch-lint.llm]`); None keeps
    the configured value. Validated like the configuration."""

    model: str | None = None
    language: str | None = None
    deadline: float | None = None
    timeout: float | None = None
    concurrency: int | None = None
    max_files: int | None = None
    max_output_tokens: int | None = None
    # The run's spend ceiling; with the four above, the only way past what a config file may ask
    # for (a file can lower them, never raise them above the defaults).
    max_run_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class LintOptions:
    """Everything that decides a run's outcome; how it is shown is the caller's business."""

    paths: tuple[Path, ...] = ()  # files and folders to check; none: the working folder
    config: Path | None = None  # one config file for every path, instead of each one's nearest
    # Rule selection on top of the configuration's, as on the command line: `select` replaces
    # it (None: keep it); a code `extend_select` or `ignore` names wins over what the file says.
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    llm: LlmOverrides = LlmOverrides()
    fail_on: str | None = None  # replaces the configuration's `fail-on`; None keeps it
    changed_since: str | None = None  # a git revision: only findings on lines changed since
    baseline: Path | None = None  # only findings this baseline file does not record
    jobs: int | None = None  # worker processes; None: one per CPU
    cache: bool = True  # read and write the findings and critique caches
    force_exclude: bool = False  # apply the excludes to files named explicitly
    escalate: bool = True  # False: never contact the model (--no-llm)
    llm_dry_run: bool = False  # say (through `status`) what would be sent; send nothing
    llm_required: bool = False  # a flagged file left unreviewed sets `failed_required`
    # With `llm_dry_run`: the exact request for this file goes to `LintResult.request`
    show_prompt: Path | None = None
    # Whether the outcome carries the lines reports show (code frames, GitLab fingerprints):
    # False leaves a cached file's unread, for a caller that shows none (json, sarif, ...).
    excerpts: bool = True


@dataclass(frozen=True, slots=True)
class Group:
    """Files checked with the same settings: one configuration's, with the options on top."""

    settings: Settings
    files: tuple[SourceFile, ...]
    # The project's other files, when project rules run: analysed (or read from the cache) for
    # their facts, so that those rules see the whole project whichever files were named, and
    # reported in none of them.
    context: tuple[SourceFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run checks and how, resolved before any file is read."""

    options: LintOptions
    groups: tuple[Group, ...]  # in the order of the paths that led to them; never empty
    changes: Changes | None  # `changed_since`
    recorded: Counter[baseline.Key] | None  # `baseline`
    missing: tuple[Path, ...]  # paths, as given, that do not exist: not checked

    @property
    def settings(self) -> Settings:
        """The run-wide settings (the model's): those of the first path's group."""
        return self.groups[0].settings

    @property
    def files(self) -> list[SourceFile]:
        """Every file to check, each once, sorted by display path."""
        if len(self.groups) == 1:
            return list(self.groups[0].files)
        return sorted((f for g in self.groups for f in g.files), key=lambda f: f.display)


@dataclass(frozen=True, slots=True)
class Checked:
    """The findings of a plan, before the model's critique."""

    plan: Plan
    findings: tuple[Finding, ...]  # sorted; on changed lines only, not in the baseline
    files: int
    baselined: int  # findings left out because the baseline records them
    warnings: tuple[str, ...]  # problems that leave the findings intact (an unreadable cache)
    crashes: tuple[str, ...]  # analyses that failed unexpectedly: the findings are incomplete
    root_paths: Mapping[str, str]  # display path -> path from the repository root
    sources: Mapping[str, Path]  # display path -> the file
    store: Store | None  # where critiques are cached: the project root's; None: no cache
    excerpts: Mapping[str, Excerpt]  # display path -> what the reports show of the file
    # display path -> every project file and its facts (the named files' and the context's),
    # for the critique's view of the project; empty when the model will not be asked
    facts: Mapping[str, tuple[Path, FileFacts]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LintResult:
    """A whole run's outcome."""

    outcome: Outcome  # findings, critiques, files not reviewed and counts: what reports show
    warnings: tuple[str, ...]
    crashes: tuple[str, ...]
    failed_required: str | None  # why `llm_required` is not met, else None
    fail_on: Severity  # the run's `fail-on`
    missing: tuple[Path, ...]  # paths, as given, that do not exist: not checked
    request: str | None = None  # `show_prompt`'s request, as JSON (redacted, as it would go)

    @property
    def failed(self) -> bool:
        """Does a finding at or above `fail_on` remain (what makes the command line exit 1)?"""
        return any(f.severity >= self.fail_on for f in self.outcome.findings)


def _silent(_text: str) -> None:
    pass


def plan(options: LintOptions, *, note: Note | None = None) -> Plan:
    """Settings, files, the changed lines and the baseline of a run. `note(text)`: a path or
    pattern discovery skips, and why (what `-v` prints)."""
    cwd = Path.cwd()
    paths = options.paths or (Path("."),)
    missing = tuple(path for path in paths if not os.path.lexists(cwd / path))
    absolute = [Path(os.path.abspath(cwd / path)) for path in paths]
    rules = load_rule_set()
    folders = [p if p.is_dir() else p.parent for p in absolute]
    nearest: dict[Path, Settings | None] = {}  # each folder's configuration, looked up once
    found = settings_of(folders, options.config, cwd, rules, nearest)
    check_selectors("command line", "--select", options.select or (), rules)
    check_selectors("command line", "--extend-select", options.extend_select, rules)
    check_selectors("command line", "--ignore", options.ignore, rules)
    by_config: dict[Path | None, tuple[Settings, list[Path]]] = {}
    for path, settings in zip(paths, found, strict=True):
        by_config.setdefault(settings.config_path, (settings, []))[1].append(path)
    groups = []
    for settings, group_paths in by_config.values():
        resolved = _with_options(settings, options)
        files = discover(  # a missing path's group is still made: it may be the first
            [path for path in group_paths if path not in missing],
            resolved,
            cwd=cwd,
            force_exclude=options.force_exclude,
            note=note or _silent,
        )
        groups.append(Group(resolved, tuple(files)))
    groups = _each_file_once(groups)
    if options.config is None:
        groups = _with_nested_configurations(groups, options, cwd, nearest, note or _silent)
    changes = None
    if options.changed_since is not None:
        changes = touched = changed_since(options.changed_since, cwd)
        groups = [
            Group(g.settings, tuple(f for f in g.files if touched.touches(f.path))) for g in groups
        ]
    groups = [_with_context(group, absolute, options, cwd, note or _silent) for group in groups]
    recorded = baseline.load(options.baseline) if options.baseline is not None else None
    return Plan(options, tuple(groups), changes, recorded, missing)


def _with_context(
    group: Group, named: list[Path], options: LintOptions, cwd: Path, note: Note
) -> Group:
    """`group` with the rest of its project as context when its settings run project rules, or
    the model will be asked (its requests show the project around a file), and its files are
    not all the project holds there: files were named (pre-commit names only the changed ones)
    or `--changed-since` kept only some. The project is what discovery finds from its root,
    excluded files left out as if named with `--force-exclude`; only a root that a
    configuration, a pyproject.toml or a git repository marks is one (not the working folder
    that stands in when nothing does). Folders, as named, are what the project rules see."""
    settings = group.settings
    root = settings.root
    narrowed = options.changed_since is not None
    wanted = settings.enabled_project_rules() or _will_ask(options, settings.llm)
    if not wanted or not (narrowed or any(p.is_file() for p in named)):
        return group
    marked = settings.config_path is not None or (root / ".git").exists()
    if not (marked or (root / "pyproject.toml").is_file()):
        return group
    checked = {os.path.abspath(cwd / file.path) for file in group.files}
    everything = discover([root], settings, cwd=cwd, force_exclude=True, note=note)
    context = [f for f in everything if os.path.abspath(cwd / f.path) not in checked]
    return Group(settings, group.files, tuple(context))


def _with_options(settings: Settings, options: LintOptions) -> Settings:
    """The options on top of one configuration's settings. Selection is a layer, as in ruff:
    `select` starts afresh, and otherwise a code the options enable or ignore wins over what
    the file said about it (the file's selectors it covers are dropped; specificity does the
    rest). The model overrides and `fail_on` replace the configured values."""
    select: tuple[str, ...] | None = options.select
    if select is not None:
        extend_select, ignore = options.extend_select, options.ignore
    else:
        select = None if settings.select is None else _kept(settings.select, options.ignore)
        extend_select = _kept(settings.extend_select, options.ignore) + options.extend_select
        ignore = _kept(settings.ignore, options.extend_select) + options.ignore
    return dataclasses.replace(
        settings,
        select=select,
        extend_select=extend_select,
        ignore=ignore,
        llm=_llm(settings.llm, options.llm),
        fail_on=settings.fail_on
        if options.fail_on is None
        else check_severity("command line", "--fail-on", options.fail_on),
    )


def _kept(selectors: tuple[str, ...], overridden_by: tuple[str, ...]) -> tuple[str, ...]:
    """The file's selectors that no option's selector covers (equal or more general)."""
    return tuple(
        s for s in selectors if not any(o == "ALL" or s.startswith(o) for o in overridden_by)
    )


def _llm(llm: LlmSettings, overrides: LlmOverrides) -> LlmSettings:
    changes = {
        field.name: value
        for field in dataclasses.fields(overrides)
        if (value := getattr(overrides, field.name)) is not None
    }
    if not changes:
        return llm
    llm = dataclasses.replace(llm, **changes)
    check_llm(llm, "command line")
    return llm


def _with_nested_configurations(
    groups: list[Group],
    options: LintOptions,
    cwd: Path,
    nearest: dict[Path, Settings | None],
    note: Note,
) -> list[Group]:
    """Files below a deeper configuration than their path's are checked with it, as ruff does:
    `pyarch-lint .` checks `sub/` with `sub/pyproject.toml`'s settings (its excludes included),
    and the rest with the outer one's. Each folder's nearest configuration is looked up once."""
    known = {group.settings.config_path for group in groups}
    rules = groups[0].settings.rules
    while True:
        files = [file for group in groups for file in group.files]
        folders = [Path(os.path.abspath(file.path)).parent for file in files]
        around = dict(zip(files, settings_of(folders, None, cwd, rules, nearest), strict=True))
        deeper = {
            settings.config_path: settings
            for settings in around.values()
            if settings.config_path not in known
        }
        if not deeper:
            return groups
        groups = [
            Group(
                group.settings,
                tuple(
                    file
                    for file in group.files
                    if around[file].config_path == group.settings.config_path
                ),
            )
            for group in groups
        ]
        for settings in deeper.values():
            resolved = _with_options(settings, options)
            found = discover(
                [settings.root], resolved, cwd=cwd, force_exclude=options.force_exclude, note=note
            )
            groups.append(Group(resolved, tuple(found)))
        known.update(deeper)


def _each_file_once(groups: list[Group]) -> list[Group]:
    """A file that paths of several groups reach (`. sub/`, sub/ with its own configuration)
    is checked once, with the settings of the nearest configuration around it."""
    if len(groups) < 2:
        return groups
    located = [[(file, file.path.resolve()) for file in group.files] for group in groups]
    owner: dict[Path, int] = {}
    for index, files in enumerate(located):
        for _file, real in files:
            current = owner.get(real)
            if current is None or _nearer(groups[index], groups[current], real):
                owner[real] = index
    return [
        Group(group.settings, tuple(file for file, real in files if owner[real] == index))
        for index, (group, files) in enumerate(zip(groups, located, strict=True))
    ]


def _nearer(group: Group, other: Group, path: Path) -> bool:
    root, other_root = group.settings.root, other.settings.root
    if not path.is_relative_to(root):
        return False
    return not path.is_relative_to(other_root) or len(root.parts) > len(other_root.parts)


def check(plan: Plan, *, progress: Progress | None = None, note: Note | None = None) -> Checked:
    """The findings of every planned file, through the changed-lines filter and the baseline.
    `progress(done, total)`: files analysed so far (cache hits count at once). `note(text)`:
    a cache entry not signed with the user's cache key, ignored (what `-v` prints)."""
    options = plan.options
    jobs = options.jobs or default_jobs()
    # A baseline's keys need the reported lines, whatever the caller shows.
    extras = Extras(
        excerpts=options.excerpts or plan.recorded is not None,
        facts=_will_ask(options, plan.settings.llm),
    )
    total = sum(len(group.files) for group in plan.groups)
    findings: list[Finding] = []
    warnings: list[str] = []
    crashes: list[str] = []
    root_paths: dict[str, str] = {}
    sources: dict[str, Path] = {}
    excerpts: dict[str, Excerpt] = {}
    facts: dict[str, tuple[Path, FileFacts]] = {}
    analysed = 0
    key = _cache_key(warnings) if options.cache else None
    heard = note or _silent
    for group in plan.groups:
        cache = None
        if key is not None:
            store = Store(group.settings.root / CACHE_DIR_NAME, key, heard)
            cache = Cache(store, settings_fingerprint(group.settings))
        result = run(
            group.files,
            group.settings,
            jobs,
            cache,
            _offset(progress, analysed, total),
            extras=extras,
            context=group.context,
        )
        analysed += len(group.files)
        paths = {file.display: file.path for file in group.files}
        found = result.findings
        if plan.changes is not None:  # before escalation: a pull request pays only for its change
            found = on_changed_lines(found, plan.changes, paths)
        # Reports and the baseline name only files with findings (critiques are of those too).
        root_paths.update(_root_paths({f.path for f in found}, paths, group.settings))
        findings.extend(found)
        warnings.extend(result.warnings)
        crashes.extend(result.crashes)
        sources.update(paths)
        excerpts.update(result.excerpts)
        located = {f.display: f.path for f in (*group.files, *group.context)}
        facts.update(
            (display, (located[display], known)) for display, known in result.facts.items()
        )
    if len(plan.groups) > 1:
        findings.sort(key=by_place)
    found_count = len(findings)
    if plan.recorded is not None:
        keys = baseline.keys(findings, excerpts, root_paths)
        findings = baseline.new_findings(findings, keys, plan.recorded)
    critiques = None if key is None else Store(plan.settings.root / CACHE_DIR_NAME, key, heard)
    return Checked(
        plan,
        tuple(findings),
        total,
        found_count - len(findings),
        tuple(warnings),
        tuple(crashes),
        root_paths,
        sources,
        critiques,
        excerpts,
        facts,
    )


def _api_key() -> str | None:
    return os.environ.get("ANTHROPIC_API_KEY") or None


def _will_ask(options: LintOptions, llm: LlmSettings) -> bool:
    """Will escalation build requests (a dry run too), which the files' facts help write? Only
    then are cached facts read: a run without a key pays nothing for them."""
    return (
        options.escalate
        and llm.enabled is not False
        and llm.context_tokens > 0
        and (options.llm_dry_run or _api_key() is not None)
    )


def _cache_key(warnings: list[str]) -> bytes | None:
    """The user's cache key, or None (and a warning) where none can be had: no cache then."""
    try:
        return user_key()
    except OSError as error:
        reason = f"{error.strerror or error}: {error.filename}" if error.filename else str(error)
        warnings.append(f"running without the cache: no cache key ({reason}); set {KEY_ENV}")
        return None


def _offset(progress: Progress | None, done_before: int, total: int) -> Progress | None:
    """One group's progress as part of the whole run's: the earlier groups' files are done."""
    if progress is None:
        return None
    return lambda done, _group_total: progress(done_before + done, total)


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


@dataclass(frozen=True, slots=True)
class _Review:
    critiques: Sequence[Critique] = ()
    not_reviewed: Sequence[NotReviewed] = ()
    escalated: int = 0
    failed_required: str | None = None
    request: str | None = None


def review(checked: Checked, *, status: Note | None = None, each_file: bool = False) -> LintResult:
    """The model's critique of the files with findings at `llm.min-severity` or above, when
    escalation is on and possible. `status(line)`: what escalation does (skipped, asking, the
    dry run's files, a summary), and with `each_file` a line as each file's critique arrives."""
    llm = checked.plan.settings.llm
    flagged = _flagged(checked.findings, llm)
    shown = _shown(checked)
    done = _escalate(checked, llm, status or _silent, each_file, shown) if flagged else _Review()
    if shown is not None and done.request is None:
        raise UsageError(f"--show-prompt: {_no_request(shown, done, flagged, llm)}")
    outcome = Outcome(
        list(checked.findings),
        list(done.critiques),
        list(done.not_reviewed),
        checked.files,
        len(flagged),
        done.escalated,
        checked.root_paths,
        checked.plan.settings.rules,
        checked.baselined,
        checked.excerpts,
        language=llm.language,
    )
    return LintResult(
        outcome,
        checked.warnings,
        checked.crashes,
        done.failed_required,
        Severity.parse(checked.plan.settings.fail_on),
        checked.plan.missing,
        done.request,
    )


def _shown(checked: Checked) -> str | None:
    """The display path of the file `show_prompt` names (None when none is asked for)."""
    options = checked.plan.options
    if options.show_prompt is None:
        return None
    if not options.llm_dry_run:
        raise UsageError("--show-prompt shows what a dry run would send: add --llm-dry-run")
    wanted = options.show_prompt.resolve()
    for display, location in checked.sources.items():
        if location.resolve() == wanted:
            return display
    raise UsageError(f"--show-prompt: {options.show_prompt} is not among the files checked")


def _no_request(path: str, done: _Review, flagged: set[str], llm: LlmSettings) -> str:
    reason = next((n.reason for n in done.not_reviewed if n.path == path), None)
    if reason is not None:
        return f"no request for {path}: {reason}"
    if path not in flagged:
        return f"{path} has no finding at or above llm.min-severity = {llm.min_severity}"
    return f"no request for {path}: escalation is off (--no-llm or llm.enabled = false)"


def _flagged(findings: Sequence[Finding], llm: LlmSettings) -> set[str]:
    threshold = Severity.parse(llm.min_severity)
    return {f.path for f in findings if f.severity >= threshold}


def _escalate(
    checked: Checked, llm: LlmSettings, status: Note, each_file: bool, shown: str | None
) -> _Review:
    options = checked.plan.options
    if not options.escalate or llm.enabled is False:
        off = "escalation is turned off (--no-llm or llm.enabled = false)"
        return _Review(failed_required=off if options.llm_required else None)
    from pyarch_lint.escalation import RunOptions, run_escalation  # only now: a fast start
    from pyarch_lint.escalation.context import project_of

    run_options = RunOptions(
        api_key=_api_key(),
        cache=checked.store,
        dry_run=options.llm_dry_run,
        required=options.llm_required,
        progress=each_file,
        show=shown,
    )
    project = project_of(
        checked.plan.settings.root, checked.facts, checked.findings, _contracts(checked)
    )
    escalation = run_escalation(
        checked.findings,
        checked.sources,
        llm,
        run_options,
        status,
        names=checked.root_paths,
        project=project,
    )
    return _Review(
        escalation.critiques,
        escalation.not_reviewed,
        escalation.escalated,
        escalation.failed_required,
        escalation.request,
    )


def _contracts(checked: Checked) -> dict[str, tuple[str, ...]]:
    """What the architecture contracts ask of each checked file's module, by display path."""
    settings = checked.plan.settings
    options = settings.rule_options.get(ArchitectureOptions, ArchitectureOptions())
    if not options.contracts:
        return {}
    from pyarch_lint.architecture import contract_places

    root = os.path.abspath(settings.root)
    relative = {
        os.path.relpath(os.path.abspath(location), root).replace(os.sep, "/"): display
        for display, (location, _facts) in checked.facts.items()
    }
    facts = {path: checked.facts[display][1] for path, display in relative.items()}
    return {relative[path]: lines for path, lines in contract_places(facts, options).items()}


def audit(checked: Checked, *, submit: bool, status: Note | None = None) -> None:
    """`pyarch-lint audit` after `check`: the flagged files' critiques through the Message
    Batches API. `submit`: send the files that are neither cached nor in a batch as one batch;
    else collect the ended batches into the critique cache and send their failures again. What
    it does goes to `status`. AuditError (a LintError) when it cannot run."""
    from pyarch_lint.escalation import RunOptions, run_audit
    from pyarch_lint.escalation.context import project_of

    run_options = RunOptions(api_key=_api_key(), cache=checked.store)
    project = project_of(
        checked.plan.settings.root, checked.facts, checked.findings, _contracts(checked)
    )
    run_audit(
        checked.findings,
        checked.sources,
        checked.plan.settings.llm,
        run_options,
        status or _silent,
        submit=submit,
        names=checked.root_paths,
        project=project,
    )


def lint(
    options: LintOptions,
    *,
    note: Note | None = None,
    progress: Progress | None = None,
    status: Note | None = None,
) -> LintResult:
    """A whole run: `plan`, `check`, `review`, with their callbacks."""
    return review(check(plan(options, note=note), progress=progress, note=note), status=status)


def record_baseline(
    options: LintOptions,
    target: Path,
    *,
    note: Note | None = None,
    progress: Progress | None = None,
) -> Checked:
    """Write every finding of a run to the baseline file `target` (the model is not asked)."""
    if options.baseline is not None or options.changed_since is not None:
        raise UsageError(
            "--write-baseline records every finding; it cannot be combined with --baseline "
            "or --changed-since"
        )
    options = dataclasses.replace(options, excerpts=True)  # the keys need the reported lines
    planned = plan(options, note=note)
    if planned.missing:  # a baseline without a path's findings would hide them later
        raise PathNotFound("; ".join(f"{p}: no such file or directory" for p in planned.missing))
    checked = check(planned, progress=progress, note=note)
    text = baseline.dumps(baseline.keys(checked.findings, checked.excerpts, checked.root_paths))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise baseline.BaselineError(
            f"{target}: cannot write the baseline: {error.strerror}"
        ) from None
    return checked


# -- fixes --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileFix:
    """One file that fixes changed."""

    display: str
    before: bytes
    after: bytes
    fixed: int  # findings fixed


@dataclass(frozen=True, slots=True)
class Fixed:
    """What `fix` did."""

    files: tuple[FileFix, ...]  # the files fixes changed (written, unless asked not to)
    notes: tuple[str, ...]  # fixes not made or files not written, and why

    @property
    def fixed(self) -> int:
        return sum(file.fixed for file in self.files)


def fix(
    checked: Checked,
    *,
    unsafe: bool = False,
    write: bool = True,
    progress: Progress | None = None,
) -> Fixed:
    """Apply the fixes of `checked`'s findings (the safe ones; unsafe ones too with `unsafe`)
    to their files, each analysed afresh (`fixes.fix_source`) in a worker process under the
    file timeout, and write each changed file (atomically, never through a symlink, not when it
    changed since it was read) unless not `write` (`--diff`). `check` the plan again for what
    remains. Refused with a baseline or changed lines: their filters cannot follow the lines a
    fix moves."""
    plan = checked.plan
    if plan.recorded is not None or plan.changes is not None:
        raise UsageError("fixes cannot be combined with --baseline or --changed-since")
    wanted = {f.path for f in checked.findings if _applies(f, unsafe)}
    notes: list[str] = []
    changed: list[FileFix] = []
    done = 0
    for group in plan.groups:
        read = _read_for_fixes([f for f in group.files if f.display in wanted], notes)
        items = [(source, file.display) for file, source, _ in read]
        results = _fix_all(items, group.settings, unsafe, _offset(progress, done, len(wanted)))
        done += len(read)
        for (file, source, before), result in zip(read, results, strict=True):
            if isinstance(result, str):
                notes.append(f"{file.display}: not fixed: {result}")
                continue
            notes.extend(result.notes)
            if result.changed(source) and (not write or _written(file, result, before, notes)):
                changed.append(FileFix(file.display, source, result.source, result.fixed))
    return Fixed(tuple(changed), tuple(notes))


def _read_for_fixes(
    files: Sequence[SourceFile], notes: list[str]
) -> list[tuple[SourceFile, bytes, os.stat_result]]:
    """Each file's bytes and what it was when read; a file that cannot be read (or is a
    symlink) is noted and left out."""
    read = []
    for file in files:
        try:
            source, before = read_for_edit(file.path)
        except OSError as error:
            notes.append(f"{file.display}: not fixed: {error.strerror or error}")
            continue
        read.append((file, source, before))
    return read


def _written(file: SourceFile, result: FixResult, before: os.stat_result, notes: list[str]) -> bool:
    try:
        replace_file(file.path, result.source, before)
    except FileChanged:
        notes.append(f"{file.display}: not written: it changed since it was read")
        return False
    except OSError as error:
        notes.append(f"{file.display}: not written: {error.strerror or error}")
        return False
    return True


def _applies(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is Applicability.SAFE or (unsafe and finding.fix is Applicability.UNSAFE)


def fix_checked_source(checked: Checked, source: bytes, *, unsafe: bool = False) -> FixResult:
    """`fix` for what `check_source` checked: the fixed source (the same bytes when nothing
    applies or the name is excluded) and the findings that remain, as `fixes.FixResult`."""
    from pyarch_lint.fixes import FixResult

    if not any(_applies(f, unsafe) for f in checked.findings):
        return FixResult(source, 0, checked.findings, ())
    [path] = checked.plan.options.paths
    display = shown_as(path, Path.cwd())
    [result] = _fix_all([(source, display)], checked.plan.settings, unsafe, None)
    if isinstance(result, str):
        return FixResult(source, 0, checked.findings, (f"{display}: not fixed: {result}",))
    return result


def _fix_all(
    items: Sequence[tuple[bytes, str]],
    settings: Settings,
    unsafe: bool,
    progress: Progress | None,
) -> list[FixResult | str]:
    """Each (source, name)'s `FixResult`, or why there is none (its worker died or ran out of
    time: it may analyse the file once per pass, so its time is the file timeout's as often)."""
    if not items:
        return []
    # LibCST: only when there is something to fix
    from pyarch_lint.fixes import MAX_PASSES, fixer
    from pyarch_lint.workers import Failure, map_isolated

    total = len(items)
    timeout = settings.file_timeout * MAX_PASSES if settings.file_timeout else None
    outcomes = map_isolated(
        fixer,
        (settings, unsafe),
        items,
        jobs=default_jobs(),
        timeout=timeout,
        done=(lambda count: progress(count, total)) if progress else lambda _count: None,
    )
    return [
        _failure(outcome, MAX_PASSES) if isinstance(outcome, Failure) else outcome
        for outcome in outcomes
    ]


def _failure(failure: Failure, passes: int) -> str:
    if failure.timed_out:
        return f"fixing it took longer than {passes} times the file-timeout ({failure.reason})"
    return f"the process fixing it died ({failure.reason})"


# -- standard input -----------------------------------------------------------------------------


def settings_for(path: Path, options: LintOptions) -> Settings:
    """The settings a file named `path` (which need not exist) is checked with: its nearest
    configuration's (or `options.config`), with the options' selection and overrides on top.
    What an editor passes to `fixes.fix_source` and `fixes.quick_fixes`."""
    cwd = Path.cwd()
    rules = load_rule_set()
    check_selectors("command line", "--select", options.select or (), rules)
    check_selectors("command line", "--extend-select", options.extend_select, rules)
    check_selectors("command line", "--ignore", options.ignore, rules)
    folder = Path(os.path.abspath(cwd / path)).parent
    return _with_options(settings_of([folder], options.config, cwd, rules)[0], options)


def plan_source(path: Path, options: LintOptions, *, note: Note | None = None) -> Plan:
    """The plan of a text checked as if it were the file `path`, which need not exist (standard
    input, an editor's unsaved text): the settings of its nearest configuration, and no file
    at all when an exclude or .gitignore leaves `path` out (as `--force-exclude` does for a file
    named). Not with a baseline or changed lines."""
    if options.baseline is not None or options.changed_since is not None:
        raise UsageError("standard input cannot be combined with --baseline or --changed-since")
    cwd = Path.cwd()
    settings = settings_for(path, options)
    absolute = Path(os.path.abspath(cwd / path))
    excluded = excluded_name(path, settings, cwd=cwd, note=note or _silent)
    files = () if excluded else (SourceFile(shown_as(path, cwd), absolute),)
    options = dataclasses.replace(options, paths=(path,))
    return Plan(options, (Group(settings, files),), None, None, ())


def check_source(plan: Plan, source: bytes, *, isolated: bool = True) -> Checked:
    """The findings of `source` in place of the bytes of the file `plan` (`plan_source`'s)
    names: its per-file-ignores apply, and there are none when the plan excludes it. Analysed
    in a worker process under the file timeout, or with `isolated=False` in this process (it
    imports LibCST: for a caller that is such a worker itself, the language server's); never
    cached. `review` critiques the file `sources` names: the file on disk, unless the caller
    points it at a copy of `source`."""
    [group] = plan.groups
    if not group.files:
        return Checked(plan, (), 0, 0, (), (), {}, {}, None, {})
    [file] = group.files
    settings = group.settings
    relative = relative_to_root(settings.root)(file.path)
    if isolated:
        analysis = _analyse_source(source, relative, settings)
    else:
        analysis = source_analyser(settings)((source, relative))
    enabled = settings.enabled_codes()
    findings = to_findings(file.display, analysis.findings, enabled, settings.rules, analysis.fixes)
    findings = per_file_ignores(findings, settings, relative)
    crashes = tuple(f"{file.display}: {crash}" for crash in analysis.crashes)
    warnings: list[str] = []
    key = _cache_key(warnings) if plan.options.cache else None
    store = None if key is None else Store(settings.root / CACHE_DIR_NAME, key, _silent)
    sources = {file.display: file.path}
    root_paths = _root_paths({file.display}, sources, settings)
    excerpts = {file.display: analysis.excerpt}
    return Checked(
        plan,
        tuple(findings),
        1,
        0,
        tuple(warnings),
        crashes,
        root_paths,
        sources,
        store,
        excerpts,
    )


def _analyse_source(source: bytes, relative: str, settings: Settings) -> Analysis:
    from pyarch_lint.workers import Failure, map_isolated

    [outcome] = map_isolated(
        source_analyser, settings, [(source, relative)], jobs=1, timeout=settings.file_timeout
    )
    if isinstance(outcome, Failure):
        return failed_analysis(outcome, source)
    return outcome
