"""Markdown for the places that render it (GitHub's step summary, SARIF's `message.markdown`),
where the model's text is data: it shows as written, never as markup, HTML, a link or an image,
and code is fenced so that nothing in it can close the block and go on as Markdown."""

from __future__ import annotations

import re

from pyarch_lint.findings import Critique
from pyarch_lint.report import one_line, sanitize

# Every ASCII punctuation character: CommonMark lets a backslash make each one literal, which
# takes the meaning out of emphasis, links, images, raw HTML, entities, code spans, headings,
# lists, quotes, tables and math alike.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BACKTICKS = re.compile(r"`+")


def text(value: str) -> str:
    """Untrusted text as one line of literal Markdown (a line break would end a heading or a
    list item and start something else)."""
    return _PUNCTUATION.sub(r"\\\1", one_line(value))


def paragraphs(value: str) -> str:
    """Untrusted prose, each of its lines a paragraph of literal Markdown."""
    return "\n\n".join(text(line) for line in value.splitlines() if line.strip())


def code_block(code: str) -> str:
    """Python `code` fenced, to stand at the start of a line: the fence is longer than any run
    of backticks in the code, so no line of it closes the block; inside, Markdown and HTML mean
    nothing."""
    longest = max((len(run) for run in _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{sanitize(code).rstrip()}\n{fence}"


def closing_lists(critique: Critique) -> list[str]:
    """The critique's trade-offs, testing and monitoring, each a titled list of literal text;
    nothing for an empty one."""
    return [
        f"**{title}**\n\n" + "\n".join(f"- {text(point)}" for point in points)
        for title, points in (
            ("Trade-offs", critique.trade_offs),
            ("Testing", critique.testing),
            ("Monitoring", critique.monitoring),
        )
        if points
    ]
