"""paths -> files: recursion, default and configured excludes, .gitignore.

A file named explicitly is always checked (pre-commit passes files by name) unless
`--force-exclude`. Only regular files are ever opened: FIFOs, sockets, devices, directories named
`*.py` and broken or looping symlinks are skipped and mentioned under `-v`.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from pyarch_lint.config import Settings
from pyarch_lint.engine import SourceFile
from pyarch_lint.files import read_regular

_SUFFIXES = (".py", ".pyi")


class PathNotFound(Exception):
    """A path given on the command line does not exist (exit 2)."""


@dataclass(frozen=True, slots=True)
class _Ignore:
    """One folder's .gitignore, matched against paths relative to that folder."""

    base: Path
    spec: pathspec.PathSpec[pathspec.Pattern]


def _display(path: Path, cwd: Path) -> str:
    """As the user would type it: relative to the working folder when below it."""
    relative = _relative(str(path), str(cwd))
    return relative if relative else path.as_posix()


Note = Callable[[str], None]

# pathspec matches with backtracking regular expressions: `*a*a*a*b` against a 255-character
# name takes seconds, each further `*` a hundred times longer. A repository's .gitignore or
# config is not trusted to stall discovery, so a pattern with more than this many `*` in one
# path segment (`**` aside) is left out, with a note; real patterns have one or two.
_MAX_STARS = 2


def _bounded(lines: Iterable[str], where: str, note: Note) -> list[str]:
    kept = []
    for line in lines:
        segments = line.strip().split("/")
        if any(part != "**" and part.count("*") > _MAX_STARS for part in segments):
            note(
                f"ignoring pattern {line.strip()!r} in {where}: more than {_MAX_STARS} `*` in "
                "one path segment cannot be matched in bounded time"
            )
            continue
        kept.append(line)
    return kept


def _exclude_spec(settings: Settings, note: Note) -> pathspec.PathSpec[pathspec.Pattern]:
    where = str(settings.config_path or "the settings")
    patterns = _bounded([*settings.exclude, *settings.extend_exclude], where, note)
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def _relative_to_root(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _excluded(
    path: Path, is_dir: bool, settings: Settings, spec: pathspec.PathSpec[pathspec.Pattern]
) -> bool:
    """Excludes match a path relative to the project root (a pattern without a slash matches at
    any depth, one with a leading slash only at the root); outside the root, the bare name."""
    relative = _relative_to_root(path, settings.root)
    suffix = "/" if is_dir else ""
    if relative is not None:
        return spec.match_file(relative + suffix)
    return spec.match_file(path.name + suffix)


_GITIGNORE_LIMIT = 16 * 1024 * 1024  # bytes; a bigger one is not a .gitignore anyone wrote


def _gitignore(folder: Path, note: Note) -> _Ignore | None:
    ignore_file = folder / ".gitignore"
    try:
        data = read_regular(ignore_file, _GITIGNORE_LIMIT)
    except OSError:
        return None
    lines = _bounded(data.decode("utf-8", errors="replace").splitlines(), str(ignore_file), note)
    return _Ignore(folder, pathspec.PathSpec.from_lines("gitignore", lines))


def _git_ignored(path: Path, is_dir: bool, ignores: Sequence[_Ignore]) -> bool:
    for ignore in ignores:
        relative = _relative_to_root(path, ignore.base)
        if relative is not None and ignore.spec.match_file(relative + ("/" if is_dir else "")):
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
            for file, key in walked:
                found.setdefault(key, SourceFile(_display(file, cwd), file))
            continue
        if force_exclude and _excluded(resolved, False, settings, spec):
            continue
        found.setdefault(str(resolved), SourceFile(_display(absolute, cwd), absolute))
    return sorted(found.values(), key=lambda f: f.display)


def _is_regular(path: Path, note: Note) -> bool:
    try:
        mode = path.stat().st_mode
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


def _below(folder: str | None, name: str) -> str | None:
    if folder is None:
        return None
    return f"{folder}/{name}" if folder else name


def _walk(
    resolved: Path,
    shown: Path,
    settings: Settings,
    spec: pathspec.PathSpec[pathspec.Pattern],
    *,
    ignores: list[_Ignore],
    note: Note,
) -> Iterator[tuple[Path, str]]:
    """Depth-first, without following a symlinked folder twice (no loops). Yields each file as
    shown and as a key naming its real location. Paths are compared as strings here: this loop
    meets every entry of the tree, and pathlib's operations cost most of a warm run."""
    root = str(settings.root.resolve())
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, Path, list[_Ignore]]] = [(resolved, shown, ignores)]
    while stack:
        real, folder, inherited = stack.pop()
        if not _first_visit(real, folder, seen, note):
            continue
        entries = _entries(real, folder, note)
        active = inherited
        if settings.respect_gitignore and real != resolved:
            active = _with_own_ignores(real, entries, inherited, note)
        real_text = str(real)
        from_root = _relative(real_text, root)
        from_ignores = [(i.spec, _relative(real_text, str(i.base))) for i in active]
        subfolders = []
        for entry, is_dir in entries:
            if _ignored(entry.name, is_dir, spec, from_root, from_ignores):
                continue
            if is_dir:
                child = real / entry.name
                subfolders.append(
                    (child.resolve() if entry.is_symlink() else child, folder / entry.name, active)
                )
            elif entry.name.endswith(_SUFFIXES):
                found = _source_file(entry, folder, real_text, note)
                if found is not None:
                    yield found
        stack.extend(reversed(subfolders))


def _first_visit(real: Path, shown: Path, seen: set[tuple[int, int]], note: Note) -> bool:
    """Is the folder there, and not met before (through a symlink)? Records it as met."""
    try:
        info = real.stat()
    except OSError as error:
        note(f"skipping {shown}: {error.strerror or error}")
        return False
    if (info.st_dev, info.st_ino) in seen:
        note(f"skipping {shown}: already visited (symlink loop?)")
        return False
    seen.add((info.st_dev, info.st_ino))
    return True


def _source_file(
    entry: os.DirEntry[str], folder: Path, real_text: str, note: Note
) -> tuple[Path, str] | None:
    """A Python file as shown and as the key of its real location; None for a FIFO, socket,
    device or broken link, which is never opened (stat says which, with a note)."""
    if not entry.is_file() and not _is_regular(folder / entry.name, note):
        return None
    key = os.path.join(real_text, entry.name)
    return folder / entry.name, os.path.realpath(key) if entry.is_symlink() else key


def _ignored(
    name: str,
    is_dir: bool,
    spec: pathspec.PathSpec[pathspec.Pattern],
    from_root: str | None,
    from_ignores: list[tuple[pathspec.PathSpec[pathspec.Pattern], str | None]],
) -> bool:
    """Is the entry `name` of the folder being walked excluded, or ignored by a .gitignore?"""
    suffix = "/" if is_dir else ""
    relative = _below(from_root, name)
    if spec.match_file((name if relative is None else relative) + suffix):
        return True
    return any(
        below is not None and ignore.match_file(f"{below}{suffix}")
        for ignore, below in ((i, _below(b, name)) for i, b in from_ignores)
    )


def _with_own_ignores(
    real: Path, entries: list[tuple[os.DirEntry[str], bool]], inherited: list[_Ignore], note: Note
) -> list[_Ignore]:
    """The ignores in force inside `real`: the inherited ones, then its own .gitignore if it
    lists one (the starting folder's own is already among the inherited ones)."""
    if not any(entry.name == ".gitignore" for entry, _ in entries):
        return inherited
    local = _gitignore(real, note)
    return inherited if local is None else [*inherited, local]


def _entries(real: Path, shown: Path, note: Note) -> list[tuple[os.DirEntry[str], bool]]:
    """A folder's entries by name, each with whether it is a folder (symlinks followed); an
    entry that cannot tell (a symlink loop, gone meanwhile) is skipped with a note."""
    try:
        entries = sorted(os.scandir(real), key=lambda e: e.name)
    except OSError as error:
        note(f"skipping {shown}: {error.strerror or error}")
        return []
    listed = []
    for entry in entries:
        try:
            listed.append((entry, entry.is_dir()))
        except OSError as error:
            note(f"skipping {shown / entry.name}: {error.strerror or error}")
    return listed
