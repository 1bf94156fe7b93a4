"""Critiques cached as JSON files, one per request that produced them.

The key is a digest of the tool version and the exact request: model, output limit, system
prompt, tool schema, and the user message (path, redacted source, findings, rule documents,
language). So an unchanged file costs no request, and any change to the file, the findings, a
rule's text, the model or a setting asks again. Entries are data, validated on reading like a
fresh answer; a corrupt one is ignored with a warning and never trusted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pyarch_lint import __version__
from pyarch_lint.cache import digest
from pyarch_lint.escalation.prompt import FilePrompt
from pyarch_lint.escalation.validate import critique_from_input
from pyarch_lint.findings import Critique

_FORMAT = 1


def cache_key(params: Mapping[str, Any]) -> str:
    return digest(__version__, json.dumps(params, sort_keys=True, separators=(",", ":")))


def _entry(folder: Path, key: str) -> Path:
    return folder / "critiques" / f"{key}.json"


def load(
    folder: Path, key: str, prompt: FilePrompt, model: str, warn: Callable[[str], None]
) -> Critique | None:
    path = _entry(folder, key)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
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


def store(folder: Path, key: str, critique: Critique) -> None:
    """Write the entry aside and rename it into place, so a reader never sees half of one."""
    path = _entry(folder, key)
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
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(entry, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
