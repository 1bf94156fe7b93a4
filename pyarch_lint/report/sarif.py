"""SARIF 2.1.0 as GitHub code scanning reads it: one run, our rules with their documentation,
results with regions, paths relative to the repository root under %SRCROOT%.

Written compact, on one line: a consumer reads it with a JSON parser (`jq .` shows it indented),
and `indent` would take the pure-Python encoder, seconds for a large result, and half again the
size of a file that code scanning caps."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyarch_lint import __version__
from pyarch_lint.catalogue import documents
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.files import escape_surrogates
from pyarch_lint.findings import Severity
from pyarch_lint.memory import without_cyclic_gc
from pyarch_lint.report import Outcome, escape_surrogates_in_json

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
CRITIQUE_RULE = "architecture-critique"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rules(rules: RuleSet) -> list[dict[str, Any]]:
    docs = documents(rules)
    descriptors = []
    for code, severity in sorted((code, info.severity) for code, info in rules.by_code.items()):
        doc = docs.get(code)
        name = doc.name if doc else code
        summary = doc.summary if doc else name
        descriptor: dict[str, Any] = {
            "id": code,
            "name": name,
            "shortDescription": {"text": summary or name},
            "defaultConfiguration": {"level": _LEVEL[severity]},
        }
        if doc is not None:
            descriptor["fullDescription"] = {"text": summary or name}
            descriptor["help"] = {"text": doc.text, "markdown": doc.text}
        descriptors.append(descriptor)
    descriptors.append(
        {
            "id": CRITIQUE_RULE,
            "name": CRITIQUE_RULE,
            "shortDescription": {"text": "Architectural critique by the model"},
            "defaultConfiguration": {"level": "note"},
        }
    )
    return descriptors


@functools.lru_cache(maxsize=4096)  # one per file, where a file often has many findings
def _uri(path: str) -> str:
    """The path as a URI reference, percent-encoded from its bytes: a name that is not valid
    UTF-8 (`bad\\udcff.py`, for the bytes `bad\\xff.py`) gives back those bytes (`bad%FF.py`)."""
    posix = Path(path).as_posix()
    try:
        return quote(posix, errors="surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return quote(escape_surrogates(posix))


def _location(path: str, region: dict[str, int]) -> dict[str, Any]:
    uri = _uri(path)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def _results(outcome: Outcome, index: dict[str, int]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for f in outcome.findings:
        region = {
            "startLine": f.line,
            "startColumn": f.column,
            "endLine": f.end_line,
            "endColumn": max(f.end_column, 1),
        }
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": _LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [_location(outcome.root_path(f.path), region)],
            }
        )
    for critique in outcome.critiques:
        for item in critique.items:
            text = f"{item.principle}: {item.problem} Suggestion: {item.suggestion}"
            results.append(
                {
                    "ruleId": CRITIQUE_RULE,
                    "ruleIndex": index[CRITIQUE_RULE],
                    "level": _LEVEL[item.severity],
                    "message": {"text": text},
                    "locations": [
                        _location(
                            outcome.root_path(critique.path),
                            {"startLine": item.line, "endLine": item.end_line},
                        )
                    ],
                }
            )
    return results


def _document(outcome: Outcome) -> dict[str, Any]:
    rules = _rules(outcome.rules)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pyarch-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://pypi.org/project/pyarch-lint/",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {"text": "The repository root."}}
                },
                "results": _results(outcome, index),
            }
        ],
    }


def render(outcome: Outcome) -> str:
    # A result is five dicts and a list, 300,000 objects for 50,000 findings: built with the
    # cyclic collector paused, and gone (the document is a temporary) before it runs again.
    with without_cyclic_gc():
        text = json.dumps(_document(outcome), ensure_ascii=False)
    return escape_surrogates_in_json(text) + "\n"
