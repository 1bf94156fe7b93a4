"""SARIF 2.1.0 as GitHub code scanning reads it: one run, our rules with their documentation,
results with regions, paths relative to the repository root under %SRCROOT%.

Written compact, on one line: a consumer reads it with a JSON parser (`jq .` shows it indented),
and `indent` would take the pure-Python encoder, seconds for a large result, and half again the
size of a file that code scanning caps."""

from __future__ import annotations

import json
from typing import Any

from pyarch_lint import __version__
from pyarch_lint.catalogue import documents
from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.findings import Critique, CritiqueItem, Severity
from pyarch_lint.memory import without_cyclic_gc
from pyarch_lint.report import Outcome, escape_surrogates_in_json, path_uri
from pyarch_lint.report import markdown as md

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
CRITIQUE_RULE = "architecture-critique"  # each item of a critique
REVIEW_RULE = "architecture-review"  # a critique's file-level part
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
            "fullDescription": {
                "text": "A point of the model's architectural critique of a file the rules "
                "flagged: the problem, the suggested change and an example of it."
            },
            "defaultConfiguration": {"level": "note"},
        }
    )
    descriptors.append(
        {
            "id": REVIEW_RULE,
            "name": REVIEW_RULE,
            "shortDescription": {"text": "Architectural review of a file by the model"},
            "fullDescription": {
                "text": "The model's review of a file the rules flagged, as a whole: its "
                "summary, the trade-offs of the suggested design, how to test it and what "
                "to monitor in production. Shown on the file's first line."
            },
            "defaultConfiguration": {"level": "note"},
        }
    )
    return descriptors


def _location(path: str, region: dict[str, int]) -> dict[str, Any]:
    uri = path_uri(path)
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
        path = outcome.root_path(critique.path)
        results.append(
            {
                "ruleId": REVIEW_RULE,
                "ruleIndex": index[REVIEW_RULE],
                "level": "note",
                "message": _review_message(critique),
                # Code scanning needs a line: the first, for what is about the whole file.
                "locations": [_location(path, {"startLine": 1})],
            }
        )
        for item in critique.items:
            results.append(
                {
                    "ruleId": CRITIQUE_RULE,
                    "ruleIndex": index[CRITIQUE_RULE],
                    "level": _LEVEL[item.severity],
                    "message": _item_message(item),
                    "locations": [
                        _location(path, {"startLine": item.line, "endLine": item.end_line})
                    ],
                }
            )
    return results


def _item_message(item: CritiqueItem) -> dict[str, str]:
    text = f"{item.principle}: {item.problem} Suggestion: {item.suggestion}"
    markdown = [
        f"**{md.text(item.principle)}**: {md.text(item.problem)}",
        f"**Suggestion:** {md.text(item.suggestion)}",
    ]
    if item.example:
        text += f"\n\nExample:\n{item.example}"
        markdown.append(md.code_block(item.example))
    return {"text": text, "markdown": "\n\n".join(markdown)}


def _review_message(critique: Critique) -> dict[str, str]:
    text = [critique.summary]
    for title, points in (
        ("Trade-offs", critique.trade_offs),
        ("Testing", critique.testing),
        ("Monitoring", critique.monitoring),
    ):
        if points:
            text.append(f"{title}:\n" + "\n".join(f"- {point}" for point in points))
    markdown = [md.paragraphs(critique.summary), *md.closing_lists(critique)]
    return {"text": "\n\n".join(text), "markdown": "\n\n".join(markdown)}


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
