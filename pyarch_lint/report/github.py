"""GitHub Actions: workflow commands, shown as inline annotations on a pull request, and the
model's critiques as Markdown for the job's step summary.

Paths are relative to the repository root, where the runner looks for them, whatever folder
the run started in. Everything interpolated is escaped as the runner expects, so a file name or
a model's answer cannot end the annotation and start a command of its own, and it is literal
Markdown in the summary (see `report.markdown`).

GitHub shows only so many annotations of a step (ten of each level, fifty in all), so they come
in the order that puts what matters first: errors, then the critique's items and the warnings,
then the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import quote

from pyarch_lint.findings import Critique, CritiqueItem, Finding, Severity
from pyarch_lint.report import Outcome, counted, path_uri, sanitize
from pyarch_lint.report import markdown as md

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    # Control characters are escaped first (`sanitize`): the runner prints the line in the
    # job's log, where a raw escape sequence would restyle or hide what follows.
    return sanitize(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _finding(f: Finding, outcome: Outcome) -> str:
    title = _property(f"{f.code} {f.name}")
    props = (
        f"file={_property(outcome.root_path(f.path))},line={f.line},col={f.column},"
        f"endLine={f.end_line},endColumn={f.end_column},title={title}"
    )
    return f"::{_LEVEL[f.severity]} {props}::{_data(f.code + ' ' + f.message)}"


def _item(item: CritiqueItem, path: str) -> str:
    props = (
        f"file={_property(path)},line={item.line},endLine={item.end_line},"
        f"title={_property('Architecture: ' + item.principle)}"
    )
    text = f"{item.problem}\n\nSuggestion: {item.suggestion}"
    if item.example:
        text += f"\n\nExample:\n{item.example}"
    return f"::{_LEVEL[item.severity]} {props}::{_data(text)}"


def render(outcome: Outcome) -> str:
    errors: list[str] = []
    warnings: list[str] = []
    rest: list[str] = []
    for f in outcome.findings:
        if f.severity is Severity.ERROR:
            errors.append(_finding(f, outcome))
        elif f.severity is Severity.WARNING:
            warnings.append(_finding(f, outcome))
        else:
            rest.append(_finding(f, outcome))
    items = [
        _item(item, outcome.root_path(critique.path))
        for critique in outcome.critiques
        for item in critique.items
    ]
    return "".join(line + "\n" for line in [*errors, *items, *warnings, *rest])


def blob_url(environment: Mapping[str, str]) -> str | None:
    """Where the files of the commit a workflow runs on are shown (`https://github.com/o/r/blob/
    <sha>/`), from the variables GitHub Actions sets; None outside a workflow."""
    server = environment.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = environment.get("GITHUB_REPOSITORY", "")
    sha = environment.get("GITHUB_SHA", "")
    if not (server.startswith(("https://", "http://")) and repository and sha):
        return None
    return f"{quote(server, safe=':/')}/{quote(repository)}/blob/{quote(sha)}/"


def step_summary(outcome: Outcome, base: str | None) -> str:
    """The critiques as Markdown for `$GITHUB_STEP_SUMMARY`, each line a link to the file at the
    commit under `base` (see `blob_url`), or relative to the repository root without one; empty
    when there is nothing to say."""
    if not outcome.critiques and not outcome.not_reviewed:
        return ""
    reviewed = counted(len(outcome.critiques), "file")
    parts = [f"## pyarch-lint: architecture review ({reviewed} reviewed)"]
    for critique in outcome.critiques:
        parts.extend(_critique(critique, outcome.root_path(critique.path), base or ""))
    if outcome.not_reviewed:
        parts.append("### Not reviewed")
        parts.append(
            "\n".join(
                f"- {md.text(outcome.root_path(n.path))}: {md.text(n.reason)}"
                for n in outcome.not_reviewed
            )
        )
    return "\n\n".join(parts) + "\n"


def _critique(critique: Critique, path: str, base: str) -> Iterator[str]:
    url = base + path_uri(path)
    cached = ", cached" if critique.cached else ""
    yield f"### [{md.text(path)}]({url})"
    yield f"*Reviewed by {md.text(critique.model)}{cached}.*"
    yield md.paragraphs(critique.summary)
    if critique.note:
        yield f"*Note: {md.text(critique.note)}*"
    for item in critique.items:
        span = f"L{item.line}" if item.line == item.end_line else f"L{item.line}-L{item.end_line}"
        where = (
            f"line {item.line}"
            if item.line == item.end_line
            else f"lines {item.line}-{item.end_line}"
        )
        yield f"#### [{where}]({url}#{span}) ({item.severity.label}): {md.text(item.principle)}"
        yield md.paragraphs(item.problem)
        yield f"**Suggestion:** {md.text(item.suggestion)}"
        if item.example:
            yield md.code_block(item.example)
    yield from md.closing_lists(critique)
