"""`# noqa` comments, read the way flake8 and ruff read them so users learn nothing new.

`# noqa: PA401, E501` on the reported line suppresses the listed codes there (other tools' codes
may share the comment); a bare `# noqa` suppresses everything on the line; a comment line
`# pyarch-lint: noqa` anywhere suppresses the whole file, or only the listed codes with
`# pyarch-lint: noqa: PA4`. Codes are matched by prefix, like `--ignore`.

A line that cannot end in a comment - inside a multi-line string, or continued by a backslash -
takes its `# noqa` where its logical line first can: at the end of the string, or of the last
continued line (ruff's rule too). `scan` finds those lines and the comments that are `# noqa`
directives, from the tokenizer, so `#` inside a string is never taken for one; `unused` then
says which directives suppressed nothing (PA004).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from pyarch_lint.checks.registry import letters
from pyarch_lint.files import split_lines
from pyarch_lint.findings import RawFinding

_CODE_LIST = r"(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*)"
_LINE = re.compile(r"#\s*noqa(?::[\s]*" + _CODE_LIST + ")?", re.IGNORECASE)
_FILE = re.compile(
    r"^\s*#\s*pyarch-lint:\s*noqa(?::\s*" + _CODE_LIST + r")?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SPLIT = re.compile(r"[,\s]+")

ALL = ("",)  # the empty prefix matches every code
UNUSED_NOQA = "PA004"


def _codes(text: str | None) -> tuple[str, ...]:
    return ALL if text is None else tuple(c.upper() for c in _SPLIT.split(text.strip()) if c)


def file_suppressions(text: str) -> tuple[str, ...]:
    """Code prefixes suppressed for the whole file (ALL for a bare file-level noqa)."""
    if "pyarch-lint" not in text:
        return ()
    codes: list[str] = []
    for match in _FILE.finditer(text):
        found = _codes(match["codes"])
        if found == ALL:
            return ALL
        codes.extend(found)
    return tuple(codes)


def line_suppresses(line: str, code: str) -> bool:
    """Does a `# noqa` comment on this physical line cover `code`?"""
    if "noqa" not in line.lower():
        return False
    return any(_matches(code, _codes(m["codes"])) for m in _LINE.finditer(line))


def _matches(code: str, prefixes: Sequence[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


@dataclass(frozen=True, slots=True)
class Directive:
    """A `# noqa` in a comment: where it is (1-based; the end column exclusive, after its
    codes) and what it covers (ALL when bare)."""

    line: int
    column: int
    end_column: int
    codes: tuple[str, ...]
    file_level: bool = False


@dataclass(frozen=True, slots=True)
class Comments:
    """What the tokenizer tells about one file's `# noqa` comments."""

    directives: tuple[Directive, ...] = ()
    # A line that cannot end in a comment -> the line where its logical line first can.
    continued: Mapping[int, int] | None = None

    def noqa_line(self, line: int) -> int:
        """Where a `# noqa` for a finding reported on `line` goes (and is read)."""
        return line if self.continued is None else self.continued.get(line, line)


NO_COMMENTS = Comments()


def scan(text: str) -> Comments:
    """The `# noqa` directives and the continued lines of a file that parses; none of it when
    the tokenizer refuses the file."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text, newline=None).readline))
    except (tokenize.TokenError, SyntaxError):
        return NO_COMMENTS
    directives = [d for t in tokens if t.type == tokenize.COMMENT for d in _directives(t)]
    # A line can end in a comment where the tokenizer sees its end outside any token.
    ended = {t.start[0] for t in tokens if t.type in (tokenize.NEWLINE, tokenize.NL)}
    ended -= _in_fstrings(tokens)
    continued: dict[int, int] = {}
    target = 0
    for line in range(len(split_lines(text)), 0, -1):
        if line in ended:
            target = line
        elif target:
            continued[line] = target
    return Comments(tuple(directives), continued)


def _in_fstrings(tokens: Sequence[tokenize.TokenInfo]) -> set[int]:
    """Lines that end inside an f-string or t-string (Python 3.12 and later tokenize them
    in parts, with NL tokens inside a replacement field): their comment goes after it too."""
    lines: set[int] = set()
    depth, start = 0, 0
    for token in tokens:
        kind = tokenize.tok_name[token.type]
        if kind in ("FSTRING_START", "TSTRING_START"):
            depth, start = depth + 1, start if depth else token.start[0]
        elif kind in ("FSTRING_END", "TSTRING_END"):
            depth -= 1
            if depth == 0:
                lines.update(range(start, token.end[0]))
    return lines


def _directives(token: tokenize.TokenInfo) -> list[Directive]:
    line, column = token.start
    whole_line = _FILE.match(token.line)
    if whole_line is not None:
        end = column + len(token.string.rstrip()) + 1
        return [Directive(line, column + 1, end, _codes(whole_line["codes"]), file_level=True)]
    return [
        Directive(line, column + m.start() + 1, column + m.end() + 1, _codes(m["codes"]))
        for m in _LINE.finditer(token.string)
    ]


def suppressing_line(code: str, line: int, lines: Sequence[str], comments: Comments) -> int:
    """The line whose `# noqa` suppresses `code` reported on `line`, or 0 when none does."""
    for candidate in dict.fromkeys((line, comments.noqa_line(line))):
        if candidate <= len(lines) and line_suppresses(lines[candidate - 1], code):
            return candidate
    return 0


@dataclass(frozen=True, slots=True)
class Unused:
    """A PA004 finding, the directive it is about and the codes that directive lists for
    nothing (ALL: the whole directive, bare or with every code unused): what its fix drops."""

    finding: RawFinding
    directive: Directive
    codes: tuple[str, ...]


def unused(
    comments: Comments,
    suppressed: Collection[tuple[int, str]],
    known: Collection[str],
    judged: Collection[str],
    bare: bool,
) -> list[Unused]:
    """PA004 for each directive that suppressed nothing. `suppressed`: (line of the comment that
    suppressed it, or 0 for the file-level comment; code) of every report a comment hid.
    Only codes with the letters of a known rule (ours, a plugin's) are judged, and only those
    that ran in full (`judged`): a rule that did not run cannot show that a comment is unused.
    A code no rule has is always unused. A bare
    `# noqa` is judged only when `bare` is set: other tools read it too. A line whose comment
    names PA004 (or a prefix of it) is not judged, as the user asked."""
    keep = {d.line for d in comments.directives if _names_unused_noqa(d.codes)}
    findings: list[Unused] = []
    for directive in comments.directives:
        if directive.line in keep and not directive.file_level:
            continue
        where = 0 if directive.file_level else directive.line
        used = {code for line, code in suppressed if line == where}
        if directive.codes == ALL:
            if bare and not used and not directive.file_level:
                message = "unused `# noqa`: no finding on this line to suppress"
                findings.append(Unused(_at(directive, message), directive, ALL))
            continue
        message, codes = _unused_codes(directive, used, known, judged)
        if message:
            whole = set(codes) == set(directive.codes)
            findings.append(Unused(_at(directive, message), directive, ALL if whole else codes))
    return findings


def _names_unused_noqa(codes: tuple[str, ...]) -> bool:
    return codes != ALL and any(UNUSED_NOQA.startswith(code) for code in codes)


def _unused_codes(
    directive: Directive, used: set[str], known: Collection[str], judged: Collection[str]
) -> tuple[str, tuple[str, ...]]:
    """The message of a directive's PA004 ("" when every code it lists is used) and the codes
    it lists for nothing."""
    not_reported, unknown = [], []
    ours = {letters(k) for k in known}  # PA, and the letters of plugins' rules
    for code in dict.fromkeys(directive.codes):
        if letters(code) not in ours:
            continue  # another tool's code
        covered = [k for k in known if k.startswith(code)]
        if not covered:
            unknown.append(code)
        elif all(k in judged for k in covered) and not any(u.startswith(code) for u in used):
            not_reported.append(code)
    parts = []
    if not_reported:
        where = "in this file" if directive.file_level else "on this line"
        verb = "is" if len(not_reported) == 1 else "are"
        parts.append(f"{', '.join(not_reported)} {verb} not reported {where}")
    if unknown:
        verb = "is not a known code" if len(unknown) == 1 else "are not known codes"
        parts.append(f"{', '.join(unknown)} {verb}")
    if not parts:
        return "", ()
    comment = "# pyarch-lint: noqa" if directive.file_level else "# noqa"
    return f"unused `{comment}`: " + "; ".join(parts), (*not_reported, *unknown)


def _at(directive: Directive, message: str) -> RawFinding:
    line = directive.line
    return (line, directive.column, line, directive.end_column, UNUSED_NOQA, message)


def without_codes(comment: str, start: int, end: int, codes: tuple[str, ...]) -> str | None:
    """`comment` (a comment token) with the directive at `start:end` in it listing `codes` no
    more (ALL: the directive goes); None when nothing of the comment would be left. Other
    codes keep their spelling, other text around the directive stays."""
    directive = comment[start:end]
    match = _FILE.match(directive) or _LINE.match(directive)
    if match is None:
        return comment
    if codes != ALL and match["codes"] is not None:
        dropped = set(codes)
        written = [c for c in _SPLIT.split(match["codes"].strip()) if c]
        kept = [c for c in written if c.upper() not in dropped]
        if kept:
            listed = directive[: match.start("codes")] + ", ".join(kept) + directive[match.end() :]
            return comment[:start] + listed + comment[end:]
    rest = (comment[:start].rstrip() + " " + comment[end:].lstrip()).strip()
    if rest.startswith("#") and rest.strip("# \t"):
        return rest
    return None
