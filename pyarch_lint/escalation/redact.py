"""Take secrets out of what is sent to the model, keeping every line where it was.

What is a secret is decided by `pyarch_lint.secrets` (the same detector PA607 reports from):
here each one becomes `<redacted:KIND>`, its line breaks kept, so line numbers hold. A `# noqa`
silences PA607's finding, never this: every secret found is taken out. Finding messages and
other text sent with the file go through `redact_text`, which applies the same text patterns
and removes every value the source's redaction took out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyarch_lint.secrets import Secret, Untokenizable, find_in_text, find_secrets

__all__ = ["Redacted", "Untokenizable", "redact", "redact_text"]


@dataclass(frozen=True, slots=True)
class Redacted:
    """The text to send, how many secrets were taken out, and what they were (to take the same
    values out of other text sent with it)."""

    text: str
    count: int
    secrets: tuple[str, ...] = ()


def redact(source: str) -> Redacted:
    """`source` (Python) with every secret replaced; raises Untokenizable."""
    return _apply(source, find_secrets(source))


def redact_text(text: str, secrets: Iterable[str] = ()) -> Redacted:
    """Free text (a finding message, a path) with every secret replaced, and every occurrence
    of the values already taken out of the source."""
    return _apply(text, find_in_text(text, secrets))


def _apply(text: str, found: Sequence[Secret]) -> Redacted:
    """Replace each secret's spans (none overlap), keeping every line break, with the backslash
    that continues a one-line string across it."""
    spans = sorted((start, end, secret.kind) for secret in found for start, end in secret.spans)
    out: list[str] = []
    values: list[str] = []
    position = 0
    for start, end, kind in spans:
        value = text[start:end]
        out.append(text[position:start])
        out.append(f"<redacted:{kind}>" + "".join(_LINE_BREAK.findall(value)))
        values.append(value.strip())
        position = end
    out.append(text[position:])
    return Redacted("".join(out), len(found), tuple(values))


_LINE_BREAK = re.compile(r"\\?(?:\r\n|\r|\n)")
