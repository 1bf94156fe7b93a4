"""GitHub Actions workflow commands: inline annotations on a pull request.

Paths are relative to the repository root, where the runner looks for them, whatever folder
the run started in. Everything interpolated is escaped as the runner expects, so a file name or
a model's answer cannot end the annotation and start a command of its own.
"""

from __future__ import annotations

from pyarch_lint.findings import Severity
from pyarch_lint.report import Outcome, sanitize

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    # Control characters are escaped first (`sanitize`): the runner prints the line in the
    # job's log, where a raw escape sequence would restyle or hide what follows.
    return sanitize(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(outcome: Outcome) -> str:
    lines = []
    for f in outcome.findings:
        title = _property(f"{f.code} {f.name}")
        props = (
            f"file={_property(outcome.root_path(f.path))},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={title}"
        )
        lines.append(f"::{_LEVEL[f.severity]} {props}::{_data(f.code + ' ' + f.message)}")
    for critique in outcome.critiques:
        for item in critique.items:
            props = (
                f"file={_property(outcome.root_path(critique.path))},"
                f"line={item.line},endLine={item.end_line},"
                f"title={_property('Architecture: ' + item.principle)}"
            )
            text = f"{item.problem}\n\nSuggestion: {item.suggestion}"
            lines.append(f"::notice {props}::{_data(text)}")
    return "".join(line + "\n" for line in lines)
