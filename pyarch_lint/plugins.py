"""Rule plugins: installed distributions that add rules through the entry-point group
`pyarch_lint.rules`, one entry point per rule class:

    [project.entry-points."pyarch_lint.rules"]
    ACME101 = "acme_lint.rules:NoPrint"

A plugin's rule declares itself like ours (`checks.base.Rule`) and is selected, suppressed,
cached and reported like ours. Its code must not start with `PA` (reserved for pyarch-lint), nor
take another rule's code or name, nor letters that begin another's (`ACME` and `ACMEX`), nor
its options another's section: any of these, or a class that cannot be loaded, is a
`PluginError` naming the distribution (exit 2). Rule classes are
imported only when some distribution declares the group: with no plugin installed, this module
reads installed metadata and imports no rule, nor LibCST.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import re
from typing import TYPE_CHECKING, Any

from pyarch_lint.checks.registry import BUILTIN, CODE, RuleInfo, RuleSet, letters
from pyarch_lint.config import ConfigError, Settings
from pyarch_lint.findings import Severity

if TYPE_CHECKING:
    from pyarch_lint.checks.base import Rule

GROUP = "pyarch_lint.rules"
RESERVED_PREFIX = "PA"
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class PluginError(ConfigError):
    """A plugin that cannot be used as it is; the CLI prints it and exits 2."""


def load_rule_set() -> RuleSet:
    """The built-in rules and every installed plugin's. Called once per run."""
    entry_points = importlib.metadata.entry_points(group=GROUP)
    if not entry_points:
        return BUILTIN
    rules = dict(BUILTIN.by_code)
    # Section -> its options class; the settings' own keys are taken.
    sections: dict[str, type[Any] | None] = dict.fromkeys(
        _kebab(field.name) for field in dataclasses.fields(Settings)
    )
    sections.update(BUILTIN.option_types())
    plugins: set[str] = set()
    for entry_point in sorted(entry_points, key=lambda ep: (_distribution(ep), ep.name)):
        plugin = _distribution(entry_point)
        where = f"plugin {plugin}: entry point {entry_point.name} = {entry_point.value!r}"
        info = _rule_info(entry_point, plugin, where)
        for known in rules.values():
            if info.code == known.code or info.name == known.name:
                what = "code" if info.code == known.code else "name"
                raise PluginError(
                    f"{where}: rule {info.code} ({info.name}) takes the {what} of "
                    f"{known.code} ({known.name}) from {known.plugin or 'pyarch-lint'}"
                )
            # Selectors, noqa and per-file-ignores match by prefix: `ACME` must not cover `ACMEX1`.
            mine, theirs = letters(info.code), letters(known.code)
            if mine != theirs and (mine.startswith(theirs) or theirs.startswith(mine)):
                raise PluginError(
                    f"{where}: the letters of {info.code} and of {known.code} (from "
                    f"{known.plugin or 'pyarch-lint'}) start alike, so one's prefix would select "
                    "the other's rules; choose other letters"
                )
        kind = info.options_type
        if kind is not None:
            section = _section(kind, where)
            if sections.setdefault(section, kind) is not kind:
                raise PluginError(
                    f"{where}: the options section `{section}` is already a key of "
                    "[tool.pyarch-lint]"
                )
        rules[info.code] = info
        plugins.add(plugin)
    return RuleSet(rules, tuple(sorted(plugins)))


def _distribution(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = entry_point.dist
    return f"{dist.name} {dist.version}" if dist is not None else "(unnamed distribution)"


def _rule_class(entry_point: importlib.metadata.EntryPoint, where: str) -> type[Rule]:
    """The entry point's class, a `Rule` whose hooks the walker honours."""
    try:
        rule = entry_point.load()
    except Exception as error:  # whatever importing third-party code raises
        raise PluginError(f"{where}: cannot load: {type(error).__name__}: {error}") from None
    # LibCST: only once a plugin is installed.
    from pyarch_lint.checks.base import InvalidRuleError, Rule, rule_hooks

    if not (inspect.isclass(rule) and issubclass(rule, Rule)):
        raise PluginError(f"{where}: not a subclass of pyarch_lint.checks.base.Rule")
    try:
        rule_hooks(rule)  # a hook the walker would not honour is refused now, not mid-run
    except InvalidRuleError as error:
        raise PluginError(f"{where}: {error}") from None
    return rule


def _rule_info(entry_point: importlib.metadata.EntryPoint, plugin: str, where: str) -> RuleInfo:
    rule = _rule_class(entry_point, where)
    code = getattr(rule, "CODE", None)
    name = getattr(rule, "NAME", None)
    severity = getattr(rule, "SEVERITY", None)
    if not (isinstance(code, str) and CODE.fullmatch(code)):
        raise PluginError(f"{where}: CODE must be letters then digits like ACME101, got {code!r}")
    if code.startswith(RESERVED_PREFIX):
        raise PluginError(
            f"{where}: code {code} starts with {RESERVED_PREFIX}, which pyarch-lint reserves "
            "for its own rules; choose other letters"
        )
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise PluginError(f"{where}: NAME must be kebab-case like no-print, got {name!r}")
    if not isinstance(severity, Severity):
        raise PluginError(f"{where}: SEVERITY must be a pyarch_lint.findings.Severity")
    if not isinstance(rule.DEFAULT_ENABLED, bool):
        raise PluginError(f"{where}: DEFAULT_ENABLED must be True or False")
    # The class's own docstring: `inspect.getdoc` would fall back to the base class's.
    doc = rule.DOC if rule.DOC is not None else inspect.cleandoc(rule.__doc__ or "")
    return dataclasses.replace(RuleInfo.of(rule, plugin), doc=doc or None)


def _section(kind: Any, where: str) -> str:
    section = getattr(kind, "SECTION", None)
    if not (
        dataclasses.is_dataclass(kind) and isinstance(section, str) and _NAME.fullmatch(section)
    ):
        raise PluginError(f"{where}: OPTIONS must be a dataclass with a kebab-case SECTION")
    return section


def _kebab(name: str) -> str:
    return name.replace("_", "-")
