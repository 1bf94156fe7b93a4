"""Check every answer against the file before anyone sees it.

The model's answer is untrusted text: its line numbers must fall inside what it was shown, its
severity must be one we know, its texts are bounded, and every text is made inert for a terminal
and for a CI log (no escape sequences, no workflow commands). Invalid items are dropped and
counted. An answer with no usable tool call is `Unusable`, with the reason; so is an empty
one, which says nothing a reader could use: every item it gave was invalid, or it gave no item
and no summary worth the name. Either is worth the one re-ask, and never counts as a review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard

from pyarch_lint.escalation.prompt import (
    MAX_EXAMPLE,
    MAX_ITEMS,
    MAX_POINT,
    MAX_POINTS,
    MAX_PRINCIPLE,
    MAX_SUMMARY,
    MAX_TEXT,
    TOOL_NAME,
    FilePrompt,
)
from pyarch_lint.findings import Critique, CritiqueItem, Severity
from pyarch_lint.report import sanitize

# GitHub Actions runs `::command::` at the start of any log line (after leading blanks) and the
# older `##[command]` form anywhere in a line, whatever output format printed it.
_WORKFLOW_COMMAND = re.compile(r"^(\s*):(?=:)|##\[", re.MULTILINE)


# The file-level lists of an answer, beside its summary and items.
_POINT_LISTS = ("trade_offs", "testing", "monitoring")

# A summary shorter than this says nothing (`ok`, `n/a`, `LGTM`); with no item, no review.
_SUMMARY_WORDS = 3


@dataclass(frozen=True, slots=True)
class Unusable:
    """An answer that holds no critique, and why (worth one re-ask)."""

    reason: str


def clean(text: str) -> str:
    """Model text made inert: control characters escaped, workflow commands broken."""
    return _WORKFLOW_COMMAND.sub(_break_command, sanitize(text))


def _break_command(match: re.Match[str]) -> str:
    return "# #[" if match[1] is None else f"{match[1]}: "


def read_answer(message: object, prompt: FilePrompt, model: str) -> Critique | Unusable:
    """The critique in one decoded Messages API response."""
    if not isinstance(message, dict):
        return Unusable("the response is not a message")
    stop_reason = message.get("stop_reason")
    if stop_reason == "max_tokens":
        return Unusable("the answer was cut off at llm.max-output-tokens")
    if stop_reason == "refusal":
        return Unusable("the model declined to answer")
    content = message.get("content")
    calls = [
        block.get("input")
        for block in (content if isinstance(content, list) else [])
        if isinstance(block, dict)
        and block.get("type") == "tool_use"
        and block.get("name") == TOOL_NAME
    ]
    if not calls:
        return Unusable(f"the model did not call {TOOL_NAME}")
    return critique_from_input(calls[0], prompt, model)


def critique_from_input(data: object, prompt: FilePrompt, model: str) -> Critique | Unusable:
    """A critique from the tool's input (or a cached copy of it), items checked one by one."""
    if not isinstance(data, Mapping):
        return Unusable("malformed answer: the tool input is not an object")
    summary = data.get("summary")
    raw_items = data.get("items")
    if not isinstance(summary, str) or not summary.strip():
        return Unusable("malformed answer: no summary")
    if not isinstance(raw_items, list):
        return Unusable("malformed answer: items is not a list")
    # Missing or null is an empty list: an older answer or cache entry has none.
    malformed = [key for key in _POINT_LISTS if not isinstance(data.get(key), list | None)]
    if malformed:
        return Unusable(f"malformed answer: {malformed[0]} is not a list")
    trade_offs, testing, monitoring = (_points(data.get(key)) for key in _POINT_LISTS)
    items = [item for raw in raw_items[:MAX_ITEMS] if (item := _item(raw, prompt)) is not None]
    text = clean(summary[:MAX_SUMMARY]).strip()
    if not items and raw_items:
        return Unusable(f"empty answer: none of its {len(raw_items)} items was valid")
    if not items and len(text.split()) < _SUMMARY_WORDS:
        return Unusable("empty answer: no items and no summary")
    return Critique(
        path=prompt.path,
        model=model,
        summary=text,
        items=tuple(sorted(items, key=lambda i: (i.line, i.end_line))),
        note=prompt.note,
        dropped_items=len(raw_items) - len(items),
        trade_offs=trade_offs,
        testing=testing,
        monitoring=monitoring,
    )


def _points(raw: object) -> tuple[str, ...]:
    """A file-level list (trade-offs, testing, monitoring), bounded like the items: entries
    past MAX_POINTS, and those that are no text or too long, are left out."""
    if not isinstance(raw, list):
        return ()
    return tuple(text for value in raw[:MAX_POINTS] if (text := _text(value, MAX_POINT)))


def _item(raw: object, prompt: FilePrompt) -> CritiqueItem | None:
    if not isinstance(raw, Mapping):
        return None
    line, end_line = raw.get("line"), raw.get("end_line")
    if not (_is_int(line) and _is_int(end_line) and 1 <= line <= end_line <= prompt.line_count):
        return None
    if not any(start <= line <= end for start, end in prompt.visible):
        return None  # a line the model was never shown
    severity = raw.get("severity")
    if severity not in {s.label for s in Severity}:
        return None
    principle = _text(raw.get("principle"), MAX_PRINCIPLE)
    problem = _text(raw.get("problem"), MAX_TEXT)
    suggestion = _text(raw.get("suggestion"), MAX_TEXT)
    example = raw.get("example")
    if principle is None or problem is None or suggestion is None:
        return None
    if example is not None and (not isinstance(example, str) or len(example) > MAX_EXAMPLE):
        return None
    return CritiqueItem(
        line=line,
        end_line=end_line,
        severity=Severity.parse(severity),
        principle=principle,
        problem=problem,
        suggestion=suggestion,
        example=clean(example).strip("\n") or None if example is not None else None,
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    return clean(value).strip()
