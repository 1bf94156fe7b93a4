"""A content-addressed cache: a file's findings keyed by its bytes, the settings and the version.

Entries are JSON data, validated when read: never pickled, never executed. A corrupt, truncated
or crafted entry is treated as a miss with a warning, and can only ever be found under the hash
of the exact bytes it was written for. Validation is against what analysing those bytes could
give: codes the run can report, positions inside the file. The folder sits in the linted
repository, so it is treated as hostile too: only regular files are read, none bigger than
`ENTRY_LIMIT`, and nothing is written through a symlink.

What it cannot stop: an entry crafted for a file's exact bytes (by someone who can write the
folder) decides that file's findings. Don't restore a cache folder you did not write.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyarch_lint import __version__
from pyarch_lint.files import read_regular
from pyarch_lint.findings import RawFinding

CACHE_DIR_NAME = ".pyarch_lint_cache"
_FORMAT = 1
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# pyarch-lint cache; see https://bford.info/cachedir/\n"

ENTRY_LIMIT = 64 * 1024 * 1024  # bytes: far above any real entry, far below a memory problem


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

    def get(self, key: str, source: bytes, codes: frozenset[str]) -> list[RawFinding] | None:
        """The findings stored for `source` (whose digest gave `key`), or None. An entry is
        valid only if analysing `source` could have given it: only `codes`, positions inside
        the file."""
        path = self._path(key)
        try:
            data = json.loads(read_regular(path, ENTRY_LIMIT))
        except FileNotFoundError:
            return None
        except OSError as error:
            if error.errno in (errno.EINVAL, errno.EFBIG):  # a FIFO, a device, a huge file
                self.warnings.append(f"ignoring cache entry {path}: {error.strerror}")
            else:  # the folder itself is unusable (a file, no permission): once, not per file
                self._warn_once(f"cache not read ({error.strerror or error}) in {self.folder}")
            return None
        except (ValueError, RecursionError) as error:  # RecursionError: [[[[...]]]] nesting
            self.warnings.append(f"ignoring unreadable cache entry {path}: {error}")
            return None
        findings = _validate(data, key, _Bounds.of(source, codes))
        if findings is None:
            self.warnings.append(f"ignoring invalid cache entry {path}")
        return findings

    def put(self, key: str, findings: list[RawFinding]) -> None:
        path = self._path(key)
        try:
            self._prepare()
            _make_folder(path.parent.parent)
            _make_folder(path.parent)
            payload = json.dumps({"format": _FORMAT, "key": key, "findings": findings})
            _write(path, payload)
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
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        _make_folder(self.folder)
        for name, text in ((".gitignore", "# Created by pyarch-lint\n*\n"), ("CACHEDIR.TAG", _TAG)):
            if not os.path.lexists(self.folder / name):
                _write(self.folder / name, text)
        self._ready = True


def _make_folder(folder: Path) -> None:
    """Create `folder` if need be; refuse it if it is a symlink (a repository could point one
    anywhere, and entries would be written there)."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir()
    if folder.is_symlink() or not folder.is_dir():
        raise OSError(errno.ENOTDIR, "a file or a symlink where a folder should be", str(folder))


def _write(path: Path, text: str) -> None:
    """Written aside and renamed: a reader never sees half an entry, and a symlink in the way
    is replaced, never followed."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@dataclass(frozen=True, slots=True)
class _Bounds:
    """What analysing one file's bytes can give."""

    codes: frozenset[str]
    lines: int  # at least the file's line count
    columns: int  # at least one past its longest line

    @classmethod
    def of(cls, source: bytes, codes: frozenset[str]) -> _Bounds:
        # Cheap upper bounds (a warm run reads every file): \r\n counts twice, a column in
        # characters never exceeds one in bytes; the slack covers an error after the last line.
        return cls(codes, source.count(b"\n") + source.count(b"\r") + 2, len(source) + 2)


def _is_position(value: Any, bound: int) -> bool:
    return type(value) is int and 1 <= value <= bound  # exactly int: JSON's true is no line


def _validate(data: Any, key: str, bounds: _Bounds) -> list[RawFinding] | None:
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
        return None
    findings = data.get("findings")
    if not isinstance(findings, list):
        return None
    result: list[RawFinding] = []
    for item in findings:
        if not (isinstance(item, list) and len(item) == 6):
            return None
        line, column, end_line, end_column, code, message = item
        if not (
            _is_position(line, bounds.lines)
            and _is_position(end_line, bounds.lines)
            and line <= end_line
            and _is_position(column, bounds.columns)
            and _is_position(end_column, bounds.columns)
            and code in bounds.codes
            and isinstance(message, str)
        ):
            return None
        result.append((line, column, end_line, end_column, code, message))
    return result
