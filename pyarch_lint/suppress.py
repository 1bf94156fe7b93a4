"""`# noqa` comments, read the way flake8 and ruff read them so users learn nothing new.

`# noqa: PA401, E501` on the reported line suppresses the listed codes there (other tools' codes
may share the comment); a bare `# noqa` suppresses everything on the line; a comment line
`# pyarch-lint: noqa` anywhere suppresses the whole file, or only the listed codes with
`# pyarch-lint: noqa: PA4`. Codes are matched by prefix, like `--ignore`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LINE = re.compile(
    r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE
)
_FILE = re.compile(
    r"^\s*#\s*pyarch-lint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SPLIT = re.compile(r"[,\s]+")

ALL = ("",)  # the empty prefix matches every code


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


def is_suppressed(code: str, line: str, file_codes: Sequence[str]) -> bool:
    return _matches(code, file_codes) or line_suppresses(line, code)
