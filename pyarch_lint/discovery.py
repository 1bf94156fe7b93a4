"""paths -> files: recursion, default and configured excludes, .gitignore.

A file named explicitly is always checked (pre-commit passes files by name) unless
`--force-exclude`. Only regular files are ever opened: FIFOs, sockets, devices, directories named
`*.py` and broken or looping symlinks are skipped and mentioned under `-v`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path, PurePath

import pathspec

from pyarch_lint.config import Settings
from pyarch_lint.engine import SourceFile
from pyarch_lint.errors import LintError
from pyarch_lint.files import read_regular

_SUFFIXES = (".py", ".pyi")


class PathNotFound(LintError):
    """A path given on the command line does not exist (exit 2)."""


_Spec = pathspec.PathSpec[pathspec.Pattern]
_Entries = list[tuple[os.DirEntry[str], bool]]  # a folder's entries, each: is it a folder?


@dataclass(frozen=True, slots=True)
class _Ignore:
    """One folder's .gitignore, matched against paths relative to that folder."""

    base: Path
    patterns: _Patterns


def _display(path: str, cwd: str) -> str:
    """As the user would type it: relative to the working folder when below it."""
    relative = _relative(path, cwd)
    return relative if relative else PurePath(path).as_posix()


Note = Callable[[str], None]

# pathspec matches with backtracking regular expressions: `*a*a*a*b` against a 255-character
# name takes seconds, each further `*` a hundred times longer. A repository's .gitignore or
# config is not trusted to stall discovery, so a pattern with more than this many `*` in one
# path segment (`**` aside) is left out, with a note; real patterns have one or two.
_MAX_STARS = 2


def _bounded(lines: Iterable[str], where: str, note: Note) -> list[str]:
    """The patterns pathspec can match in bounded time and accepts at all (a `.gitignore`
    line of a lone `!` or `\\` is one git ignores and pathspec refuses); the rest with a note."""
    kept = []
    for line in lines:
        segments = line.strip().split("/")
        if any(part != "**" and part.count("*") > _MAX_STARS for part in segments):
            note(
                f"ignoring pattern {line.strip()!r} in {where}: more than {_MAX_STARS} `*` in "
                "one path segment cannot be matched in bounded time"
            )
            continue
        try:
            pathspec.PathSpec.from_lines("gitignore", [line])
        except ValueError as error:
            note(f"ignoring pattern {line.strip()!r} in {where}: {error}")
            continue
        kept.append(line)
    return kept


# A gitignore pattern that is one plain name: no slash but an optional trailing one (folders
# only), no glob or escape character, not a negation or comment, no whitespace (which gitignore
# trims). Such a pattern matches a path exactly when one of its components is that name.
_PLAIN_NAME = re.compile(r"[^\s/*?\[\]\\!#][^\s/*?\[\]\\]*/?")


@dataclass(frozen=True, slots=True)
class _Patterns:
    """A gitignore-style pattern list, split so that most entries never reach pathspec: it tries
    each pattern's regular expression in turn, and asked for every entry of a big tree that was
    most of discovery's time. Without a negation a path matches when any one pattern does, so the
    plain names become two set lookups and only the other patterns (`rest`) go through pathspec.
    A list with a negation keeps every pattern in `rest`, in order: a later `!name` may
    re-include what an earlier one matched."""

    full: _Spec  # every pattern: exactly what the list means
    names: frozenset[str]  # plain names: match a component of any kind
    folder_names: frozenset[str]  # plain names written with a trailing '/': a folder component
    rest: _Spec | None  # the patterns that are not plain names; None when there are none


def _patterns(lines: list[str]) -> _Patterns:
    full = pathspec.PathSpec.from_lines("gitignore", lines)
    if any(pattern.include is False for pattern in full.patterns):
        return _Patterns(full, frozenset(), frozenset(), full)
    plain: list[str] = []
    other: list[str] = []
    for line in lines:
        (plain if _PLAIN_NAME.fullmatch(line) else other).append(line)
    rest = pathspec.PathSpec.from_lines("gitignore", other)
    return _Patterns(
        full,
        frozenset(name for name in plain if not name.endswith("/")),
        frozenset(name[:-1] for name in plain if name.endswith("/")),
        rest if any(pattern.include is not None for pattern in rest.patterns) else None,
    )


def _on_the_way(patterns: _Patterns, below: str) -> bool:
    """Is a folder on the way to `below` (relative to the list's base) one of its plain names?
    Then the list matches every path below it: the walk prunes such a folder where it meets it,
    but through a symlink it reaches folders whose real path runs through an excluded one."""
    if "\n" in below or not below:  # a newline: see _matches
        return False
    parts = below.split("/")
    return not (patterns.names.isdisjoint(parts) and patterns.folder_names.isdisjoint(parts))


def _matches(patterns: _Patterns, below: str, name: str, is_dir: bool) -> bool:
    """Does the entry `name` of the folder at `below` (relative to the list's base) match, as
    pathspec would say, given that no folder on the way does (_on_the_way)?"""
    suffix = "/" if is_dir else ""
    path = f"{below}/{name}{suffix}" if below else f"{name}{suffix}"
    if "\n" in path:  # pathspec's regular expressions match no newline with `.`: ask it
        return patterns.full.match_file(path)
    if name in patterns.names or (is_dir and name in patterns.folder_names):
        return True
    return patterns.rest is not None and patterns.rest.match_file(path)


def _exclude_spec(settings: Settings, note: Note) -> _Patterns:
    where = str(settings.config_path or "the settings")
    return _patterns(_bounded([*settings.exclude, *settings.extend_exclude], where, note))


def _relative_to_root(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _excluded(path: Path, is_dir: bool, settings: Settings, spec: _Patterns) -> bool:
    """Excludes match a path relative to the project root (a pattern without a slash matches at
    any depth, one with a leading slash only at the root); outside the root, the bare name."""
    relative = _relative_to_root(path, settings.root)
    suffix = "/" if is_dir else ""
    if relative is not None:
        return spec.full.match_file(relative + suffix)
    return spec.full.match_file(path.name + suffix)


_GITIGNORE_LIMIT = 16 * 1024 * 1024  # bytes; a bigger one is not a .gitignore anyone wrote


def _gitignore(folder: Path, note: Note) -> _Ignore | None:
    ignore_file = folder / ".gitignore"
    try:
        data = read_regular(ignore_file, _GITIGNORE_LIMIT)
    except OSError:
        return None
    lines = _bounded(data.decode("utf-8", errors="replace").splitlines(), str(ignore_file), note)
    return _Ignore(folder, _patterns(lines))


def _git_ignored(path: Path, is_dir: bool, ignores: Sequence[_Ignore]) -> bool:
    for ignore in ignores:
        relative = _relative_to_root(path, ignore.base)
        if relative is not None and ignore.patterns.full.match_file(
            relative + ("/" if is_dir else "")
        ):
            return True
    return False


def _parent_ignores(folder: Path, root: Path, note: Note) -> list[_Ignore]:
    """.gitignore files between the project root and `folder`, outermost first."""
    chain = [folder, *folder.parents]
    chain = chain[: chain.index(root) + 1] if root in chain else [folder]
    found = (_gitignore(f, note) for f in reversed(chain))
    return [ignore for ignore in found if ignore is not None]


def discover(
    paths: Sequence[Path],
    settings: Settings,
    *,
    cwd: Path,
    force_exclude: bool = False,
    note: Note = lambda _message: None,
) -> list[SourceFile]:
    """Every Python file under `paths`, each once, sorted by display path."""
    spec = _exclude_spec(settings, note)
    root = settings.root.resolve()
    found: dict[str, SourceFile] = {}  # by real location: each file once
    for given in paths:
        absolute = (cwd / given).absolute()
        if not os.path.lexists(absolute):
            raise PathNotFound(f"{given}: no such file or directory")
        is_dir = absolute.is_dir()  # False for a broken or looping symlink, which cannot resolve
        if not is_dir and not _is_regular(absolute, note):
            continue
        resolved = absolute.resolve()
        if is_dir:
            ignores = _parent_ignores(resolved, root, note) if settings.respect_gitignore else []
            walk_settings = settings
            if _excluded(resolved, True, settings, spec) or _git_ignored(resolved, True, ignores):
                if force_exclude:
                    continue
                # Named explicitly inside an excluded or git-ignored folder (`examples/`, a
                # downloaded corpus): wanted, so match what lies below as if it were the root,
                # or every file in it would match through the folder and nothing be checked.
                walk_settings = dataclasses.replace(settings, root=resolved)
                ignores = (
                    _parent_ignores(resolved, resolved, note) if settings.respect_gitignore else []
                )
            walked = _walk(resolved, absolute, walk_settings, spec, ignores=ignores, note=note)
            for file, shown, key in walked:
                if key not in found:
                    found[key] = SourceFile(_display(shown, str(cwd)), file)
            continue
        if force_exclude and _excluded(resolved, False, settings, spec):
            continue
        found.setdefault(str(resolved), SourceFile(_display(str(absolute), str(cwd)), absolute))
    return sorted(found.values(), key=lambda f: f.display)


def _is_regular(path: str | Path, note: Note) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        note(f"skipping {path}: {error.strerror or error}")
        return False
    if not stat.S_ISREG(mode):
        note(f"skipping {path}: not a regular file")
        return False
    return True


def _relative(path: str, base: str) -> str | None:
    """`path` relative to `base` as a posix string, or None when it is not below it."""
    if path == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    return path[len(prefix) :].replace(os.sep, "/") if path.startswith(prefix) else None


def _walk(
    resolved: Path,
    shown: Path,
    settings: Settings,
    spec: _Patterns,
    *,
    ignores: list[_Ignore],
    note: Note,
) -> Iterator[tuple[Path, str, str]]:
    """Depth-first, without following a symlinked folder twice (no loops). Yields each file as
    shown (a Path and its text) and as a key naming its real location. Paths are plain strings
    here: this loop meets every entry of the tree, and pathlib's operations cost most of a warm
    run."""
    root = str(settings.root.resolve())
    start = str(resolved)
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, str, list[_Ignore]]] = [(start, str(shown), ignores)]
    while stack:
        real, folder, inherited = stack.pop()
        if not _first_visit(real, folder, seen, note):
            continue
        entries = _entries(real, folder, note)
        active = inherited
        if settings.respect_gitignore and real != start:
            active = _with_own_ignores(real, entries, inherited, note)
        real_slash, folder_slash = _slashed(real), _slashed(folder)
        subfolders = []
        sources = []
        for entry, is_dir in _kept(entries, _in_force(real, root, spec, active)):
            name = entry.name
            if is_dir:
                child = real_slash + name
                real_child = os.path.realpath(child) if entry.is_symlink() else child
                subfolders.append((real_child, folder_slash + name, active))
            elif name.endswith(_SUFFIXES):
                sources.append(entry)
        yield from _sources(sources, folder_slash, real_slash, note)
        stack.extend(reversed(subfolders))


def _first_visit(real: str, shown: str, seen: set[tuple[int, int]], note: Note) -> bool:
    """Is the folder there, and not met before (through a symlink)? Records it as met."""
    try:
        info = os.stat(real)
    except OSError as error:
        note(f"skipping {shown}: {error.strerror or error}")
        return False
    if (info.st_dev, info.st_ino) in seen:
        note(f"skipping {shown}: already visited (symlink loop?)")
        return False
    seen.add((info.st_dev, info.st_ino))
    return True


def _slashed(folder: str) -> str:
    """The folder ready for a name to be appended: as os.path.join would, but once a folder."""
    return folder if folder.endswith(os.sep) else folder + os.sep


def _sources(
    entries: list[os.DirEntry[str]], folder_slash: str, real_slash: str, note: Note
) -> Iterator[tuple[Path, str, str]]:
    """The folder's Python files, each as shown (a Path and its text) and as the key of its real
    location. A FIFO, socket, device or broken link is never opened: stat says which, with a
    note. One Path is parsed per folder, not per file: parsing is the dearest step per file."""
    folder: Path | None = None
    for entry in entries:
        shown = folder_slash + entry.name
        if not entry.is_file() and not _is_regular(shown, note):
            continue
        if folder is None:
            folder = Path(folder_slash)
        key = real_slash + entry.name
        yield folder / entry.name, shown, os.path.realpath(key) if entry.is_symlink() else key


def _in_force(
    real: str, root: str, spec: _Patterns, ignores: list[_Ignore]
) -> list[tuple[_Patterns, str]]:
    """The pattern lists in force in the folder `real`, each with the folder's path relative to
    its base: the excludes relative to the project root (outside it, the bare name is matched),
    and each .gitignore the folder is below."""
    lists = [(spec, _relative(real, root) or "")]
    for ignore in ignores:
        below = _relative(real, str(ignore.base))
        if below is not None:
            lists.append((ignore.patterns, below))
    return lists


def _kept(entries: _Entries, lists: list[tuple[_Patterns, str]]) -> _Entries:
    """The entries of a folder that no pattern list in force matches (excluded or git-ignored).
    Usually one list of plain names: set lookups inline, no function call per entry."""
    if any(_on_the_way(patterns, below) for patterns, below in lists):
        return []
    patterns, below = lists[0]
    if len(lists) > 1 or patterns.rest is not None or "\n" in below:
        return [
            (entry, is_dir)
            for entry, is_dir in entries
            if not any(_matches(p, b, entry.name, is_dir) for p, b in lists)
        ]
    names, folder_names = patterns.names, patterns.folder_names
    return [
        (entry, is_dir)
        for entry, is_dir in entries
        if not (
            entry.name in names
            or (is_dir and entry.name in folder_names)
            or ("\n" in entry.name and _matches(patterns, below, entry.name, is_dir))
        )
    ]


def _with_own_ignores(
    real: str, entries: _Entries, inherited: list[_Ignore], note: Note
) -> list[_Ignore]:
    """The ignores in force inside `real`: the inherited ones, then its own .gitignore if it
    lists one (the starting folder's own is already among the inherited ones)."""
    if not any(entry.name == ".gitignore" for entry, _ in entries):
        return inherited
    local = _gitignore(Path(real), note)
    return inherited if local is None else [*inherited, local]


def _entries(real: str, shown: str, note: Note) -> _Entries:
    """A folder's entries by name, each with whether it is a folder (symlinks followed); an
    entry that cannot tell (a symlink loop, gone meanwhile) is skipped with a note."""
    try:
        with os.scandir(real) as listing:
            entries = sorted(listing, key=attrgetter("name"))
    except OSError as error:
        note(f"skipping {shown}: {error.strerror or error}")
        return []
    listed = []
    for entry in entries:
        try:
            listed.append((entry, entry.is_dir()))
        except OSError as error:
            note(f"skipping {os.path.join(shown, entry.name)}: {error.strerror or error}")
    return listed
