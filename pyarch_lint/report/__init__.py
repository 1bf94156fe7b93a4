"""findings + critiques -> text | concise | json | sarif | github | gitlab. Pure formatting.

What a report shows of a file besides the findings (code frames, the def/class and line text
that baseline and GitLab fingerprints hash) came from analysis with them, in `Outcome.excerpts`:
no renderer reads or parses a file.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import quote

from pyarch_lint.checks.registry import BUILTIN, RuleSet
from pyarch_lint.excerpt import Excerpt
from pyarch_lint.files import SURROGATE, escape_surrogates, escaped_surrogate
from pyarch_lint.findings import Applicability, Critique, Finding, NotReviewed

# C0 and C1 controls but tab and newline, line and paragraph separators, the bidirectional
# controls that can make a name read differently from what it is ("Trojan Source"), and lone
# surrogates (a file name that is not valid UTF-8), which no UTF-8 output can carry.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    r"\ud800-\udfff]"
)
# A line a CI runner would act on: GitHub's `::error ...` and `##[...]` (leading blanks
# allowed), TeamCity's `##teamcity[`, and Azure's `##vso[` (anywhere in a line). One pattern
# for the first line, one for the others: anchored on the line break, the regex engine jumps
# from one break to the next, where `^` in MULTILINE mode is tried at every character (3x slower).
_FIRST_COMMAND = re.compile(r"^([ \t]*)(?=::|##)")
_NEXT_COMMAND = re.compile(r"\n([ \t]*)(?=::|##)")
_AZURE_COMMAND = "##vso["


def escape_surrogates_in_json(document: str) -> str:
    """A JSON document `json.dumps(..., ensure_ascii=False)` wrote, as if every string in it had
    gone through `escape_surrogates` first: surrogates occur only inside its strings, and there
    the backslash of an escape is itself escaped. Checked in one go (the encoder is three times
    faster than a search): most documents have none."""
    try:
        document.encode("utf-8")
    except UnicodeEncodeError:  # it holds at least one
        return SURROGATE.sub(lambda m: escaped_surrogate(m.group()).replace("\\", "\\\\"), document)
    return document


def _escape(char: str) -> str:
    if "\ud800" <= char <= "\udfff":  # the byte os.fsdecode could not decode, as `\xff`
        return escape_surrogates(char)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(text: str) -> str:
    """Make untrusted text (file names, model prose) inert on a terminal: no escape sequences,
    no carriage returns that overwrite a line, no reordering of what it shows."""
    if text.isprintable():  # nothing to escape (most text): skip the regex
        return text
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


def char_width(char: str) -> int:
    """Columns a terminal gives one character: two for wide ones (Chinese, Japanese, Korean),
    none for a combining mark."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def display_width(text: str) -> int:
    return len(text) if text.isascii() else sum(map(char_width, text))


@functools.lru_cache(maxsize=4096)  # one per file, where a file often has many findings
def path_uri(path: str) -> str:
    """The path as a URI reference, percent-encoded from its bytes: a name that is not valid
    UTF-8 (`bad\\udcff.py`, for the bytes `bad\\xff.py`) gives back those bytes (`bad%FF.py`)."""
    posix = PurePath(path).as_posix()
    try:
        return quote(posix, errors="surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        return quote(escape_surrogates(posix))


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `3 files`, `2 info` (with the plural given): a count as people write it."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def one_line(text: str) -> str:
    """Untrusted text that must stay on one line (a forged second finding is a new line)."""
    if text.isprintable():  # no line break, tab or control character (most text)
        return text
    return sanitize(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def inert_lines(text: str) -> str:
    """Output for people that a CI runner reads too: no line of it may be a workflow command
    (a file named `::error file=x::forged.py` would add an annotation; the runner acts on such
    lines wherever they appear in a job's log), so a backslash goes in front."""
    text = _FIRST_COMMAND.sub("\\1\\\\", text, count=1)
    text = _NEXT_COMMAND.sub("\n\\1\\\\", text)
    return text.replace(_AZURE_COMMAND, "##vso\\[")


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
    rules: RuleSet = BUILTIN  # the run's rules, which SARIF describes
    baselined: int = 0  # findings the baseline hid (not in `findings`)
    # Display path -> what the reports show of the file (a file missing here: no code frames).
    excerpts: Mapping[str, Excerpt] = field(default_factory=dict)
    language: str = ""  # llm.language: the model's prose's, which --explain's headings follow
    unsafe_fixes: bool = False  # `--unsafe-fixes`: their findings are marked fixable too

    def fixable(self, finding: Finding) -> bool:
        """Would `--fix` (with this run's `--unsafe-fixes`) fix it?"""
        return finding.fix is Applicability.SAFE or (
            self.unsafe_fixes and finding.fix is Applicability.UNSAFE
        )

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
        from pyarch_lint.report.text import render_concise

        return lambda outcome: inert_lines(render_concise(outcome))
    else:
        from pyarch_lint.report.text import render as render_text

        return lambda outcome: inert_lines(render_text(outcome))
    return render


FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab")
