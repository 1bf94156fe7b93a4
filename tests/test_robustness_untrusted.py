"""A linted repository is untrusted, its cache folder and its config included: a corrupt,
truncated or crafted cache shard or entry is ignored with a warning and never changes a
finding, nothing is read that is not a regular file, nothing is written through a symlink, and
no code from the repository is ever imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import cache_payload, make_fifo, make_huge, sign_cache_entry

from pyarch_lint.cache import CACHE_DIR_NAME
from pyarch_lint.cli import main

BIN = Path(sys.executable).parent
SWALLOWING = b"try:\n    pass\nexcept:\n    pass\n"  # PA301, PA302 on line 3
CLEAN = b"x = 1\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.pyarch-lint]\nselect = ["PA3"]\n', "utf-8")
    (root / "a.py").write_bytes(SWALLOWING)
    (root / "b.py").write_bytes(CLEAN)
    monkeypatch.chdir(root)
    return root


def lint(*args: str) -> Result:
    return CliRunner().invoke(main, ["--no-llm", "-j", "1", "--format", "json", *args, "."])


def found(result: Result) -> list[tuple[str, int, str, str]]:
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    return [(f["path"], f["line"], f["code"], f["message"]) for f in findings]


def shard(root: Path) -> Path:
    """The cache shard of the project's top folder, where a.py and b.py are cached."""
    [path] = (root / CACHE_DIR_NAME / "findings").iterdir()
    return path


def _document(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cache_payload(path))
    return data


def _crafted(findings: object) -> Callable[[Path], bytes]:
    """a.py's entry, still for a.py's exact bytes, with other findings."""

    def craft(path: Path) -> bytes:
        document = _document(path)
        document["files"]["a.py"][1] = findings
        return json.dumps(document).encode()

    return craft


def _changed(**fields: object) -> Callable[[Path], bytes]:
    return lambda path: json.dumps({**_document(path), **fields}).encode()


def _entry(entry: object) -> Callable[[Path], bytes]:
    def craft(path: Path) -> bytes:
        document = _document(path)
        document["files"]["a.py"] = entry
        return json.dumps(document).encode()

    return craft


TAMPERED: dict[str, Callable[[Path], bytes]] = {
    "garbage": lambda _path: b"\x00\xff\xfe not json",
    "truncated": lambda path: cache_payload(path)[: len(cache_payload(path)) // 2],
    "empty": lambda _path: b"",
    "not an object": lambda _path: b"[1, 2, 3]",
    "wrong format": _changed(format=1),
    "another folder's shard": _changed(key="0" * 64),
    "files not an object": _changed(files=[["a.py", []]]),
    "entry not a pair": _entry({"findings": []}),
    "hash not text": _entry([12345, []]),
    "findings not a list": _crafted({"line": 1}),
    "string position": _crafted([["3", 1, 3, 8, "PA301", "x"]]),
    "boolean position": _crafted([[True, 1, 1, 8, "PA301", "x"]]),
    "float position": _crafted([[3.0, 1, 3, 8, "PA301", "x"]]),
    "missing field": _crafted([[3, 1, 3, "PA301", "x"]]),
    "message not text": _crafted([[3, 1, 3, 8, "PA301", {"py/object": "os.system"}]]),
    "code not enabled": _crafted([[3, 1, 3, 8, "PA401", "forged"]]),
    "engine crash code": _crafted([[1, 1, 1, 1, "PA003", "forged"]]),
    "code not text": _crafted([[3, 1, 3, 8, ["PA301"], "forged"]]),
    "unknown code": _crafted([[3, 1, 3, 8, "XX999", "forged"]]),
    "huge line": _crafted([[10**18, 1, 10**18, 8, "PA301", "forged"]]),
    "huge column": _crafted([[3, 10**30, 3, 10**30, "PA301", "forged"]]),
    "line past the file": _crafted([[50, 1, 50, 8, "PA301", "forged"]]),
    "zero line": _crafted([[0, 1, 0, 8, "PA301", "forged"]]),
    "negative column": _crafted([[3, -5, 3, 8, "PA301", "forged"]]),
    "end before start": _crafted([[3, 1, 2, 8, "PA301", "forged"]]),
    "deeply nested json": lambda _path: b"[" * 100_000 + b"]" * 100_000,
    "giant number": lambda path: cache_payload(path)[:-1] + b', "x": ' + b"9" * 10_000 + b"}",
}


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_bad_cache_shard_or_entry_is_ignored_with_a_warning_and_changes_nothing(
    project: Path, tamper: Callable[[Path], bytes]
) -> None:
    cold = lint("--no-cache")
    lint()  # fills the cache
    path = shard(project)
    tampered = tamper(path)
    path.write_bytes(b"0" * 64 + b"\n" + tampered)  # as a repository could: unsigned
    again = lint()
    assert found(again) == found(cold)
    assert again.stderr == ""  # not signed with the user's key: a quiet miss
    sign_cache_entry(path, tampered)  # as a bug of ours could: signed, and still checked
    again = lint()
    assert found(again) == found(cold)
    assert "pyarch-lint: warning: ignoring" in again.stderr
    assert "forged" not in again.stdout


def _to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _to_dev_urandom(path: Path) -> None:
    path.symlink_to("/dev/urandom")


@pytest.mark.parametrize("make", [make_fifo, _to_dev_zero, _to_dev_urandom, make_huge])
def test_a_cache_shard_that_is_no_regular_file_or_too_big_is_never_read(
    project: Path, make: Callable[[Path], None]
) -> None:
    cold = lint("--no-cache")
    lint()
    path = shard(project)
    path.unlink()
    make(path)
    again = lint()  # a read would block (fifo), never end (devices) or fill memory
    assert found(again) == found(cold)
    assert "pyarch-lint: warning: ignoring cache shard" in again.stderr


def test_an_entry_for_other_bytes_never_applies(project: Path) -> None:
    lint()
    path = shard(project)
    stale = _document(path)
    (project / "a.py").write_bytes(SWALLOWING.replace(b"except:", b"except ValueError:"))
    lint()
    sign_cache_entry(path, json.dumps(stale).encode())  # the old findings, for the old bytes
    again = lint()
    assert [f[:3] for f in found(again)] == [("a.py", 3, "PA303")]
    assert again.stderr == ""  # an ordinary miss: the file changed since


def test_nothing_is_written_through_a_symlink_in_the_cache_folder(
    project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / CACHE_DIR_NAME).symlink_to(elsewhere, target_is_directory=True)
    result = lint()
    assert found(result) == found(lint("--no-cache"))
    assert "cache not written" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_dangling_symlink_in_the_cache_folder_is_replaced_not_followed(
    project: Path, tmp_path: Path
) -> None:
    cache = project / CACHE_DIR_NAME
    cache.mkdir()
    target = tmp_path / "outside.txt"
    (cache / ".gitignore").symlink_to(target)
    (cache / "findings").mkdir()
    lint()
    assert not target.exists()
    lint()  # entries written and read back
    assert found(lint()) == found(lint("--no-cache"))


HOSTILE_MODULES = [
    "click",
    "json",
    "libcst",
    "tomlkit",
    "tomllib",
    "tomli",
    "pathspec",
    "anthropic",
    "hashlib",
    "multiprocessing",
    "sitecustomize",
    "usercustomize",
    "pyarch_lint_plugins",
]


def _hostile_repository(root: Path, marker: Path) -> None:
    root.mkdir()
    for name in HOSTILE_MODULES:
        (root / f"{name}.py").write_text(
            f"import pathlib\npathlib.Path({str(marker)!r}).write_text({name!r})\n", "utf-8"
        )
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["evil"]\nbuild-backend = "evil"\n\n'
        '[tool.pyarch-lint]\nselect = ["PA3"]\nexclude = ["*.pyc"]\n'
        "[tool.pyarch-lint.llm]\nenabled = false\n",
        encoding="utf-8",
    )
    (root / "app.py").write_bytes(SWALLOWING)


@pytest.mark.parametrize(
    "command",
    [[str(BIN / "pyarch-lint")], [sys.executable, "-m", "pyarch_lint"]],
    ids=["console script", "python -m"],
)
def test_no_code_from_the_linted_repository_is_ever_imported(
    tmp_path: Path, command: list[str]
) -> None:
    root, marker = tmp_path / "repo", tmp_path / "imported"
    _hostile_repository(root, marker)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANTHROPIC_API_KEY")}
    for args, status in (([], 1), (["--format", "json", "-j", "2", "app.py"], 1), (["rules"], 0)):
        done = subprocess.run(
            [*command, *args], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        assert not marker.exists(), (args, marker.read_text("utf-8"))
        assert done.returncode == status, done.stderr
        assert "PA301" in done.stdout
