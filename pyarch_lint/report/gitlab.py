"""GitLab's code quality report: a JSON array of issues in the Code Climate shape, shown in the
merge request widget and the diff. Paths are relative to the repository root, as GitLab expects.

The fingerprint is what GitLab compares between the base and the head of a merge request: it is
the baseline's fingerprint (the line's text and its def/class, not its line number), so a
finding that merely moved is not shown as fixed-and-new.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from pyarch_lint.baseline import keys
from pyarch_lint.findings import Severity
from pyarch_lint.report import Outcome
from pyarch_lint.report.text import source_lines

# GitLab's scale is info, minor, major, critical, blocker; nothing of ours blocks by itself.
_SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}
CRITIQUE_CHECK = "architecture-critique"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def render(outcome: Outcome) -> str:
    issues: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    found = keys(outcome.findings, source_lines, outcome.root_paths)
    for f, key in zip(outcome.findings, found, strict=True):
        base = _digest(key.path, key.code, key.fingerprint)
        seen[base] += 1  # identical findings in one scope still need distinct fingerprints
        issues.append(
            {
                "type": "issue",
                "check_name": f.code,
                "description": f"{f.code} {f.name}: {f.message}",
                "categories": ["Style" if f.severity is Severity.INFO else "Bug Risk"],
                "severity": _SEVERITY[f.severity],
                "fingerprint": _digest(base, str(seen[base]))[:32],
                "location": {"path": key.path, "lines": {"begin": f.line, "end": f.end_line}},
            }
        )
    for critique in outcome.critiques:
        path = outcome.root_path(critique.path)
        for item in critique.items:
            issues.append(
                {
                    "type": "issue",
                    "check_name": CRITIQUE_CHECK,
                    "description": f"{item.principle}: {item.problem} "
                    f"Suggestion: {item.suggestion}",
                    "categories": ["Complexity"],
                    "severity": _SEVERITY[item.severity],
                    "fingerprint": _digest(path, item.principle, item.problem)[:32],
                    "location": {"path": path, "lines": {"begin": item.line, "end": item.end_line}},
                }
            )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
