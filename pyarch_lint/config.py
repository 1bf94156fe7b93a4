"""`[tool.pyarch-lint]` -> typed, validated settings.

Three layers, as in ruff: raw TOML (tomlkit), validated against the dataclasses below (unknown
keys, wrong types and unknown rule codes are errors naming the file and the key), then resolved
with the command line on top. Every key has a consumer.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import pathspec
import tomlkit
import tomlkit.exceptions

from pyarch_lint.checks.registry import BUILTIN, RuleInfo, RuleSet
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


class ConfigError(Exception):
    """A configuration problem the user must fix; the CLI prints it and exits 2."""


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """`[tool.pyarch-lint.llm]`. The endpoint and key come from the environment only, never
    from a repository's config, so a hostile repository cannot redirect code or secrets."""

    SECTION: ClassVar[str] = "llm"

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


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs, resolved. Plain values: it crosses the process pool."""

    select: tuple[str, ...] | None = None  # None: the rules that are on by default
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    respect_gitignore: bool = True
    file_timeout: float = 60.0
    rule_options: Mapping[type[Any], Any] = field(default_factory=dict)
    llm: LlmSettings = LlmSettings()
    config_path: Path | None = None
    root: Path = field(default_factory=Path.cwd)

    # Every rule this run knows, the plugins' included: how codes are selected and resolved.
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


def _default_options(rules: RuleSet) -> dict[type[Any], Any]:
    return {kind: kind() for kind in rules.option_types().values()}


def _kebab(name: str) -> str:
    return name.replace("_", "-")


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
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(expected))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(expected))
    return str(expected)


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
        ok, converted = _coerce(hints[fields[key]], value)
        if not ok:
            expected = _type_name(hints[fields[key]])
            raise ConfigError(f"{where}: `{prefix}{key}` must be {expected}, got {value!r}")
        values[fields[key]] = converted
    try:
        return kind(**values)
    except ValueError as error:  # an options class may validate its values in __post_init__
        raise ConfigError(f"{where}: `{prefix.rstrip('.')}`: {error}") from None


_TOP_LEVEL: dict[str, Any] = {
    "select": tuple[str, ...],
    "extend-select": tuple[str, ...],
    "ignore": tuple[str, ...],
    "exclude": tuple[str, ...],
    "extend-exclude": tuple[str, ...],
    "per-file-ignores": dict[str, Any],
    "respect-gitignore": bool,
    "file-timeout": float,
}


def settings_from_table(
    table: Mapping[str, Any],
    where: str = "<config>",
    config_path: Path | None = None,
    rules: RuleSet = BUILTIN,
) -> Settings:
    """Validate one `[tool.pyarch-lint]` table (plain Python values) into Settings."""
    sections = rules.option_types()
    raw: dict[str, Any] = {}
    options = _default_options(rules)
    llm = LlmSettings()
    for key, value in table.items():
        prefix = f"{TABLE}."
        if key == LlmSettings.SECTION:
            llm = _build_section(LlmSettings, value, where, key)
            check_llm(llm, where)
        elif key in sections:
            options[sections[key]] = _build_section(sections[key], value, where, key)
        elif key in _TOP_LEVEL:
            raw[key] = value
        else:
            known = ", ".join(sorted([*_TOP_LEVEL, LlmSettings.SECTION, *sections]))
            raise ConfigError(f"{where}: unknown key `{prefix}{key}` (known keys: {known})")
    checked = {key: _top_level(key, value, where, rules) for key, value in raw.items()}
    if checked.get("file-timeout", 1.0) <= 0:
        raise ConfigError(f"{where}: `file-timeout` must be a positive number of seconds")
    return Settings(
        select=checked.get("select"),
        extend_select=checked.get("extend-select", ()),
        ignore=checked.get("ignore", ()),
        exclude=checked.get("exclude", DEFAULT_EXCLUDE),
        extend_exclude=checked.get("extend-exclude", ()),
        per_file_ignores=checked.get("per-file-ignores", {}),
        respect_gitignore=checked.get("respect-gitignore", True),
        file_timeout=checked.get("file-timeout", 60.0),
        rule_options=options,
        llm=llm,
        config_path=config_path,
        root=config_path.parent if config_path is not None else Path.cwd(),
        rules=rules,
    )


def _top_level(key: str, value: Any, where: str, rules: RuleSet) -> Any:
    """A top-level key's value, checked and converted."""
    if key == "per-file-ignores":
        return _per_file_ignores(value, where, rules)
    ok, converted = _coerce(_TOP_LEVEL[key], value)
    if not ok:
        raise ConfigError(f"{where}: `{key}` must be {_type_name(_TOP_LEVEL[key])}, got {value!r}")
    if key in ("select", "extend-select", "ignore"):
        converted = check_selectors(where, key, converted, rules)
    if key in ("exclude", "extend-exclude"):
        for pattern in converted:
            _check_pattern(where, key, pattern)
    return converted


def _build_section(kind: type[Any], value: Any, where: str, key: str) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `{TABLE}.{key}` must be a table")
    return _build(kind, value, where, f"{key}.")


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")


def check_llm(llm: LlmSettings, where: str) -> None:
    try:
        Severity.parse(llm.min_severity)
    except ValueError as error:
        raise ConfigError(f"{where}: `llm.min-severity`: {error}") from None
    for name in ("max_output_tokens", "concurrency", "max_files", "max_input_tokens"):
        if getattr(llm, name) < 1:
            raise ConfigError(f"{where}: `llm.{_kebab(name)}` must be at least 1")
    for name in ("timeout", "deadline"):
        if getattr(llm, name) <= 0:
            raise ConfigError(f"{where}: `llm.{name}` must be a positive number of seconds")
    # A language tag, not free text: the value goes into the model's instructions, and a
    # repository's config must not be able to write those.
    if llm.language and not _LANGUAGE_TAG.fullmatch(llm.language):
        raise ConfigError(
            f"{where}: `llm.language` must be a language tag such as zh, ja or pt-BR, "
            f"got {llm.language!r}"
        )


def _check_pattern(where: str, key: str, pattern: str) -> None:
    try:
        pathspec.PathSpec.from_lines("gitignore", [pattern])
    except ValueError as error:  # `!` alone, a lone trailing backslash
        message = f"{where}: `{key}`: {pattern!r} is not a gitignore pattern ({error})"
        raise ConfigError(message) from None


def _per_file_ignores(value: Any, where: str, rules: RuleSet) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
    result: dict[str, tuple[str, ...]] = {}
    for glob, codes in value.items():
        key = f"per-file-ignores.{glob!r}"
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: `{key}` must be a list of rule codes, got {codes!r}")
        _check_pattern(where, "per-file-ignores", glob)
        result[glob] = check_selectors(where, key, tuple(codes), rules)
    return result


def settings_from_toml(text: str, where: str = "<config>", rules: RuleSet = BUILTIN) -> Settings:
    """Settings from the body of a `[tool.pyarch-lint]` table (used by tests and fixtures)."""
    try:
        document = tomlkit.parse(text).unwrap()
    except tomlkit.exceptions.ParseError as error:
        raise ConfigError(f"{where}: invalid TOML: {error}") from None
    return settings_from_table(document, where, rules=rules)


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a `[tool.pyarch-lint]` table, walking up from `start`."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _table_of(candidate) is not None:
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except tomlkit.exceptions.ParseError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    return document


def _table_of(path: Path) -> dict[str, Any] | None:
    tool = _read_toml(path).get("tool", {})
    table = tool.get("pyarch-lint") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def load_settings(config: Path | None, cwd: Path, rules: RuleSet = BUILTIN) -> Settings:
    """Settings from `--config FILE`, else from the nearest pyproject.toml, else defaults."""
    path = config if config is not None else find_config(cwd)
    if path is None:
        return dataclasses.replace(Settings.default(rules), root=_project_root(cwd))
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    document = _read_toml(path)
    if path.name == "pyproject.toml":
        table = _table_of(path) or {}
    else:  # a dedicated file: pyarch-lint.toml holds the table's keys at top level
        table = document.get("tool", {}).get("pyarch-lint", document)
    return settings_from_table(table, str(path), config_path=path.resolve(), rules=rules)


def _project_root(cwd: Path) -> Path:
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return cwd
