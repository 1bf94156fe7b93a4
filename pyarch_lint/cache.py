"""A content-addressed cache: a file's findings keyed by its bytes, the settings and the version.

Entries are JSON data, validated when read: never pickled, never executed. A corrupt, truncated
or crafted entry is treated as a miss with a warning, and can only ever be found under the hash
of the exact bytes it was written for.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyarch_lint import __version__

CACHE_DIR_NAME = ".pyarch_lint_cache"
_FORMAT = 1
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# pyarch-lint cache; see https://bford.info/cachedir/\n"

# (line, column, end_line, end_column, code, message): the placed, unsuppressed-by-path findings.
RawFinding = tuple[int, int, int, int, str, str]


def digest(*parts: bytes | str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


@dataclass
class Cache:
    """One folder of entries. `warnings` collects problems to show once, never raised."""

    folder: Path
    namespace: str  # what besides the bytes decides the findings: settings fingerprint
    warnings: list[str] = field(default_factory=list)
    _ready: bool = False

    def key(self, content_digest: str) -> str:
        """The entry for a file whose bytes hash to `content_digest`, under these settings."""
        return digest(__version__, self.namespace, content_digest)

    def _path(self, key: str) -> Path:
        return self.folder / "files" / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[RawFinding] | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as error:
            # The folder itself is unusable (a file, no permission): say so once, not per file.
            self._warn_once(f"cache not read ({error.strerror or error}) in {self.folder}")
            return None
        except ValueError as error:
            self.warnings.append(f"ignoring unreadable cache entry {path}: {error}")
            return None
        findings = _validate(data, key)
        if findings is None:
            self.warnings.append(f"ignoring invalid cache entry {path}")
        return findings

    def put(self, key: str, findings: list[RawFinding]) -> None:
        path = self._path(key)
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = json.dumps({"format": _FORMAT, "key": key, "findings": findings})
            # Written aside and renamed: a reader never sees half an entry.
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(payload)
            os.replace(temporary, path)
        except OSError as error:
            reason = error.strerror or str(error)
            self._warn_once(
                f"cache not written ({reason}) in {self.folder}; results are unaffected"
            )

    def _warn_once(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _prepare(self) -> None:
        if self._ready:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Created by pyarch-lint\n*\n", encoding="utf-8")
        tag = self.folder / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_TAG, encoding="utf-8")
        self._ready = True


def _validate(data: Any, key: str) -> list[RawFinding] | None:
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
        return None
    findings = data.get("findings")
    if not isinstance(findings, list):
        return None
    result: list[RawFinding] = []
    for item in findings:
        if not (isinstance(item, list) and len(item) == 6):
            return None
        *numbers, code, message = item
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in numbers):
            return None
        if not (isinstance(code, str) and isinstance(message, str)):
            return None
        line, column, end_line, end_column = numbers
        result.append((line, column, end_line, end_column, code, message))
    return result
