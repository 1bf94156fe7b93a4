"""Critiques cached as JSON files, one per request that produced them.

The key is a digest of the tool version and the exact request: model, output limit, system
prompt, tool schema, and the user message (path, redacted source, findings, rule documents,
language). So an unchanged file costs no request, and any change to the file, the findings, a
rule's text, the model or a setting asks again. Entries are kept by `storage`, signed with the
user's cache key: one planted in the repository under a key a run would compute does not verify
and is a miss (a note under -v). What verifies is data, validated on reading like a fresh
answer; a corrupt one is ignored with a warning and never trusted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from pyarch_lint import __version__
from pyarch_lint.cache import digest
from pyarch_lint.escalation.prompt import FilePrompt
from pyarch_lint.escalation.validate import critique_from_input
from pyarch_lint.findings import Critique
from pyarch_lint.storage import Store

# Fields are only added (an entry without `trade_offs`, `testing` or `monitoring` reads as
# having none), so the format stays 1.
_FORMAT = 1
_ENTRY_LIMIT = 4 * 1024 * 1024  # bytes: a critique is bounded by max-output-tokens and validation


def cache_key(params: Mapping[str, Any]) -> str:
    return digest(__version__, json.dumps(params, sort_keys=True, separators=(",", ":")))


def _entry(key: str) -> str:
    return f"critiques/{key}.json"


def load(
    storage: Store, key: str, prompt: FilePrompt, model: str, warn: Callable[[str], None]
) -> Critique | None:
    path = storage.path(_entry(key))
    try:
        payload = storage.read(_entry(key), _ENTRY_LIMIT)
        if payload is None:
            return None
        data = json.loads(payload)
    except OSError as error:
        warn(f"llm: ignoring cache entry {path}: {error.strerror or error}")
        return None
    except (ValueError, RecursionError) as error:
        warn(f"llm: ignoring unreadable cache entry {path}: {error}")
        return None
    critique = _parse(data, key, prompt, model)
    if critique is None:
        warn(f"llm: ignoring invalid cache entry {path}")
    return critique


def _parse(data: object, key: str, prompt: FilePrompt, model: str) -> Critique | None:
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
        return None
    dropped = data.get("dropped_items")
    if not isinstance(dropped, int) or isinstance(dropped, bool) or dropped < 0:
        return None
    critique = critique_from_input(data, prompt, model)
    # What was stored had passed validation: anything dropped now means the entry was altered.
    if not isinstance(critique, Critique) or critique.dropped_items:
        return None
    return dataclasses.replace(critique, cached=True, dropped_items=dropped)


def store(storage: Store, key: str, critique: Critique) -> None:
    items = [
        {
            "line": i.line,
            "end_line": i.end_line,
            "severity": i.severity.label,
            "principle": i.principle,
            "problem": i.problem,
            "suggestion": i.suggestion,
            "example": i.example,
        }
        for i in critique.items
    ]
    entry = {
        "format": _FORMAT,
        "key": key,
        "summary": critique.summary,
        "items": items,
        "dropped_items": critique.dropped_items,
        "trade_offs": list(critique.trade_offs),
        "testing": list(critique.testing),
        "monitoring": list(critique.monitoring),
    }
    storage.write(_entry(key), json.dumps(entry).encode("utf-8"))
