"""`--explain`: prose a person can act on, grouped by file.

For each rule that fired in a file: where, then why it matters and how to fix it, taken from the
rule documents (so it works with no API key at all). Then the model's critique when there is one,
or the reason there is none.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from itertools import groupby

from pyarch_lint.catalogue import RuleDoc, load_catalogue
from pyarch_lint.findings import Critique, CritiqueItem, Finding, NotReviewed
from pyarch_lint.report import one_line, sanitize

_WIDTH = 100


def render_explain(
    findings: Sequence[Finding],
    critiques: Sequence[Critique],
    not_reviewed: Sequence[NotReviewed],
) -> str:
    by_path = {p: list(g) for p, g in groupby(sorted(findings), key=lambda f: f.path)}
    reviews = {c.path: c for c in critiques}
    skipped = {n.path: n.reason for n in not_reviewed}
    paths = sorted({*by_path, *reviews, *skipped})
    if not paths:
        return "No findings: nothing to explain.\n"
    catalogue = load_catalogue()
    blocks: list[str] = []
    for path in paths:
        # "File: " first: a line may never start with text an attacker chose (a file named
        # `::warning::x.py` would be a GitHub workflow command).
        lines = [f"File: {one_line(path)}", ""]
        lines.extend(_findings(by_path.get(path, []), catalogue))
        if path in reviews:
            lines.extend(_critique(reviews[path]))
        if path in skipped:
            lines.append(f"Not reviewed by the model: {one_line(skipped[path])}")
            lines.append("")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _findings(findings: list[Finding], catalogue: dict[str, RuleDoc]) -> Iterator[str]:
    order = sorted(
        {f.code for f in findings}, key=lambda c: min(f.line for f in findings if f.code == c)
    )
    for code in order:
        group = [f for f in findings if f.code == code]
        first = group[0]
        yield f"{code} {first.name} ({first.severity.label})"
        for f in group:
            yield f"  line {f.line}: {one_line(f.message)}"
        doc = catalogue.get(code)
        if doc is not None:
            yield from _section("Why it matters", _why(doc))
            yield from _section("How to fix", doc.sections.get("How to fix", ""))
        yield ""


def _why(doc: RuleDoc) -> str:
    """The "Why is this bad?" text without its severity line (shown in the heading already)."""
    text = doc.sections.get("Why is this bad?", "")
    return "\n".join(line for line in text.splitlines() if not line.startswith("Severity:"))


def _section(title: str, text: str) -> Iterator[str]:
    body = text.strip()
    if body:
        yield f"  {title}:"
        yield textwrap.indent(body, "    ")


def _critique(critique: Critique) -> Iterator[str]:
    cached = ", cached" if critique.cached else ""
    yield f"Architectural review ({one_line(critique.model)}{cached})"
    yield _prose(critique.summary, "  ")
    if critique.note:
        yield _prose(f"Note: {critique.note}", "  ")
    for item in critique.items:
        yield ""
        yield from _item(item)
    if critique.dropped_items:
        yield ""
        yield f"  ({critique.dropped_items} invalid items of the answer were dropped)"
    yield ""


def _item(item: CritiqueItem) -> Iterator[str]:
    where = (
        f"line {item.line}" if item.line == item.end_line else f"lines {item.line}-{item.end_line}"
    )
    yield f"  {where} ({item.severity.label}): {one_line(item.principle)}"
    yield _prose(f"Problem: {item.problem}", "    ")
    yield _prose(f"Suggestion: {item.suggestion}", "    ")
    if item.example:
        yield "    Example:"
        yield textwrap.indent(sanitize(item.example), "        ")


def _prose(text: str, indent: str) -> str:
    """Model prose, wrapped paragraph by paragraph (it often arrives as one long line)."""
    paragraphs = sanitize(text).split("\n")
    return "\n".join(
        textwrap.fill(p, _WIDTH, initial_indent=indent, subsequent_indent=indent)
        if p.strip()
        else ""
        for p in paragraphs
    )
