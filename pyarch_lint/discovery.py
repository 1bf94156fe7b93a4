"""paths -> files: what git lists inside a work tree, else a walk; default and configured
excludes on top, .gitignore.

Inside a git work tree a folder's files are the ones `git ls-files --cached --others
--exclude-standard` lists (asked once per work tree), so every ignore source counts as git
counts it: nested `.gitignore` files with their negations, `.git/info/exclude`,
`core.excludesFile`. A tracked file is listed even when a pattern matches it; one deleted on
disk is skipped. Git lists a submodule, a nested repository or a symlinked folder as one entry
and so we do not enter them; named explicitly, each is checked. Outside a work tree, with
`respect-gitignore = false`, or when git is missing or refuses the repository, folders are
walked, reading `.gitignore` files along the way.

A file named explicitly is always checked (pre-commit passes files by name) unless
`--force-exclude`, which applies the excludes and what git ignores. Only regular files are ever
opened: FIFOs, sockets, devices, directories named `*.py` and broken or looping symlinks are
skipped and mentioned under `-v`.
"""

from __future__ import annotations

import bisect
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path, PurePath

import pathspec

from pyarch_lint.config import Settings
from pyarch_lint.engine import SourceFile
from pyarch_lint.errors import LintError
from pyarch_lint.files import read_regular
from pyarch_lint.git import run_git
from pyarch_lint.gitdiff import repository_root

_SUFFIXES = (".py", ".pyi")
_LISTED = (*_SUFFIXES, "/")  # what discovery keeps of git's listing


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


@dataclass(frozen=True, slots=True)
class _Named:
    """A path named on the command line."""

    shown: Path  # absolute, as given
    resolved: Path
    is_dir: bool
    tree: Path | None  # the git work tree holding it, when it matters (found without git)
    in_tree: str  # its path relative to `tree` as git names it: "" for the top


@dataclass(frozen=True, slots=True)
class _GitView:
    """What git says about the paths named inside one work tree."""

    top: str  # the work tree's real path
    listed: list[str]  # tracked or untracked-and-not-ignored Python files below them, sorted
    ignored: frozenset[str]  # the named paths git ignores


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
    named = [_named(given, cwd, force_exclude, note) for given in paths]
    wanted = [item for item in named if item is not None]
    views = _git_views(wanted, spec, force_exclude, note) if settings.respect_gitignore else {}
    found: dict[str, SourceFile] = {}  # by real location: each file once
    for item in wanted:
        if item.is_dir:
            folder = _folder(
                item, settings, spec, views=views, force_exclude=force_exclude, note=note
            )
            for file, shown, key in folder:
                if key not in found:
                    found[key] = SourceFile(_display(shown, str(cwd)), file)
        elif not (force_exclude and _explicit_excluded(item, settings, spec, views, note)):
            found.setdefault(
                str(item.resolved), SourceFile(_display(str(item.shown), str(cwd)), item.shown)
            )
    return sorted(found.values(), key=lambda f: f.display)


def shown_as(given: Path, cwd: Path) -> str:
    """How a file named `given` (which need not exist) is shown: as discovery names files."""
    return _display(os.path.abspath(cwd / given), str(cwd))


def excluded_name(given: Path, settings: Settings, *, cwd: Path, note: Note) -> bool:
    """Would `--force-exclude` leave out a file named `given`, which need not exist (the name
    standard input is linted under)? The excludes, and .gitignore as git sees it."""
    absolute = Path(os.path.abspath(cwd / given))
    folder = absolute.parent
    while not folder.is_dir() and folder != folder.parent:  # a name in a folder not made yet
        folder = folder.parent
    resolved = folder.resolve() / absolute.relative_to(folder)
    tree = repository_root(folder)
    in_tree = "" if tree is None else resolved.relative_to(tree).as_posix()
    if tree is None or ".git" in in_tree.split("/"):
        item = _Named(absolute, resolved, False, None, "")
    else:
        item = _Named(absolute, resolved, False, tree, in_tree)
    spec = _exclude_spec(settings, note)
    views = _git_views([item], spec, True, note) if settings.respect_gitignore else {}
    return _explicit_excluded(item, settings, spec, views, note)


def _named(given: Path, cwd: Path, force_exclude: bool, note: Note) -> _Named | None:
    """The path, checked: PathNotFound when missing, None (with a note) when not a regular file
    or a folder. Its work tree is looked up for a folder, and for a file only under
    `--force-exclude`: otherwise a file named explicitly is checked whatever git says."""
    absolute = (cwd / given).absolute()
    if not os.path.lexists(absolute):
        raise PathNotFound(f"{given}: no such file or directory")
    is_dir = absolute.is_dir()  # False for a broken or looping symlink, which cannot resolve
    if not is_dir and not _is_regular(absolute, note):
        return None
    resolved = absolute.resolve()
    if not (is_dir or force_exclude):
        return _Named(absolute, resolved, is_dir, None, "")
    as_git_names = resolved if is_dir else absolute.parent.resolve() / absolute.name
    tree = repository_root(as_git_names if is_dir else as_git_names.parent)
    in_tree = "" if tree is None else as_git_names.relative_to(tree).as_posix()
    if tree is None or ".git" in in_tree.split("/"):  # git lists nothing inside its own folder
        return _Named(absolute, resolved, is_dir, None, "")
    return _Named(absolute, resolved, is_dir, tree, "" if in_tree == "." else in_tree)


def _folder(
    item: _Named,
    settings: Settings,
    spec: _Patterns,
    *,
    views: Mapping[Path, _GitView],
    force_exclude: bool,
    note: Note,
) -> Iterator[tuple[Path, str, str]]:
    """The files of a folder named on the command line: git's listing inside a work tree, else
    the walk, both under the excludes."""
    root = settings.root.resolve()
    view = views.get(item.tree) if item.tree is not None else None
    respect = settings.respect_gitignore
    if view is not None:
        ignores: list[_Ignore] = []
        git_ignored = item.in_tree in view.ignored
    else:
        ignores = _parent_ignores(item.resolved, root, note) if respect else []
        git_ignored = _git_ignored(item.resolved, True, ignores)
    if _excluded(item.resolved, True, settings, spec) or git_ignored:
        if force_exclude:
            return
        # Named explicitly inside an excluded or git-ignored folder (`examples/`, a downloaded
        # corpus): wanted, so match what lies below as if it were the root, or every file in
        # it would match through the folder and nothing be checked.
        root = item.resolved
        ignores = _parent_ignores(root, root, note) if respect else []
    if view is not None and not git_ignored:  # below an ignored folder git lists nothing
        yield from _listed(view, item, str(root), spec, note)
    else:
        yield from _walk(
            item,
            str(root),
            spec,
            respect_gitignore=respect,
            ignores=ignores,
            note=note,
        )


def _explicit_excluded(
    item: _Named, settings: Settings, spec: _Patterns, views: Mapping[Path, _GitView], note: Note
) -> bool:
    """Under `--force-exclude`: does an exclude or .gitignore (as git sees it) match a file
    named explicitly?"""
    if _excluded(item.resolved, False, settings, spec):
        return True
    if item.tree is not None and item.tree in views:
        return item.in_tree in views[item.tree].ignored
    if not settings.respect_gitignore:
        return False
    ignores = _parent_ignores(item.resolved.parent, settings.root.resolve(), note)
    return _git_ignored(item.resolved, False, ignores)


def _git_views(
    named: Sequence[_Named], spec: _Patterns, force_exclude: bool, note: Note
) -> dict[Path, _GitView]:
    """For each work tree holding a named path, what git says, asked once per work tree: the
    files below the named folders, and which named paths it ignores. A work tree git cannot
    answer for (no git, not a repository after all, a repository git distrusts) has no view:
    its folders are walked."""
    asked: dict[Path, tuple[list[str], list[str]]] = {}  # work tree: named folders, files
    for item in named:
        if item.tree is not None:
            folders, files = asked.setdefault(item.tree, ([], []))
            (folders if item.is_dir else files).append(item.in_tree)
    views = {}
    for tree, (folders, files) in asked.items():
        try:
            view = _git_view(tree, folders, files, _prunable(spec, folders))
        except _GitRefused as error:
            note(f"{error}: walking {tree}, reading .gitignore files")
            continue
        views[tree] = view
    return views


class _GitRefused(Exception):
    """git could not answer for a work tree; the message says why."""


def _ask_git(arguments: Sequence[str | bytes], tree: Path, stdin: bytes = b"") -> list[str]:
    """The NUL-separated names git prints, decoded as the file system does (surrogate escapes
    for bytes that are not UTF-8). Exit status 1 is `check-ignore` finding nothing ignored."""
    try:
        answer = run_git(arguments, tree, stdin)
    except OSError as error:
        raise _GitRefused(f"git cannot run ({error.strerror or error})") from None
    if answer.returncode not in (0, 1):
        message = answer.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _GitRefused(f"git failed: {message[0] if message else answer.returncode}")
    return [name for name in os.fsdecode(answer.stdout).split("\0") if name]


def _prunable(spec: _Patterns, folders: list[str]) -> list[str]:
    """The excludes git may apply to untracked files itself (`ls-files --exclude`), so that it
    does not list a `.venv` nobody ignored only for us to drop it: the plain names, which mean
    the same to git at any depth. Not a name on the way to a named folder: git would drop the
    whole folder, where we match below a folder named explicitly as below the root."""
    on_the_way = {part for folder in folders for part in folder.split("/")}
    names = [name for name in spec.names if name not in on_the_way]
    return names + [f"{name}/" for name in spec.folder_names if name not in on_the_way]


def _git_view(tree: Path, folders: list[str], files: list[str], prune: list[str]) -> _GitView:
    """Which of the named folders and files git ignores, then what it lists in the others."""
    ignored: frozenset[str] = frozenset()
    questions = [name for name in (*folders, *files) if name]  # the top is never ignored
    if questions:
        stdin = b"".join(os.fsencode(name) + b"\0" for name in questions)
        ignored = frozenset(_ask_git(["check-ignore", "-z", "--stdin"], tree, stdin))
    specs = sorted({name or "." for name in folders if name not in ignored})
    listed: list[str] = []
    if specs:
        listing: list[str | bytes] = ["--literal-pathspecs", "ls-files", "-z", "--cached"]
        listing += ["--others", "--exclude-standard"]
        listing += [f"--exclude={name}" for name in sorted(prune)]
        listing += ["--", *map(os.fsencode, specs)]
        # Python files, and nested repositories (`name/`) for a note; sorted: a folder's files
        # are then one run, found by bisection
        listed = sorted(name for name in _ask_git(listing, tree) if name.endswith(_LISTED))
    return _GitView(str(tree), listed, ignored)


def _listed(
    view: _GitView, item: _Named, root: str, spec: _Patterns, note: Note
) -> Iterator[tuple[Path, str, str]]:
    """The Python files git lists below the named folder that no exclude matches, as _walk
    yields them. Excludes are decided as the walk decides them, once per folder: a folder is
    out when its parent is or an exclude matches it."""
    start = item.in_tree
    prefix = f"{start}/" if start else ""
    top_slash = _slashed(view.top)
    shown_slash = _slashed(str(item.shown))

    def below(folder: str) -> str:
        return _relative(top_slash + folder if folder else view.top, root) or ""

    # Each folder met (relative to the top): where it is below the root, as patterns see it,
    # or None when it is excluded.
    folders = {start: None if _on_the_way(spec, below(start)) else below(start)}
    shown_folders: dict[str, Path] = {}
    listed = view.listed
    for index in range(bisect.bisect_left(listed, prefix), len(listed)):
        name = listed[index]
        if not name.startswith(prefix):
            break
        if name.endswith("/"):  # git does not list inside a nested repository
            note(f"skipping {shown_slash}{name[len(prefix) :]}: a nested git repository")
            continue
        folder, _, base = name.rpartition("/")
        where = _folder_below(folder, folders, spec, below)
        if where is None or _matches(spec, where, base, False):
            continue
        shown = shown_slash + name[len(prefix) :]
        key = _regular_key(top_slash + name, shown, note)
        if key is None:
            continue
        path = shown_folders.get(folder)
        if path is None:
            path = shown_folders[folder] = Path(shown).parent
        yield path / base, shown, key


def _folder_below(
    folder: str, folders: dict[str, str | None], spec: _Patterns, below: Callable[[str], str]
) -> str | None:
    """`folder` below the root as patterns see it, or None when it is excluded. `folders` holds
    the folders decided so far, the named one among them; the ones on the way down from there
    are decided and added."""
    undecided = []
    while folder not in folders:
        undecided.append(folder)
        folder = folder.rpartition("/")[0]
    known = folders[folder]
    for folder in reversed(undecided):
        if known is not None:
            excluded = _matches(spec, known, folder.rpartition("/")[2], True)
            known = None if excluded else below(folder)
        folders[folder] = known
    return known


def _regular_key(real: str, shown: str, note: Note) -> str | None:
    """The real location of a listed file, or None (with a note) when it is not a regular file
    or a symlink to one: a FIFO, a tracked file deleted from disk, a submodule named `*.py`."""
    try:
        mode = os.lstat(real).st_mode
    except OSError as error:
        note(f"skipping {shown}: {error.strerror or error}")
        return None
    if stat.S_ISREG(mode):
        return real
    if stat.S_ISLNK(mode) and _is_regular(shown, note):
        return os.path.realpath(real)
    if not stat.S_ISLNK(mode):
        note(f"skipping {shown}: not a regular file")
    return None


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
    item: _Named,
    root: str,
    spec: _Patterns,
    *,
    respect_gitignore: bool,
    ignores: list[_Ignore],
    note: Note,
) -> Iterator[tuple[Path, str, str]]:
    """Depth-first, without following a symlinked folder twice (no loops). Yields each file as
    shown (a Path and its text) and as a key naming its real location. Paths are plain strings
    here: this loop meets every entry of the tree, and pathlib's operations cost most of a warm
    run. `ignores` are the .gitignore files in force where it starts; with `respect_gitignore`,
    those met on the way are read."""
    start = str(item.resolved)
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, str, list[_Ignore]]] = [(start, str(item.shown), ignores)]
    while stack:
        real, folder, inherited = stack.pop()
        if not _first_visit(real, folder, seen, note):
            continue
        entries = _entries(real, folder, note)
        active = inherited
        if respect_gitignore and real != start:
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
