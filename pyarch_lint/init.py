"""`pyarch-lint init`: add a `[tool.pyarch-lint]` table to pyproject.toml, every default written
out with a comment saying what it does.

The user's file is never re-serialised: the new table, rendered by tomlkit, is appended after the
last byte, so every existing line stays byte-identical (comments, order, odd spacing, line
endings). The result is parsed and validated before anything is written. With `--force` an
existing table is replaced through tomlkit's round-trip, which keeps the rest of the file.
"""

from __future__ import annotations

import dataclasses
import textwrap
import typing
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from pyarch_lint.checks.options import option_help
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import (
    LlmSettings,
    Settings,
    settings_from_table,
    table_type,
    top_level_keys,
)
from pyarch_lint.errors import LintError

_LLM_COMMENTS = {
    "enabled": '"auto": escalate when ANTHROPIC_API_KEY is set; false: never contact the model.',
    "model": "The Claude model that writes the architectural critique.",
    "max-output-tokens": "Upper bound on the length of one critique, in tokens.",
    "concurrency": "Files reviewed at the same time.",
    "timeout": "Seconds one request attempt may take (failed attempts are retried).",
    "deadline": "Seconds the whole escalation may take; files not reviewed by then are listed.",
    "max-files": "Most flagged files sent to the model in one run, most serious first.",
    "min-severity": 'Least severe finding that gets a file reviewed: "info", "warning" or "error".',
    "max-input-tokens": "Largest prompt; a bigger file is cut to its flagged functions.",
    "language": 'Language of the critique\'s prose as a tag, e.g. "zh"; "" for English.',
    "max-run-tokens": "Most tokens one run may spend (input and output, estimated before"
    " sending). Here, like max-files, max-output-tokens, concurrency and deadline, it can only"
    " be lowered; --llm-max-run-tokens or PYARCH_LINT_MAX_RUN_TOKENS raises it.",
    "context-tokens": "Most tokens of the project around a flagged file sent with it: outlines of"
    " the modules it imports, the modules importing it, project findings involving it (0: none).",
    "guidance": "The project's review guidance: globs to short texts sent with matching files,"
    ' e.g. "app/domain/**" = "pure domain logic: no I/O, no framework imports".',
}


class InitError(LintError):
    """`init` cannot do what was asked (exit 2)."""


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _comment_lines(text: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=96, break_on_hyphens=False)


def _add(table: Table, key: str, value: Any, comment: str) -> None:
    for line in _comment_lines(comment):
        table.add(tomlkit.comment(line))
    table.add(key, value)


def _plain(value: Any) -> Any:
    """TOML has no tuples; a mapping stays inline, on the line its comment is about."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        inline.update(value)
        return inline
    return value


def _llm_table(defaults: LlmSettings) -> Table:
    """`[tool.pyarch-lint.llm]` with every default; `guidance`, a table, empty and last."""
    llm = tomlkit.table()
    llm.add(tomlkit.comment("The architectural critique of flagged files by a Claude model."))
    for field in dataclasses.fields(LlmSettings):
        key = _kebab(field.name)
        value = getattr(defaults, field.name)
        if not isinstance(value, dict):
            _add(llm, key, value, _LLM_COMMENTS[key])
    guidance = tomlkit.table()
    for line in _comment_lines(_LLM_COMMENTS["guidance"]):
        guidance.add(tomlkit.comment(line))
    llm.add("guidance", guidance)
    return llm


def default_table(rules: RuleSet) -> Table:
    """`[tool.pyarch-lint]` holding every default, each with a comment."""
    defaults = Settings.default(rules)
    table = tomlkit.table()
    table.add(tomlkit.comment("pyarch-lint: every key below is at its default value."))
    table.add(tomlkit.comment('Run only some rules: select = ["PA1", "PA3"] (replaces defaults).'))
    keys = [entry for entry in top_level_keys().values() if entry.in_init]
    for entry in keys:
        if not isinstance(entry.default, dict):
            _add(table, entry.name, _plain(entry.default), entry.help)
    for entry in keys:  # a table (per-file-ignores): empty, after the plain keys, its help inside
        if isinstance(entry.default, dict):
            entries = tomlkit.table()
            for line in _comment_lines(entry.help):
                entries.add(tomlkit.comment(line))
            table.add(entry.name, entries)

    llm = _llm_table(defaults.llm)
    table.add(LlmSettings.SECTION, llm)

    for section, kind in sorted(rules.option_types().items()):
        table.add(section, _options_table(defaults.rule_options[kind]))
    return table


def _options_table(instance: Any) -> Table:
    """A rule-options section, every key at its default with its help."""
    options = tomlkit.table()
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        comment = option_help(field) or "See `pyarch-lint rules`."
        if table_type(hints[field.name]) is not None:
            # An array of tables (contracts): `key = []` here would make the user's own
            # `[[...key]]` tables a TOML error, so the key is only described.
            for line in _comment_lines(f"{comment} (`{_kebab(field.name)}`: none)"):
                options.add(tomlkit.comment(line))
            continue
        _add(options, _kebab(field.name), _plain(getattr(instance, field.name)), comment)
    return options


def render_table(rules: RuleSet) -> str:
    document = tomlkit.document()
    tool = tomlkit.table(is_super_table=True)
    tool.add("pyarch-lint", default_table(rules))
    document.add("tool", tool)
    return tomlkit.dumps(document)


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _has_table(text: str, path: Path) -> bool:
    try:
        tool = tomlkit.parse(text).unwrap().get("tool", {})
    except tomlkit.exceptions.ParseError as error:
        raise InitError(f"{path}: invalid TOML, fix it first: {error}") from None
    return isinstance(tool, dict) and "pyarch-lint" in tool


def _appended(text: str, rules: RuleSet) -> str:
    newline = _newline_of(text)
    table = render_table(rules).replace("\n", newline)
    if not text:
        return table
    separator = newline if text.endswith(("\n", "\r")) else newline * 2
    return text + separator + table


def _replaced(text: str, path: Path, rules: RuleSet) -> str:
    document = tomlkit.parse(text)
    tool = document["tool"]
    if not isinstance(tool, Table):  # `tool = { ... }`: an inline table holds no [tables]
        raise InitError(
            f"{path}: `tool` is an inline table; replace [tool.pyarch-lint] by hand, "
            "as `pyarch-lint init --print` shows"
        )
    tool["pyarch-lint"] = default_table(rules)
    return tomlkit.dumps(document)


def init_pyproject(path: Path, force: bool, rules: RuleSet) -> str:
    """Add (or with `force` replace) the table in `path`, creating the file if needed, with
    the options of `rules` (the plugins' included). Returns what was done, in one line."""
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise InitError(f"{path}: cannot read: {error}") from None
    exists = _has_table(text, path)
    if exists and not force:
        raise InitError(
            f"{path} already has a [tool.pyarch-lint] table; "
            "pass --force to replace it with the defaults"
        )
    updated = _replaced(text, path, rules) if exists else _appended(text, rules)
    try:
        table = tomlkit.parse(updated).unwrap()["tool"]["pyarch-lint"]
    except (tomlkit.exceptions.ParseError, KeyError) as error:
        raise InitError(
            f"{path}: cannot add [tool.pyarch-lint] to this file ({error}); add it by hand, "
            "as `pyarch-lint init --print` shows"
        ) from None
    settings_from_table(
        table, str(path), rules=rules
    )  # what we write must load: a bug here, not the user's
    try:
        path.write_bytes(updated.encode("utf-8"))
    except OSError as error:
        raise InitError(f"{path}: cannot write: {error.strerror}") from None
    if exists:
        return f"replaced [tool.pyarch-lint] in {path} with the defaults"
    return f"{'added [tool.pyarch-lint] to' if text else 'created'} {path}"
