"""findings + critiques -> text | concise | json | sarif | github | gitlab. Pure formatting."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyarch_lint.findings import Critique, Finding, NotReviewed

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def sanitize(text: str) -> str:
    """Make untrusted text (file names, model prose) inert on a terminal: no escape sequences,
    no carriage returns that overwrite a line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def one_line(text: str) -> str:
    """Untrusted text that must stay on one line (a forged second finding is a new line)."""
    return sanitize(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything a report shows."""

    findings: list[Finding]
    critiques: list[Critique]
    not_reviewed: list[NotReviewed]
    files: int
    flagged: int
    escalated: int
    # Display path -> path relative to the repository root, for formats read by a code host
    # (SARIF, GitLab) whatever folder the run started in. A path missing here is used as is.
    root_paths: Mapping[str, str] = field(default_factory=dict)

    def root_path(self, display: str) -> str:
        return self.root_paths.get(display, display)


Renderer = Callable[[Outcome], str]


def renderer(name: str) -> Renderer:
    # Imported here so that a run pays only for the format it prints.
    if name == "json":
        from pyarch_lint.report.json_format import render
    elif name == "sarif":
        from pyarch_lint.report.sarif import render
    elif name == "github":
        from pyarch_lint.report.github import render
    elif name == "gitlab":
        from pyarch_lint.report.gitlab import render
    elif name == "concise":
        from pyarch_lint.report.text import render_concise as render
    else:
        from pyarch_lint.report.text import render
    return render


FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab")
