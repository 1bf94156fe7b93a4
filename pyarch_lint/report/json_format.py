"""The JSON contract of DESIGN.md, version 1. Fields may be added, never renamed or removed."""

from __future__ import annotations

import json
from typing import Any

from pyarch_lint.findings import Critique, Finding
from pyarch_lint.report import Outcome, escape_surrogates_in_json

VERSION = 1


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "code": f.code,
        "name": f.name,
        "severity": f.severity.label,
        "message": f.message,
        "source": f.source,
    }


def critique_dict(critique: Critique) -> dict[str, Any]:
    return {
        "path": critique.path,
        "model": critique.model,
        "summary": critique.summary,
        "cached": critique.cached,
        "note": critique.note,
        "dropped_items": critique.dropped_items,
        "items": [
            {
                "line": item.line,
                "end_line": item.end_line,
                "severity": item.severity.label,
                "principle": item.principle,
                "problem": item.problem,
                "suggestion": item.suggestion,
                "example": item.example,
            }
            for item in critique.items
        ],
    }


def render(outcome: Outcome) -> str:
    document = {
        "version": VERSION,
        "findings": [_finding_dict(f) for f in outcome.findings],
        "critiques": [critique_dict(c) for c in outcome.critiques],
        "not_reviewed": [{"path": n.path, "reason": n.reason} for n in outcome.not_reviewed],
        "summary": {
            "files": outcome.files,
            "flagged": outcome.flagged,
            "escalated": outcome.escalated,
            "findings": len(outcome.findings),
        },
    }
    # Compact: `indent` would bypass the C encoder, and the document can run to megabytes.
    return escape_surrogates_in_json(json.dumps(document, ensure_ascii=False)) + "\n"
