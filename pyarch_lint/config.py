"""`[tool.pyarch-lint]` -> typed, validated settings.

Three layers, as in ruff: raw TOML (the standard library's `tomllib`), validated against the
dataclasses below (unknown keys, wrong types and unknown rule codes are errors naming the file and
the key), then resolved with the command line on top (`api`). Every key has a consumer.

Each top-level key is declared once, as a field of `Settings` (`_key`: its default and help);
validation, `--show-settings` and `init` read that declaration through `top_level_keys()`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import pathspec

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

from pyarch_lint.checks.registry import BUILTIN, RuleInfo, RuleSet
from pyarch_lint.errors import LintError
from pyarch_lint.findings import Severity

DEFAULT_MODEL = "claude-sonnet-5-5"
TABLE = "tool.pyarch-lint"

DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pyarch_lint_cache",
    "site-packages",
)


class ConfigError(LintError):
    """A configuration problem the user must fix; the CLI prints it and exits 2."""


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """`[tool.pyarch-lint.llm]`. The endpoint and key come from the environment only, never
    from a repository's config, so a hostile repository cannot redirect code or secrets. What a
    run may spend (the fields in `SPENDING`) a config file can lower but not raise above these
    defaults: only the command line or the environment can (see `capped`)."""

    SECTION: ClassVar[str] = "llm"
    SPENDING: ClassVar[tuple[str, ...]] = (
        "max_run_tokens",
        "max_files",
        "max_output_tokens",
        "concurrency",
        "deadline",
    )

    enabled: bool | Literal["auto"] = "auto"
    model: str = DEFAULT_MODEL
    max_output_tokens: int = 4096
    concurrency: int = 4
    timeout: float = 60.0
    deadline: float = 300.0
    max_files: int = 20
    min_severity: str = "warning"
    max_input_tokens: int = 40_000
    language: str = ""
    max_run_tokens: int = 250_000  # input and output of all requests, estimated before sending
    context_tokens: int = 2000  # the project around a flagged file, sent with it (0: none)
    # glob (as per-file-ignores) -> the project's review guidance for matching files
    guidance: Mapping[str, str] = field(default_factory=dict)


def _key(
    default: Any,
    help: str,
    *,
    check: Callable[[str, str, Any, RuleSet], Any] | None = None,
    in_init: bool = True,
) -> Any:
    """A top-level key of `[tool.pyarch-lint]`: the field's name in kebab case, its type the
    field's, `check(where, key, value, rules)` validating a value of that type further. `in_init`:
    `pyarch-lint init` writes it out (keys that replace a default are only mentioned there)."""
    metadata = {"help": help, "check": check, "in_init": in_init}
    if isinstance(default, dict):  # a mutable default: each Settings gets its own copy
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def check_selectors(
    where: str, key: str, values: tuple[str, ...], rules: RuleSet = BUILTIN
) -> tuple[str, ...]:
    for value in values:
        if not rules.knows(value):
            raise ConfigError(
                f"{where}: `{key}` has unknown rule code or prefix {value!r} "
                "(expected codes like PA401, prefixes like PA4, or ALL)"
            )
    return values


def _patterns(where: str, key: str, patterns: tuple[str, ...], _rules: RuleSet) -> tuple[str, ...]:
    for pattern in patterns:
        _check_pattern(where, key, pattern)
    return patterns


def _positive_seconds(where: str, key: str, seconds: float, _rules: RuleSet) -> float:
    if seconds <= 0:
        raise ConfigError(f"{where}: `{key}` must be a positive number of seconds")
    return seconds


def check_severity(where: str, key: str, label: object, _rules: RuleSet = BUILTIN) -> str:
    """`label`, when it names a severity (as `Severity.parse` reads it)."""
    if not (isinstance(label, str) and label.upper() in Severity.__members__):
        raise ConfigError(f"{where}: `{key}` must be 'info', 'warning' or 'error', got {label!r}")
    return label


def _severities(where: str, key: str, table: Mapping[str, Any], rules: RuleSet) -> dict[str, str]:
    for code, label in table.items():
        if code not in rules.by_code:
            raise ConfigError(
                f"{where}: `{key}.{code}` is not a rule code (expected codes like PA201; "
                "`pyarch-lint rules` lists them)"
            )
        check_severity(where, f"{key}.{code}", label)
    return dict(table)


def _per_file_ignores(
    where: str, key: str, table: dict[str, Any], rules: RuleSet
) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for glob, codes in table.items():
        entry = f"{key}.{glob!r}"
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: `{entry}` must be a list of rule codes, got {codes!r}")
        _check_pattern(where, key, glob)
        result[glob] = check_selectors(where, entry, tuple(codes), rules)
    return result


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs, resolved. Plain values: it crosses the process pool."""

    select: tuple[str, ...] | None = _key(  # None: the rules that are on by default
        None,
        'Codes or prefixes to run, replacing the default rules, e.g. ["PA1", "PA3"].',
        check=check_selectors,
        in_init=False,
    )
    extend_select: tuple[str, ...] = _key(
        (),
        'Codes or prefixes to turn on besides the default rules, e.g. ["PA2"].',
        check=check_selectors,
    )
    ignore: tuple[str, ...] = _key(
        (), 'Codes or prefixes to turn off, e.g. ["PA203"].', check=check_selectors
    )
    exclude: tuple[str, ...] = _key(
        DEFAULT_EXCLUDE,
        "Gitignore-style patterns to skip, replacing the default excludes.",
        check=_patterns,
        in_init=False,
    )
    extend_exclude: tuple[str, ...] = _key(
        (),
        "Gitignore-style patterns to skip, on top of the default excludes"
        " (.git, .venv, build, dist, ...).",
        check=_patterns,
    )
    per_file_ignores: Mapping[str, tuple[str, ...]] = _key(
        {},
        'Codes to ignore in matching files, e.g. "tests/**" = ["PA2"].',
        check=_per_file_ignores,
    )
    respect_gitignore: bool = _key(
        True, "Skip what git ignores (.gitignore files, .git/info/exclude, ...)."
    )
    file_timeout: float = _key(
        60.0, "Seconds the analysis of one file may take.", check=_positive_seconds
    )
    fail_on: str = _key(
        "warning",
        'Least severe finding that makes the run exit 1: "info", "warning" or "error" (those'
        " below are still reported).",
        check=check_severity,
    )
    severity: Mapping[str, str] = _key(
        {},
        'A rule\'s severity instead of its own, e.g. PA201 = "warning"; fail-on,'
        " llm.min-severity and every report use it.",
        check=_severities,
    )
    rule_options: Mapping[type[Any], Any] = field(default_factory=dict)
    llm: LlmSettings = LlmSettings()
    config_path: Path | None = None
    root: Path = field(default_factory=Path.cwd)

    # Every rule this run knows, the plugins' included: how codes are selected and resolved,
    # each with its severity after `severity` (findings take theirs from here).
    rules: RuleSet = BUILTIN

    @classmethod
    def default(cls, rules: RuleSet = BUILTIN) -> Settings:
        return cls(rule_options=_default_options(rules), rules=rules)

    def enabled_codes(self) -> frozenset[str]:
        """The codes that run: the most specific matching selector wins, ignore wins ties."""
        return self.rules.enabled_codes(self.select, self.extend_select, self.ignore)

    def enabled_rules(self) -> list[RuleInfo]:
        """The enabled rules that have a class (the engine's own codes left out)."""
        codes = self.enabled_codes()
        return [
            info
            for code, info in self.rules.by_code.items()
            if code in codes and info.rule_class is not None
        ]

    def enabled_project_rules(self) -> list[RuleInfo]:
        """The enabled rules that run over every file's facts (`project`)."""
        codes = self.enabled_codes()
        return [
            info
            for code, info in self.rules.by_code.items()
            if code in codes and info.project_rule is not None
        ]


def _default_options(rules: RuleSet) -> dict[type[Any], Any]:
    return {kind: kind() for kind in rules.option_types().values()}


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _type_name(expected: Any) -> str:
    origin = typing.get_origin(expected)
    if expected is bool:
        return "a boolean"
    if expected is int:
        return "an integer"
    if expected is float:
        return "a number"
    if expected is str:
        return "a string"
    if origin in (tuple, list):
        return "a list of strings"
    if origin is dict:
        return "a table of strings"
    if origin is Mapping:
        return "a table"
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(expected))
    if origin in (typing.Union, types.UnionType):  # None is never a TOML value
        return " or ".join(_type_name(a) for a in typing.get_args(expected) if a is not _NONE)
    return str(expected)


_NONE = type(None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# How a TOML value is checked, and converted, against a scalar field type.
_SCALARS: dict[Any, Callable[[Any], tuple[bool, Any]]] = {
    bool: lambda value: (isinstance(value, bool), value),
    int: lambda value: (_is_number(value) and isinstance(value, int), value),
    float: lambda value: (_is_number(value), float(value) if _is_number(value) else value),
    str: lambda value: (isinstance(value, str), value),
}


def _coerce(expected: Any, value: Any) -> tuple[bool, Any]:
    """(matches, converted value) for one TOML value against one field type."""
    if expected in _SCALARS:
        return _SCALARS[expected](value)
    origin = typing.get_origin(expected)
    if origin in (tuple, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return ok, tuple(value) if ok else value
    if origin is dict:
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        return ok, dict(value) if ok else value
    if origin is Mapping:  # its values are the key's `check`'s to validate
        return isinstance(value, dict), value
    if origin is Literal:
        return value in typing.get_args(expected), value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(expected):
            ok, converted = _coerce(option, value)
            if ok:
                return True, converted
    return False, value


def _build(kind: type[Any], table: Mapping[str, Any], where: str, prefix: str) -> Any:
    """Instantiate dataclass `kind` from a TOML table, rejecting unknown keys and bad types."""
    hints = typing.get_type_hints(kind)
    fields = {_kebab(f.name): f.name for f in dataclasses.fields(kind)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{where}: unknown key `{prefix}{key}` (known keys: {known})")
        item = table_type(hints[fields[key]])
        if item is not None:
            values[fields[key]] = _build_tables(item, value, where, f"{prefix}{key}")
            continue
        ok, converted = _coerce(hints[fields[key]], value)
        if not ok:
            expected = _type_name(hints[fields[key]])
            raise ConfigError(f"{where}: `{prefix}{key}` must be {expected}, got {value!r}")
        values[fields[key]] = converted
    try:
        return kind(**values)
    except ValueError as error:  # an options class may validate its values in __post_init__
        raise ConfigError(f"{where}: `{prefix.rstrip('.')}`: {error}") from None


def table_type(expected: Any) -> type[Any] | None:
    """The dataclass of a `tuple[SomeDataclass, ...]` field: an array of tables in TOML
    (`[[tool.pyarch-lint.architecture.contracts]]`)."""
    arguments = typing.get_args(expected)
    if (
        typing.get_origin(expected) is tuple
        and arguments
        and dataclasses.is_dataclass(arguments[0])
    ):
        return typing.cast(type[Any], arguments[0])
    return None


def _build_tables(kind: type[Any], value: Any, where: str, key: str) -> tuple[Any, ...]:
    """Each table of an array of tables, validated like any table; `key[0].name` in errors."""
    if not isinstance(value, list) or not all(isinstance(table, dict) for table in value):
        raise ConfigError(
            f"{where}: `{key}` must be an array of tables (`[[{TABLE}.{key}]]`), got {value!r}"
        )
    return tuple(
        _build(kind, table, where, f"{key}[{index}].") for index, table in enumerate(value)
    )


@dataclass(frozen=True, slots=True)
class Key:
    """One top-level key of `[tool.pyarch-lint]`, as its `Settings` field declares it."""

    name: str  # as written in TOML
    attribute: str  # the field of Settings
    type: Any
    default: Any
    help: str
    in_init: bool
    check: Callable[[str, str, Any, RuleSet], Any] | None


@functools.cache
def top_level_keys() -> dict[str, Key]:
    """Every top-level key by name, in declaration order."""
    hints = typing.get_type_hints(Settings)
    keys = {}
    for spec in dataclasses.fields(Settings):
        if "help" not in spec.metadata:
            continue
        default = (
            spec.default if spec.default_factory is dataclasses.MISSING else spec.default_factory()
        )
        name = _kebab(spec.name)
        keys[name] = Key(
            name,
            spec.name,
            hints[spec.name],
            default,
            spec.metadata["help"],
            spec.metadata["in_init"],
            spec.metadata["check"],
        )
    return keys


def settings_from_table(
    table: Mapping[str, Any],
    where: str = "<config>",
    config_path: Path | None = None,
    rules: RuleSet = BUILTIN,
) -> Settings:
    """Validate one `[tool.pyarch-lint]` table (plain Python values) into Settings."""
    sections = rules.option_types()
    keys = top_level_keys()
    values: dict[str, Any] = {}
    options = _default_options(rules)
    llm = LlmSettings()
    for name, value in table.items():
        if name == LlmSettings.SECTION:
            llm = capped(_build_section(LlmSettings, value, where, name))
            check_llm(llm, where)
        elif name in sections:
            options[sections[name]] = _build_section(sections[name], value, where, name)
        elif name in keys:
            values[keys[name].attribute] = _top_level(keys[name], value, where, rules)
        else:
            known = ", ".join(sorted([*keys, LlmSettings.SECTION, *sections]))
            raise ConfigError(f"{where}: unknown key `{TABLE}.{name}` (known keys: {known})")
    return Settings(
        **values,
        rule_options=options,
        llm=llm,
        config_path=config_path,
        root=config_path.parent if config_path is not None else Path.cwd(),
        rules=rules.with_severities(
            {code: Severity.parse(label) for code, label in values.get("severity", {}).items()}
        ),
    )


def _top_level(key: Key, value: Any, where: str, rules: RuleSet) -> Any:
    """A top-level key's value, checked and converted."""
    ok, converted = _coerce(key.type, value)
    if not ok:
        raise ConfigError(f"{where}: `{key.name}` must be {_type_name(key.type)}, got {value!r}")
    return converted if key.check is None else key.check(where, key.name, converted, rules)


def _build_section(kind: type[Any], value: Any, where: str, key: str) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{TABLE}.{key}` must be a table")
    return _build(kind, value, where, f"{key}.")


# Guidance is a short note per path, not a second prompt: bounded, each text and their number.
MAX_GUIDANCE_TEXT = 500
MAX_GUIDANCE_ENTRIES = 50

_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")


def capped(llm: LlmSettings) -> LlmSettings:
    """A config file's llm settings with what a run may spend held to the defaults: the file may
    come with the code under review (a pull request can edit it), so it may ask for less, never
    more. The command line and the environment are the user's and are applied after this."""
    defaults = LlmSettings()
    return dataclasses.replace(
        llm, **{name: min(getattr(llm, name), getattr(defaults, name)) for name in llm.SPENDING}
    )


def check_llm(llm: LlmSettings, where: str) -> None:
    check_severity(where, "llm.min-severity", llm.min_severity)
    for name in (
        "max_output_tokens",
        "concurrency",
        "max_files",
        "max_input_tokens",
        "max_run_tokens",
    ):
        if getattr(llm, name) < 1:
            raise ConfigError(f"{where}: `llm.{_kebab(name)}` must be at least 1")
    for name in ("timeout", "deadline"):
        if getattr(llm, name) <= 0:
            raise ConfigError(f"{where}: `llm.{name}` must be a positive number of seconds")
    if llm.context_tokens < 0:
        raise ConfigError(f"{where}: `llm.context-tokens` must be at least 0 (0: no context)")
    _check_guidance(llm.guidance, where)
    # A language tag, not free text: the value goes into the model's instructions, and a
    # repository's config must not be able to write those.
    if llm.language and not _LANGUAGE_TAG.fullmatch(llm.language):
        raise ConfigError(
            f"{where}: `llm.language` must be a language tag such as zh, ja or pt-BR, "
            f"got {llm.language!r}"
        )


def _check_guidance(guidance: Mapping[str, object], where: str) -> None:
    if len(guidance) > MAX_GUIDANCE_ENTRIES:
        raise ConfigError(
            f"{where}: `llm.guidance` has {len(guidance)} entries; at most {MAX_GUIDANCE_ENTRIES}"
        )
    for glob, text in guidance.items():
        key = f"llm.guidance.{glob!r}"
        if not isinstance(text, str):
            raise ConfigError(f"{where}: `{key}` must be a string, got {text!r}")
        if not text.strip() or len(text) > MAX_GUIDANCE_TEXT:
            raise ConfigError(
                f"{where}: `{key}` must be a short text: 1 to {MAX_GUIDANCE_TEXT} characters, "
                f"got {len(text)}"
            )
        _check_pattern(where, "llm.guidance", glob)


def _check_pattern(where: str, key: str, pattern: str) -> None:
    try:
        pathspec.PathSpec.from_lines("gitignore", [pattern])
    except ValueError as error:  # `!` alone, a lone trailing backslash
        message = f"{where}: `{key}`: {pattern!r} is not a gitignore pattern ({error})"
        raise ConfigError(message) from None


def settings_from_toml(text: str, where: str = "<config>", rules: RuleSet = BUILTIN) -> Settings:
    """Settings from the body of a `[tool.pyarch-lint]` table (used by tests and fixtures)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: invalid TOML: {error}") from None
    return settings_from_table(document, where, rules=rules)


def _document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _table_of(document: Mapping[str, Any]) -> dict[str, Any] | None:
    tool = document.get("tool")
    table = tool.get("pyarch-lint") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _load(path: Path, rules: RuleSet) -> Settings:
    """Settings from `--config FILE`: a pyproject.toml, or a dedicated file (pyarch-lint.toml)
    holding the table's keys at top level."""
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    document = _document(path)
    table = _table_of(document)
    if table is None:
        table = {} if path.name == "pyproject.toml" else document
    return settings_from_table(table, str(path), config_path=path.resolve(), rules=rules)


def settings_of(
    folders: Sequence[Path],
    config: Path | None,
    cwd: Path,
    rules: RuleSet = BUILTIN,
    nearest: dict[Path, Settings | None] | None = None,
) -> list[Settings]:
    """The settings of each folder (absolute): those of `config` when one is named; else of the
    nearest pyproject.toml with a `[tool.pyarch-lint]` table at the folder or above it, as ruff
    finds them; else the working folder's, found the same way; else the defaults, rooted at the
    project root. Folders that share a file share one Settings: each file met on the way up is
    read, parsed and validated once (invalid TOML there is an error, as it is for ruff); a
    caller asking again passes the same `nearest`, which remembers every folder's answer."""
    if config is not None:
        return [_load(config, rules)] * len(folders)
    if nearest is None:
        nearest = {}
    fallback = None
    result = []
    for folder in folders:
        settings = _nearest(folder, nearest, rules)
        if settings is None:
            fallback = fallback or _nearest(cwd, nearest, rules) or _defaults(cwd, rules)
            settings = fallback
        result.append(settings)
    return result


def _nearest(start: Path, nearest: dict[Path, Settings | None], rules: RuleSet) -> Settings | None:
    """The settings of the nearest pyproject.toml with the table; `nearest` remembers the
    answer for every folder walked."""
    walked = []
    found = None
    for folder in (start, *start.parents):
        if folder in nearest:
            found = nearest[folder]
            break
        walked.append(folder)
        candidate = folder / "pyproject.toml"
        table = _table_of(_document(candidate)) if candidate.is_file() else None
        if table is not None:
            found = settings_from_table(
                table, str(candidate), config_path=candidate.resolve(), rules=rules
            )
            break
    nearest.update(dict.fromkeys(walked, found))
    return found


def _defaults(cwd: Path, rules: RuleSet) -> Settings:
    return dataclasses.replace(Settings.default(rules), root=_project_root(cwd))


def load_settings(config: Path | None, cwd: Path, rules: RuleSet = BUILTIN) -> Settings:
    """The settings of the working folder `cwd` (see `settings_of`)."""
    [settings] = settings_of([cwd], config, cwd, rules)
    return settings


def _project_root(cwd: Path) -> Path:
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return cwd
