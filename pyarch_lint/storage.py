"""The cache folder's files, read and written as if the repository were hostile, and signed.

The cache folder (`.pyarch_lint_cache/` at the project root) lives in the linted repository:
whoever controls the repository can commit, restore or plant anything in it. So below it:

- no symlink is followed: each folder is opened with O_NOFOLLOW relative to its parent's
  descriptor, each file with O_NOFOLLOW, and the cache folder itself may not be a symlink;
- only regular files are read, none past the caller's limit (a FIFO, a device or a huge file is
  refused before a read could block, never end or fill memory);
- a file is written aside in its own folder and renamed into place: a reader never sees half of
  one, and a symlink in the way is replaced, never written through;
- no folder is created but the cache folder (whose parent must exist) and those directly in it;
  the cache folder carries CACHEDIR.TAG and a `.gitignore` of `*`.

Every entry is authenticated: its first line is an HMAC-SHA256 of its name and its payload
under a secret that never lives in the repository (`user_key`). An entry that does not verify
- written on another machine, by another user, by an older version, or by hand - is a miss
with a note (shown under -v), never an error: a cache committed to a repository or restored
from elsewhere cannot decide a finding or a critique.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyarch_lint.config import ConfigError
from pyarch_lint.files import READ_FLAGS, read_opened, read_regular

KEY_ENV = "PYARCH_LINT_CACHE_KEY"
KEY_FILE = "cache-key"  # in the user's cache folder: $XDG_CACHE_HOME/pyarch-lint/, ~/.cache/...
MIN_KEY_LENGTH = 32  # characters: `openssl rand -hex 32` gives 64
_KEY_LIMIT = 4096  # bytes of a key file worth reading

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# pyarch-lint cache; see https://bford.info/cachedir/\n"
_GITIGNORE = "# Created by pyarch-lint\n*\n"
_MAC_LENGTH = 64  # hexadecimal digits of an HMAC-SHA256, then a newline, then the payload
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW


class UnusableEntry(OSError):
    """This entry is no regular file of bounded size (a symlink, a FIFO, a device, a huge
    file); any other OSError from a `Store` means the folder itself cannot be used."""


@dataclass(frozen=True, slots=True)
class Store:
    """The signed entries under one cache folder, named `<folder>/<file>` (one level deep).
    `note` hears of entries that do not verify (for -v); they read as absent."""

    folder: Path
    key: bytes = field(repr=False)
    note: Callable[[str], None]

    def path(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str, limit: int) -> bytes | None:
        """The payload stored under `name`, or None when there is none or it does not verify.
        UnusableEntry for an entry that is no regular file of at most `limit` bytes."""
        folder, file = _split(name)
        try:
            with _opened(self.folder) as root, _opened(folder, root, self.folder) as parent:
                data = _read_at(parent, file, limit + _MAC_LENGTH + 1, self.path(name))
        except FileNotFoundError:
            return None
        mac, payload = data[:_MAC_LENGTH], data[_MAC_LENGTH + 1 :]
        expected = self._mac(name, payload).encode("ascii")
        if data[_MAC_LENGTH : _MAC_LENGTH + 1] != b"\n" or not hmac.compare_digest(mac, expected):
            self.note(
                f"ignoring cache entry {self.path(name)}: not written with this user's cache key "
                f"(copied from elsewhere, or altered)"
            )
            return None
        return payload

    def write(self, name: str, payload: bytes) -> None:
        """Store `payload` under `name`, signed; OSError when the folder cannot take it."""
        folder, file = _split(name)
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.folder)  # not its parents: the project root exists, or nothing is
        with _opened(self.folder) as root:
            for tag, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _TAG)):
                try:
                    os.lstat(tag, dir_fd=root)
                except FileNotFoundError:
                    _write_at(root, tag, text.encode("utf-8"))
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, dir_fd=root)
            with _opened(folder, root, self.folder) as parent:
                signed = self._mac(name, payload).encode("ascii") + b"\n" + payload
                _write_at(parent, file, signed)

    def _mac(self, name: str, payload: bytes) -> str:
        # The name is signed too: a genuine entry moved under another name does not verify.
        framed = len(name).to_bytes(8, "little") + name.encode("utf-8") + payload
        return hmac.new(self.key, framed, hashlib.sha256).hexdigest()


def open_store(folder: Path, note: Callable[[str], None]) -> Store:
    """The store of `folder`, signed with `user_key()`."""
    return Store(folder, user_key(), note)


def user_key() -> bytes:
    """The secret entries are signed with: PYARCH_LINT_CACHE_KEY when set and not empty (CI
    runners that share a cache between jobs set it from a CI secret), else the key file in the
    user's cache folder, created on first use. An empty variable counts as unset: a job that
    gets no secret (a fork's pull request) then uses a key of its own, and trusts no entry.
    OSError when this platform or user cannot have a store (run without the cache);
    ConfigError for a bad PYARCH_LINT_CACHE_KEY."""
    if os.open not in os.supports_dir_fd:
        raise OSError(errno.ENOSYS, "this platform cannot open a file relative to a folder")
    given = os.environ.get(KEY_ENV, "")
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{KEY_ENV} is too short: at least {MIN_KEY_LENGTH} characters "
                "(for example the output of `openssl rand -hex 32`)"
            )
        return given.encode("utf-8")
    path = key_file()
    try:
        return _usable_key(read_regular(path, _KEY_LIMIT), path)
    except FileNotFoundError:
        _create_key(path)
    return _usable_key(read_regular(path, _KEY_LIMIT), path)


def key_file() -> Path:
    """`$XDG_CACHE_HOME/pyarch-lint/cache-key` (an absolute XDG_CACHE_HOME only, as the XDG
    specification says), else `~/.cache/pyarch-lint/cache-key`."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            raise OSError(errno.ENOENT, "no home folder to keep the cache key in")
        base = os.path.join(home, ".cache")
    return Path(base) / "pyarch-lint" / KEY_FILE


def _usable_key(data: bytes, path: Path) -> bytes:
    key = data.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise OSError(errno.EINVAL, f"not a key of at least {MIN_KEY_LENGTH} characters", path)
    return key


def _create_key(path: Path) -> None:
    """A new random key, readable by its owner only, made whole before it appears: written
    aside and linked into place, so that of two runs starting at once both use the first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cache-key.")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="ascii") as stream:
            stream.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _split(name: str) -> tuple[str, str]:
    folder, _, file = name.partition("/")
    if not folder or not file or "/" in file or ".." in (folder, file) or folder[0] == ".":
        raise ValueError(f"not a cache entry name: {name!r}")
    return folder, file


@contextlib.contextmanager
def _opened(
    name: Path | str, parent: int | None = None, within: Path | None = None
) -> Iterator[int]:
    """A descriptor of the folder `name` (inside `parent`'s, the folder `within`), never
    reached through a symlink."""
    try:
        descriptor = os.open(name, _FOLDER, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            shown = name if within is None else within / name
            raise OSError(
                errno.ENOTDIR, "a file or a symlink where a folder should be", str(shown)
            ) from None
        raise
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _read_at(folder: int, name: str, limit: int, shown: Path) -> bytes:
    try:
        return read_opened(os.open(name, READ_FLAGS | _NOFOLLOW, dir_fd=folder), limit, shown)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnusableEntry(errno.ELOOP, "a symlink", str(shown)) from None
        if error.errno in (errno.EINVAL, errno.EFBIG):
            raise UnusableEntry(error.errno, error.strerror, str(shown)) from None
        raise


def _write_at(folder: int, name: str, data: bytes) -> None:
    temporary = f".{name}.{secrets.token_hex(8)}.tmp"
    descriptor = os.open(temporary, _CREATE, 0o666, dir_fd=folder)
    try:
        with open(descriptor, "wb", closefd=False) as stream:
            stream.write(data)
        os.close(descriptor)
        descriptor = -1
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise
