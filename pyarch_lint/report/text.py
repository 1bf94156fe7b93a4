"""Text for people: ruff's shape, `path:line:col: CODE message`, sorted, with the source line
and a caret under the span (or one line per finding with `concise`), then the critiques."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from itertools import groupby

import click

from pyarch_lint.findings import Critique, Finding, Severity
from pyarch_lint.report import Outcome, one_line, sanitize

_COLOUR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def use_colour() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _style(text: str, colour: bool, **style: object) -> str:
    return click.style(text, **style) if colour else text  # type: ignore[arg-type]


def _headline(f: Finding, colour: bool) -> str:
    where = _style(f"{one_line(f.path)}:{f.line}:{f.column}:", colour, bold=True)
    code = _style(f.code, colour, fg=_COLOUR[f.severity], bold=True)
    return f"{where} {code} {one_line(f.message)}"


@functools.lru_cache(maxsize=64)
def _source_lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return ()
    return tuple(data.decode("utf-8", "replace").splitlines())


def _snippet(f: Finding, colour: bool) -> Iterator[str]:
    lines = _source_lines(f.path)
    if not 0 < f.line <= len(lines) or f.code == "PA002":
        return
    text = sanitize(lines[f.line - 1].expandtabs(4)).rstrip()
    width = len(str(f.line))
    gutter = _style(f"{' ' * width} |", colour, fg="blue")
    yield gutter
    yield _style(f"{f.line} |", colour, fg="blue") + f" {text}"
    end = f.end_column if f.end_line == f.line else len(text) + 1
    carets = "^" * max(1, min(end, len(text) + 1) - f.column)
    yield gutter + " " + " " * (f.column - 1) + _style(carets, colour, fg=_COLOUR[f.severity])
    yield ""


def _critique_lines(critique: Critique, colour: bool) -> Iterator[str]:
    head = _style(f"{one_line(critique.path)}: architecture review", colour, bold=True)
    cached = " (cached)" if critique.cached else ""
    yield f"{head} by {one_line(critique.model)}{cached}"
    yield f"  {one_line(critique.summary)}"
    if critique.note:
        yield f"  note: {one_line(critique.note)}"
    for item in critique.items:
        lines = f"{item.line}" if item.end_line == item.line else f"{item.line}-{item.end_line}"
        label = _style(item.severity.label, colour, fg=_COLOUR[item.severity])
        yield f"  {critique.path}:{lines}: {label} [{one_line(item.principle)}]"
        yield f"    {one_line(item.problem)}"
        yield f"    suggestion: {one_line(item.suggestion)}"


def _render(outcome: Outcome, full: bool) -> str:
    colour = use_colour()
    critiques = {c.path: c for c in outcome.critiques}
    out: list[str] = []
    shown: set[str] = set()
    for path, group in groupby(outcome.findings, key=lambda f: f.path):
        for finding in group:
            out.append(_headline(finding, colour))
            if full:
                out.extend(_snippet(finding, colour))
        if path in critiques:
            out.extend(_critique_lines(critiques[path], colour))
            shown.add(path)
    for critique in outcome.critiques:
        if critique.path not in shown:
            out.extend(_critique_lines(critique, colour))
    for skipped in outcome.not_reviewed:
        out.append(f"{one_line(skipped.path)}: not reviewed: {one_line(skipped.reason)}")
    return "".join(line + "\n" for line in out)


def render(outcome: Outcome) -> str:
    return _render(outcome, full=True)


def render_concise(outcome: Outcome) -> str:
    return _render(outcome, full=False)


def summary_line(outcome: Outcome) -> str:
    if not outcome.findings:
        return f"All checks passed: {outcome.files} files, no findings."
    files = len({f.path for f in outcome.findings})
    plural = "finding" if len(outcome.findings) == 1 else "findings"
    return f"Found {len(outcome.findings)} {plural} in {files} of {outcome.files} files."
