"""A content-addressed cache: a file's analysis keyed by its bytes, the settings and the version.

A file's analysis is its findings, the excerpt of the file their reports show and the file's
facts (see `excerpt` and `facts`). One JSON document per source folder (a shard) holds the
analyses of that folder's files, each under the file's name with the hash of the bytes it was
made of; a lookup hits only when the
file's current bytes hash the same. A run over a whole tree reads one shard per folder rather
than one entry per file, and a run over one file reads one small shard. A shard is rewritten
only when one of its files was analysed, and then forgets the files that no longer exist.

Shards are kept by `storage`, which signs each one with the user's cache key and reads it
safely from a folder the linted repository controls: a shard copied from elsewhere, planted or
altered does not verify and is a miss (a note under -v). What verifies is JSON data, still
validated: never pickled, never executed; a malformed shard or entry is a miss with a warning,
and an entry can only ever apply to the exact bytes it was written for, with codes the run can
report and positions and excerpt lines inside the file. Two runs writing the same shard at
once: the last one wins, and the other's entries are simply computed again next time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pyarch_lint import __version__, excerpt, facts
from pyarch_lint.excerpt import NO_EXCERPT, Excerpt
from pyarch_lint.facts import NO_FACTS, FileFacts
from pyarch_lint.findings import Applicability, RawFinding
from pyarch_lint.storage import Store, UnusableEntry

CACHE_DIR_NAME = ".pyarch_lint_cache"
_FORMAT = 4
_SHARDS = "findings"

SHARD_LIMIT = 64 * 1024 * 1024  # bytes: ten times all of django's findings; no memory problem


@dataclass(frozen=True, slots=True)
class Analysis:
    """What analysing one file's bytes gives: cacheable findings with what their reports show
    of the file, the file's facts, which findings have a fix, and rule crashes (not cached)."""

    key: str  # the digest of the bytes analysed; "" when they could not be read
    findings: list[RawFinding]
    crashes: list[str] = field(default_factory=list)
    excerpt: Excerpt = NO_EXCERPT
    facts: FileFacts = NO_FACTS
    # Index in `findings` -> how its fix applies; the fix itself is made again when applied
    # (`fixes` analyses the file it fixes afresh), this says which findings `[*]` marks.
    fixes: dict[int, Applicability] = field(default_factory=dict)


def digest(*parts: bytes | str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


# A shard's entries: file name -> [hash of its bytes, findings, excerpt, facts, fixes], as read
# from JSON; the excerpt and the facts are JSON documents of their own (strings), the fixes
# pairs [index of a finding, "safe" or "unsafe"].
_Entries = dict[str, Any]


@dataclass
class Cache:
    """The shards in one store. `warnings` collects problems to show once, never raised."""

    store: Store
    namespace: str  # what besides the bytes decides the findings: settings fingerprint
    warnings: list[str] = field(default_factory=list)
    _shards: dict[str, _Entries] = field(default_factory=dict)  # by source folder, as read
    _changed: set[str] = field(default_factory=set)  # source folders with new entries

    def get(
        self,
        path: str,
        content: str,
        source: bytes,
        codes: frozenset[str],
        *,
        with_excerpt: bool = True,
        with_facts: bool = True,
    ) -> Analysis | None:
        """The analysis stored for `path` (relative to the project root, `/`-separated) if it
        was made of bytes hashing to `content`, else None. An entry is valid only if analysing
        `source` could have given it: only `codes`, positions and lines inside the file.

        The excerpt and the facts are read only if asked for (else the analysis has none): each
        is stored as a JSON document of its own inside the entry, which the shard's parser only
        scans past (django's shards: 0.07 s to parse so, 0.17 s with both parsed in place)."""
        folder, _, name = path.rpartition("/")
        entry = self._entries(folder).get(name)
        if entry is None:
            return None
        if not (
            type(entry) is list
            and len(entry) == 5
            and type(entry[0]) is str
            and type(entry[2]) is str
            and type(entry[3]) is str
        ):
            self._warn_once(f"ignoring invalid cache entry for {path} in {self._path(folder)}")
            return None
        if entry[0] != content:  # the file changed since: an ordinary miss
            return None
        bounds = _Bounds.of(source, codes)
        found = _validate(entry[1], bounds)
        shown = _part(excerpt.from_json, entry[2], bounds) if with_excerpt else NO_EXCERPT
        known = _part(facts.from_json, entry[3], bounds) if with_facts else NO_FACTS
        fixes = None if found is None else _fixes(entry[4], len(found))
        if found is None or shown is None or known is None or fixes is None:
            self._warn_once(f"ignoring invalid cache entry for {path} in {self._path(folder)}")
            return None
        return Analysis(content, found, excerpt=shown, facts=known, fixes=fixes)

    def put(self, path: str, analysis: Analysis) -> None:
        folder, _, name = path.rpartition("/")
        self._entries(folder)[name] = [
            analysis.key,
            analysis.findings,
            json.dumps(excerpt.to_json(analysis.excerpt), separators=(",", ":")),
            json.dumps(facts.to_json(analysis.facts), separators=(",", ":")),
            [[index, fix.value] for index, fix in analysis.fixes.items()],
        ]
        self._changed.add(folder)

    def save(self) -> None:
        """Write the shards that changed, without the files that no longer exist. Paths are
        relative to the project root, the folder the store's folder is in."""
        if not self._changed:
            return
        try:
            for folder in sorted(self._changed):
                entries = self._shards[folder]
                base = self.store.folder.parent / folder
                kept = {name: e for name, e in entries.items() if os.path.lexists(base / name)}
                document = {"format": _FORMAT, "key": self._key(folder), "files": kept}
                payload = json.dumps(document, separators=(",", ":")).encode("utf-8")
                self.store.write(self._name(folder), payload)
        except OSError as error:
            reason = error.strerror or str(error)
            self._warn_once(
                f"cache not written ({reason}) in {self.store.folder}; results are unaffected"
            )
        self._changed.clear()

    def _key(self, folder: str) -> str:
        return digest(__version__, self.namespace, folder)

    def _name(self, folder: str) -> str:
        return f"{_SHARDS}/{self._key(folder)}.json"

    def _path(self, folder: str) -> Path:
        return self.store.path(self._name(folder))

    def _entries(self, folder: str) -> _Entries:
        entries = self._shards.get(folder)
        if entries is None:
            entries = self._shards[folder] = self._read(folder)
        return entries

    def _read(self, folder: str) -> _Entries:
        path = self._path(folder)
        try:
            payload = self.store.read(self._name(folder), SHARD_LIMIT)
        except UnusableEntry as error:  # a FIFO, a device, a symlink, a huge file
            self._warn_once(f"ignoring cache shard {path}: {error.strerror}")
            return {}
        except OSError as error:  # the folder itself is unusable (a file, no permission): once
            self._warn_once(f"cache not read ({error.strerror or error}) in {self.store.folder}")
            return {}
        if payload is None:
            return {}
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError) as error:  # RecursionError: [[[[...]]]] nesting
            self._warn_once(f"ignoring unreadable cache shard {path}: {error}")
            return {}
        if not (
            isinstance(data, dict)
            and data.get("format") == _FORMAT
            and data.get("key") == self._key(folder)
            and isinstance(data.get("files"), dict)
        ):
            self._warn_once(f"ignoring invalid cache shard {path}")
            return {}
        files: _Entries = data["files"]
        return files

    def _warn_once(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


Part = TypeVar("Part")


def _part(
    read: Callable[[Any, int, int], Part | None], document: str, bounds: _Bounds
) -> Part | None:
    """An entry's excerpt or facts, from the JSON document they are stored as."""
    try:
        data = json.loads(document)
    except (ValueError, RecursionError):
        return None
    return read(data, bounds.lines, bounds.columns)


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


def _validate(findings: Any, bounds: _Bounds) -> list[RawFinding] | None:
    # One flat check per finding: a warm run validates every finding of the tree. Positions
    # must be exactly int (JSON's true is no line), 1-based, in order and inside the file.
    if type(findings) is not list:
        return None
    lines, columns, codes = bounds.lines, bounds.columns, bounds.codes
    result: list[RawFinding] = []
    for item in findings:
        if type(item) is not list or len(item) != 6:
            return None
        line, column, end_line, end_column, code, message = item
        if not (
            type(line) is int
            and type(end_line) is int
            and type(column) is int
            and type(end_column) is int
            and 1 <= line <= end_line <= lines
            and 1 <= column <= columns
            and 1 <= end_column <= columns
            and type(code) is str
            and code in codes
            and type(message) is str
        ):
            return None
        result.append((line, column, end_line, end_column, code, message))
    return result


_APPLICABILITY = {a.value: a for a in Applicability}


def _fixes(pairs: Any, count: int) -> dict[int, Applicability] | None:
    """An entry's fixes, each about one of its `count` findings."""
    if type(pairs) is not list:
        return None
    fixes = {}
    for pair in pairs:
        if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is int):
            return None
        index, value = pair
        applicability = _APPLICABILITY.get(value) if type(value) is str else None
        if applicability is None or not 0 <= index < count:
            return None
        fixes[index] = applicability
    return fixes
