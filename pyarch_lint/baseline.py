"""`--write-baseline FILE` records today's findings; `--baseline FILE` hides them afterwards.

A finding is recognised by its path, its code and a fingerprint of the reported line's text
(whitespace collapsed) and the def/class it sits in, never by its line number: inserting lines
elsewhere moves a finding without resurrecting it, and editing the flagged line itself does bring
it back, which is right, since the code changed. Identical findings in one scope are counted, so
a second copy of a baselined mistake is still reported.

The file is a diff-friendly JSON document: one finding per line, sorted, no line numbers, no
timestamps, so rewriting it after a fix removes exactly that finding's line.

The def/class around a finding is what CPython's own parser says (the `ast` lines of each def and
class), found without building a tree: a tree costs a few milliseconds a file, seconds over a
large project, while the scopes follow from the logical lines alone. A scan in the regular
expression engine skips every line that cannot open or close a scope and stops only at the def
and class lines and the dedents under them. Whatever it does not model (tab indentation, a
backslash that joins a blank line, brackets or indentation too deep, anything that does not
tokenize) sends the file to `ast` instead, as does a file the engine could not fully analyse.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import hashlib
import json
import re
import unicodedata
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from pyarch_lint.checks.registry import ENGINE_CODES
from pyarch_lint.findings import Finding

VERSION = 1
_string = encode_basestring  # json.dumps's escaping of a string, quotes included (not ASCII-only)

SourceLines = Callable[[str], Sequence[str]]
"""Display path -> the file's lines, as the engine numbered them."""

Span = tuple[int, int, str]
"""A def or class: its first line (the `def`/`class` keyword's), its last, its dotted name."""


class BaselineError(Exception):
    """The baseline file cannot be read or is not one of ours (exit 2)."""


class Key(NamedTuple):
    """What identifies a finding across edits. A named tuple: hashed and sorted in C, which
    counts when a baseline is written for tens of thousands of findings."""

    path: str  # relative to the repository root, so the file works from any folder
    code: str
    scope: str  # dotted def/class names around the finding, "" at module level
    fingerprint: str


# -- Text that is not text ---------------------------------------------------------------------

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escaped_surrogate(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the undecodable byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def escape_surrogates(text: str) -> str:
    """`text` as UTF-8 can carry it: a lone surrogate, which a file name that is not valid UTF-8
    is made of (`bad\\udcff.py` for the bytes `bad\\xff.py`), becomes the `\\xff` the byte was,
    any other one `\\udxxx`. Text without one comes back as it is."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: _escaped_surrogate(m.group()), text)


def escape_surrogates_in_json(document: str) -> str:
    """A JSON document `json.dumps(..., ensure_ascii=False)` wrote, as if every string in it had
    gone through `escape_surrogates` first: surrogates occur only inside its strings, and there
    the backslash of an escape is itself escaped. Checked in one go (the encoder is three times
    faster than a search): most documents have none."""
    try:
        document.encode("utf-8")
    except UnicodeEncodeError:  # it holds at least one
        return _SURROGATE.sub(
            lambda m: _escaped_surrogate(m.group()).replace("\\", "\\\\"), document
        )
    return document


# -- Scopes from CPython's parser --------------------------------------------------------------


def ast_spans(text: str) -> list[Span]:
    """Every def and class by the stdlib `ast`, in order of their first line; none if the text
    does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[Span] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{child.name}" if prefix else child.name
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append((child.lineno, end, name))
            stack.append((child, name))
    return sorted(found)


# -- Scopes from a scan of the logical lines ---------------------------------------------------


def _bracketed(plain: str, inner: str) -> str:
    return rf"[(\[{{]{plain}(?:(?:{inner}){plain})*[)\]}}]"


# Outside brackets a line break ends a logical line; inside them line breaks and comments are
# whitespace. Strings of any kind (a prefix is just a name before the quote, and a backslash
# escapes a quote in raw strings too). Every pattern has one way to match a text, so a line that
# does not match fails in linear time: hence a one-quote string never starts with three quotes
# (or `"""x"""` would also read as `""` `"x"` `""`, and a file with an unclosed bracket before
# many docstrings would take exponential time to fail).
_PLAIN = r"[^'\"#()\[\]{}\n\\]*"
_PLAIN_INSIDE = r"[^'\"#()\[\]{}\\]*"
_STRING = (
    r"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'(?!'')[^'\\\n]*(?:\\.[^'\\\n]*)*'"
    r'|"(?!"")[^"\\\n]*(?:\\.[^"\\\n]*)*"'
)
_COMMENT = r"\#[^\n]*(?![^\n])"
_JOIN_INSIDE = r"\\\n"
# A backslash that joins a blank or comment line (or the end) puts the statement's end on the
# line before its NEWLINE: not modelled, the match fails and `ast` decides.
_JOIN = r"\\\n(?![ \t\f]*(?:[#\n]|\Z))"
_IN_BRACKETS = f"{_STRING}|{_COMMENT}|{_JOIN_INSIDE}"
_NESTED = _bracketed(
    _PLAIN_INSIDE,
    _bracketed(_PLAIN_INSIDE, _bracketed(_PLAIN_INSIDE, _IN_BRACKETS) + "|" + _IN_BRACKETS)
    + "|"
    + _IN_BRACKETS,
)
_LOGICAL_TEXT = rf"{_PLAIN}(?:(?:{_STRING}|{_JOIN}|{_NESTED}){_PLAIN})*(?:{_COMMENT})?"
# The rest of a logical line, up to its end or to a bracket nested more deeply than _NESTED.
_OUTSIDE = re.compile(
    rf"{_LOGICAL_TEXT}(?:(?P<newline>\n)|(?P<open>[(\[{{])|\Z)",
    re.DOTALL,
)
# Inside brackets: up to the next bracket that _NESTED does not pair.
_INSIDE = re.compile(
    rf"{_PLAIN_INSIDE}(?:(?:{_IN_BRACKETS}|{_NESTED}){_PLAIN_INSIDE})*"
    r"(?:(?P<open>[(\[{])|[)\]}])",
    re.DOTALL,
)
_KEYWORD = re.compile(r"(?:def|class)\b|async\b(?![ \t]+(?:with|for)\b)")
_DEF = re.compile(r"(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)[ \t]*[(\[:]")
_DEF_LINE = re.compile(
    rf"(?P<indent>[ ]*)(?:async[ \t]+)?(?:def|class)[ \t]+(?P<name>\w+)[ \t]*(?=[(\[:])"
    rf"{_LOGICAL_TEXT}\n",
    re.DOTALL,
)
# Deeper scopes are rare; each depth costs a compiled pattern.
_MAX_SKIPPED_INDENT = 64


@functools.cache  # at most _MAX_SKIPPED_INDENT + 2 patterns
def _skip(deeper_than: int) -> re.Pattern[str]:
    """Blank and comment lines, and whole logical lines indented more than `deeper_than` spaces
    that are not a def or class: lines that neither open nor close a scope. The group `code` ends
    after the last logical line skipped."""
    indent = "[ ]*" if deeper_than < 0 else f"[ ]{{{deeper_than + 1},}}"
    return re.compile(
        rf"(?:(?P<code>{indent}(?![ \t\f\n#\\])(?!(?:def|class|async)\b){_LOGICAL_TEXT}\n)"
        r"|[ \t\f]*(?:\#[^\n]*)?\n)*",
        re.DOTALL,
    )


class _Unsure(Exception):
    """The scan met what it does not model."""


class _Scan:
    """One pass over a text: a stack of the defs and classes open at each logical line."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Each def and class, in order of its first line: that line, its last line, its name.
        self.firsts: list[int] = []
        self.lasts: list[int] = []
        self.names: list[str] = []
        self.open: list[tuple[int, int]] = []  # indentation and index of each open scope
        self.last_end = 0  # where the last logical line seen ends (its NEWLINE)
        self.line_start, self.line = 0, 1  # a position and its line, to count lines from

    def spans(self) -> list[Span]:
        text = self.text
        position = 0
        while True:
            deeper_than = self.open[-1][0] if self.open else -1
            if deeper_than > _MAX_SKIPPED_INDENT:
                raise _Unsure
            skipped = _skip(deeper_than).match(text, position)
            assert skipped is not None  # it matches the empty string
            if skipped.end("code") >= 0:
                self.last_end = skipped.end("code") - 1
            position = skipped.end()
            if position >= len(text):
                break
            position = self._logical_line(position)
        self._close(0)
        return list(zip(self.firsts, self.lasts, self.names, strict=True))

    def _line_at(self, position: int) -> int:
        """Line of `position`; positions asked for never decrease."""
        self.line += self.text.count("\n", self.line_start, position)
        self.line_start = position
        return self.line

    def _logical_line(self, position: int) -> int:
        """Takes the logical line that starts at `position`; returns where the next one starts."""
        header = _DEF_LINE.match(self.text, position)
        if header is None:
            return self._any_line(position)
        # Most lines the skip stops at: a def or class whose header fits _LOGICAL_TEXT.
        indent = header.end("indent") - position
        self._close(indent)
        self._open(header["name"], position, indent)
        self.last_end = header.end() - 1
        return header.end()

    def _any_line(self, position: int) -> int:
        text = self.text
        line_end = text.find("\n", position)
        line = text[position:] if line_end < 0 else text[position:line_end]
        body = line.lstrip(" \t\f")
        if body[:1] in ("", "#"):  # a blank or comment line without a line break: the end
            return len(text)
        indent = line[: len(line) - len(body)]
        if "\t" in indent or "\f" in indent or body[0] == "\\":
            raise _Unsure
        start = position + len(indent)
        self._close(len(indent))
        if _KEYWORD.match(text, start):
            header = _DEF.match(text, start)
            if header is None:  # `class \` and the like
                raise _Unsure
            self._open(header[1], start, len(indent))
        position = start
        while True:
            rest = _OUTSIDE.match(text, position)
            if rest is None:
                raise _Unsure
            position = rest.end()
            if rest.lastgroup != "open":
                self.last_end = position - 1 if rest.lastgroup == "newline" else position
                return position
            position = self._past_bracket(position)

    def _past_bracket(self, position: int) -> int:
        """From just after an opening bracket to just after the bracket that closes it."""
        depth = 1
        while depth:
            found = _INSIDE.match(self.text, position)
            if found is None:
                raise _Unsure
            position = found.end()
            depth += 1 if found.lastgroup == "open" else -1
        return position

    def _close(self, indent: int) -> None:
        """A logical line indented `indent` ends the scopes opened at that indentation or deeper."""
        if self.open and self.open[-1][0] >= indent:
            end = self._line_at(self.last_end)
            while self.open and self.open[-1][0] >= indent:
                self.lasts[self.open.pop()[1]] = end

    def _open(self, name: str, start: int, indent: int) -> None:
        """Opens the scope of a def or class `name` whose line starts at `start`."""
        if not name.isascii():  # CPython normalises identifiers (PEP 3131)
            name = unicodedata.normalize("NFKC", name)
        if self.open:
            name = f"{self.names[self.open[-1][1]]}.{name}"
        self.open.append((indent, len(self.names)))
        self.firsts.append(self._line_at(start))
        self.lasts.append(0)  # set when a logical line or the end closes it
        self.names.append(name)


def scanned_spans(text: str) -> list[Span] | None:
    """What `ast_spans` gives for a text that CPython parses, or None when unsure."""
    if "\0" in text:
        return None
    try:
        return _Scan(text).spans()
    except _Unsure:
        return None


@dataclass(frozen=True, slots=True)
class Scopes:
    """The defs and classes of one file, in order of their first line."""

    starts: list[int]
    ends: list[int]
    names: list[str]
    parents: list[int]  # index of the innermost span around each, -1 at module level

    def at(self, line: int) -> str:
        """The innermost scope around `line`: the last one that starts at or before it, or the
        nearest of its parents that has not ended yet."""
        index = bisect_right(self.starts, line) - 1
        while index >= 0 and self.ends[index] < line:
            index = self.parents[index]
        return self.names[index] if index >= 0 else ""


def _as_scopes(spans: Sequence[Span]) -> Scopes:
    parents: list[int] = []
    around: list[int] = []
    for index, (first, _last, _name) in enumerate(spans):
        while around and spans[around[-1]][1] < first:
            around.pop()
        parents.append(around[-1] if around else -1)
        around.append(index)
    firsts = [first for first, _last, _name in spans]
    lasts = [last for _first, last, _name in spans]
    return Scopes(firsts, lasts, [name for _first, _last, name in spans], parents)


def scopes(lines: Sequence[str], parsed: bool = True) -> Scopes:
    """The scopes of a file's lines. `parsed`: the engine analysed the file, so LibCST parsed it
    (the scan only has to be exact for valid code); otherwise `ast` decides."""
    text = "\n".join(lines)
    spans = scanned_spans(text) if parsed else None
    return _as_scopes(ast_spans(text) if spans is None else spans)


# -- Keys --------------------------------------------------------------------------------------


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """For building tens of thousands of small values (keys, a report's dicts) while a large
    result is alive: the cyclic collector would walk all of it again and again, a fifth to a
    half of the time. Such values make no cycles; reference counting frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fingerprint(code: str, scope: str, line_text: str) -> str:
    normalised = " ".join(line_text.split())
    # surrogatepass: a lone surrogate in a line (a codec like raw_unicode_escape makes them) is
    # hashed as it is rather than stopping the run; other text encodes as plain UTF-8.
    data = f"{code}\0{scope}\0{normalised}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _File:
    """What every finding in one file needs: its lines, its scopes and its path as recorded."""

    lines: Sequence[str]
    scopes: Scopes
    path: str


def _files(
    findings: Sequence[Finding], lines_of: SourceLines, root_paths: Mapping[str, str]
) -> dict[str, _File]:
    unanalysed = {f.path for f in findings if f.code in ENGINE_CODES}
    files = {}
    for path in dict.fromkeys(f.path for f in findings):
        lines = lines_of(path)
        recorded = escape_surrogates(root_paths.get(path, path))
        files[path] = _File(lines, scopes(lines, path not in unanalysed), recorded)
    return files


def keys(
    findings: Sequence[Finding], lines_of: SourceLines, root_paths: Mapping[str, str]
) -> list[Key]:
    """The key of each finding, in order. `root_paths` maps display paths to root-relative ones;
    each file is read and scanned once, whatever its number of findings."""
    with without_cyclic_gc():
        return _keys(findings, _files(findings, lines_of, root_paths))


def _keys(findings: Sequence[Finding], files: Mapping[str, _File]) -> list[Key]:
    # Findings of one code on one line (a def and its parameters, say) share their fingerprint.
    fingerprints: dict[tuple[str, int, str], tuple[str, str]] = {}
    result = []
    for finding in findings:
        file = files[finding.path]
        line = finding.line
        known = fingerprints.get((finding.path, line, finding.code))
        if known is None:
            scope = file.scopes.at(line)
            text = file.lines[line - 1] if 0 < line <= len(file.lines) else ""
            known = scope, fingerprint(finding.code, scope, text)
            fingerprints[finding.path, line, finding.code] = known
        result.append(Key(file.path, finding.code, *known))
    return result


def dumps(found: Sequence[Key]) -> str:
    """One entry per line, sorted; equal keys merged into a count. Each entry is written as
    json.dumps(entry, ensure_ascii=False) writes it, without building the dict."""
    with without_cyclic_gc():
        counted = sorted(Counter(found).items())
    rows = [
        f'{{"path": {_string(path)}, "code": {_string(code)}, "scope": {_string(scope)}, '
        f'"fingerprint": {_string(fingerprint)}, "count": {count}}}'
        for (path, code, scope, fingerprint), count in counted
    ]
    body = ",\n".join(f"    {row}" for row in rows)
    findings = f"[\n{body}\n  ]" if rows else "[]"
    return f'{{\n  "version": {VERSION},\n  "findings": {findings}\n}}\n'


def load(path: Path) -> Counter[Key]:
    """The keys a baseline file records, with their counts."""
    with without_cyclic_gc():  # a dict and a key per finding
        return _load(path)


def _load(path: Path) -> Counter[Key]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"{path}: not a pyarch-lint baseline: {error}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise BaselineError(
            f"{path}: not a pyarch-lint baseline of version {VERSION} "
            "(write a new one with --write-baseline)"
        )
    entries = document.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: `findings` must be a list")
    recorded: Counter[Key] = Counter()
    for number, entry in enumerate(entries, start=1):
        recorded[_entry(path, number, entry)] += entry["count"]
    return recorded


def _entry(path: Path, number: int, entry: Any) -> Key:
    fields = ("path", "code", "scope", "fingerprint")
    if (
        not isinstance(entry, dict)
        or not all(isinstance(entry.get(name), str) for name in fields)
        or not isinstance(entry.get("count"), int)
        or entry["count"] < 1
    ):
        raise BaselineError(
            f"{path}: finding {number} must have string path, code, scope and fingerprint "
            "and a positive integer count"
        )
    return Key(entry["path"], entry["code"], entry["scope"], entry["fingerprint"])


def new_findings(
    findings: Sequence[Finding], found: Sequence[Key], baseline: Counter[Key]
) -> list[Finding]:
    """The findings the baseline does not account for; `found` holds their keys, in order."""
    remaining = Counter(baseline)
    fresh = []
    for finding, key in zip(findings, found, strict=True):
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            fresh.append(finding)
    return fresh
