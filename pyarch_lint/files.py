"""Reading a file that a linted repository controls (only ever a regular file), its lines, and
rewriting one in place (`--add-noqa`, `--fix`).

A FIFO, socket or device in a regular file's place (put there after discovery, or reached
through a symlink such as `.gitignore -> /dev/zero`) is refused before a read could block for
ever or never end: the file is opened without blocking and checked with fstat first.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pathspec

READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
READ_FLAGS |= getattr(os, "O_BINARY", 0)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; OSError for anything else."""
    return read_opened(os.open(path, READ_FLAGS), limit, path)


def read_opened(descriptor: int, limit: int | None, path: Path) -> bytes:
    """`read_regular` for a file already opened (with O_NONBLOCK), which this closes."""
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if limit is not None and info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        with open(descriptor, "rb", closefd=False) as stream:
            data = stream.read() if limit is None else stream.read(limit + 1)
    finally:
        os.close(descriptor)
    if limit is not None and len(data) > limit:  # it grew while being read
        raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
    return data


class FileChanged(Exception):
    """The file is not the one that was read: it was not replaced."""


def read_for_edit(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file about to be rewritten, and what it was when read (for
    `replace_file`); OSError for anything else, ELOOP for a symlink, which is never followed."""
    before = os.lstat(path)
    if stat.S_ISLNK(before.st_mode):
        raise OSError(errno.ELOOP, "a symlink, which is never followed", str(path))
    return read_opened(os.open(path, READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)), None, path), before


def replace_file(path: Path, data: bytes, before: os.stat_result) -> None:
    """Write `data` aside in `path`'s folder and rename it over `path`, with its mode: a reader
    sees the old file or the new one, never half of one, and a symlink put in its place is
    replaced, never written through. `FileChanged` when `path` is no longer the file `before`
    describes (edited meanwhile)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, stat.S_IMODE(before.st_mode))
        now = os.lstat(path)
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (
            before.st_ino,
            before.st_size,
            before.st_mtime_ns,
        ):
            raise FileChanged(str(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def relative_to_root(root: Path) -> Callable[[Path], str]:
    """A file's path relative to the project root, `/`-separated, as per-file-ignores and rule
    options match it and the cache files it (the display path is relative to the working
    directory instead); absolute when outside the root. Lexical: `src/../x.py` is `x.py`.
    String work only: this runs for every file of a warm run."""
    prefix = str(root).rstrip(os.sep) + os.sep

    def relative(path: Path) -> str:
        absolute = os.path.abspath(path)
        if absolute.startswith(prefix):
            absolute = absolute[len(prefix) :]
        return absolute.replace(os.sep, "/")

    return relative


@functools.cache
def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[pathspec.Pattern]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def path_matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """Does a path as `relative_to_root` gives it match one of these gitignore-style patterns?"""
    return _spec(patterns).match_file(relative)


def split_lines(text: str) -> list[str]:
    """Physical lines as Python's tokenizer counts them: only \\r\\n, \\r and \\n end a line
    (`str.splitlines` also splits at form feeds and other separators, shifting later lines)."""
    if "\r" not in text:  # the common case, and a plain split is several times faster
        return text.split("\n")
    return _LINE_BREAK.split(text)


# A lone surrogate: what os.fsdecode makes of a file name's byte that is not valid UTF-8.
SURROGATE = re.compile(r"[\ud800-\udfff]")


def escaped_surrogate(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the undecodable byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def escape_surrogates(text: str) -> str:
    """`text` as UTF-8 can carry it: a lone surrogate, which a file name that is not valid UTF-8
    is made of (`bad\\udcff.py` for the bytes `bad\\xff.py`), becomes the `\\xff` the byte was,
    any other one `\\udxxx`. Text without one comes back as it is."""
    if text.isascii() or not SURROGATE.search(text):
        return text
    return SURROGATE.sub(lambda m: escaped_surrogate(m.group()), text)
