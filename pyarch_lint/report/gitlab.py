"""GitLab's code quality report: a JSON array of issues in the Code Climate shape, shown in the
merge request widget and the diff. Paths are relative to the repository root, as GitLab expects.

The fingerprint is what GitLab compares between the base and the head of a merge request: it is
the baseline's fingerprint (the line's text and its def/class, not its line number), so a
finding that merely moved is not shown as fixed-and-new.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from json.encoder import encode_basestring

from pyarch_lint.baseline import keys
from pyarch_lint.files import escape_surrogates
from pyarch_lint.findings import Severity
from pyarch_lint.report import Outcome, escape_surrogates_in_json

# GitLab's scale is info, minor, major, critical, blocker; nothing of ours blocks by itself.
_SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}
CRITIQUE_CHECK = "architecture-critique"
# json.dumps's own escaping of a string, quotes included, when ensure_ascii is off.
_string = encode_basestring
_QUOTED_SEVERITY = {severity: _string(label) for severity, label in _SEVERITY.items()}
# GitLab's category (Code Climate's list) of a finding: its code's entry, else its rule family's.
# Blocking calls in a coroutine stall every other task (timeouts, lost heartbeats), so asyncio
# is Bug Risk with the lost tasks and nested loops. A plugin's rules are Bug Risk.
_CATEGORY = {
    "PA0": "Bug Risk",  # engine: a file that does not parse, decode or finish
    "PA004": "Style",  # a noqa comment that suppresses nothing, like ruff's RUF100
    "PA1": "Complexity",  # structure: nesting, branches, parameters
    "PA2": "Clarity",  # type hints: what a function takes and returns, unsaid
    "PA3": "Bug Risk",  # error handling: swallowed and bare excepts
    "PA4": "Bug Risk",  # asyncio
    "PA5": "Complexity",  # architecture: scattered configuration, god classes, hidden state
    "PA504": "Performance",  # a client, and its connections, built on every call
    "PA607": "Security",  # a secret written into the source
}
_QUOTED_CATEGORY = {key: _string(category) for key, category in _CATEGORY.items()}
_OTHER_CATEGORY = _string("Bug Risk")
_CRITIQUE_CATEGORY = _string("Complexity")


def _digest(*parts: str) -> str:
    # surrogatepass: a lone surrogate (a model's text may hold one) is hashed, not a crash.
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _issue(head: str, category: str, severity: Severity, fingerprint: str, where: str) -> str:
    """One issue as json.dumps(indent=2) writes it inside the array. `head` holds the check
    name and the description, `where` the path and the lines, `category` is quoted."""
    return f"""  {{
    "type": "issue",
{head},
    "categories": [
      {category}
    ],
    "severity": {_QUOTED_SEVERITY[severity]},
    "fingerprint": "{fingerprint}",
    "location": {{
{where}
      }}
    }}
  }}"""


def _place(path: str, begin: int, end: int) -> str:
    return f"""      "path": {path},
      "lines": {{
        "begin": {begin},
        "end": {end}"""


def _finding_issues(outcome: Outcome) -> Iterator[str]:
    seen: Counter[str] = Counter()
    found = keys(outcome.findings, outcome.excerpts, outcome.root_paths)
    for f, key in zip(outcome.findings, found, strict=True):
        base = _digest(key.path, key.code, key.fingerprint)
        seen[base] += 1  # identical findings in one scope still need distinct fingerprints
        head = (
            f'    "check_name": {_string(f.code)},\n'
            f'    "description": {_string(f"{f.code} {f.name}: {f.message}")}'
        )
        fingerprint = _digest(base, str(seen[base]))[:32]
        where = _place(_string(key.path), f.line, f.end_line)
        category = _QUOTED_CATEGORY.get(f.code) or _QUOTED_CATEGORY.get(f.code[:3], _OTHER_CATEGORY)
        yield _issue(head, category, f.severity, fingerprint, where)


def _critique_issues(outcome: Outcome) -> Iterator[str]:
    for critique in outcome.critiques:
        path = escape_surrogates(outcome.root_path(critique.path))
        for item in critique.items:
            description = f"{item.principle}: {item.problem} Suggestion: {item.suggestion}"
            head = (
                f'    "check_name": {_string(CRITIQUE_CHECK)},\n'
                f'    "description": {_string(description)}'
            )
            fingerprint = _digest(path, item.principle, item.problem)[:32]
            where = _place(_string(path), item.line, item.end_line)
            yield _issue(head, _CRITIQUE_CATEGORY, item.severity, fingerprint, where)


def render(outcome: Outcome) -> str:
    """The array as json.dumps(issues, indent=2, ensure_ascii=False) writes it, built as text:
    `indent` takes the pure-Python encoder, three times slower (django's 49,464 findings: 1.0 s
    of CPU to render through it, 0.33 s so; a warm run takes about as long as the latter)."""
    issues = [*_finding_issues(outcome), *_critique_issues(outcome)]
    if not issues:
        return "[]\n"
    document = "[\n" + ",\n".join(issues) + "\n]\n"
    return escape_surrogates_in_json(document)
