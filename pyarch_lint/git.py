"""Running git on a repository we did not write, for discovery and `--changed-since`.

Git finds the repository from the folder it runs in: the variables git exports to hooks
(`GIT_DIR`, `GIT_INDEX_FILE`, ...) name the repository being committed to, which may not be the
one holding a path we were given, so they are dropped. The rest of the environment stays: a
user's `GIT_CONFIG_GLOBAL` and global excludes file count. A repository's own config cannot make
a read run a program: `core.fsmonitor` (a command git would start) is pinned off, and output
quoting is pinned so names come back as bytes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

_LOCATORS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)


def run_git(
    arguments: Sequence[str | bytes], cwd: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """git with `arguments` in `cwd`; OSError when git cannot be started at all."""
    command: list[str | bytes] = ["git", "-c", "core.quotepath=off", "-c", "core.fsmonitor=false"]
    environment = {key: value for key, value in os.environ.items() if key not in _LOCATORS}
    return subprocess.run(
        [*command, *arguments],
        cwd=cwd,
        input=stdin or b"",  # never our own stdin: `pyarch-lint -` has a file there
        capture_output=True,
        check=False,
        env=environment,
    )
