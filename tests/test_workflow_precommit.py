"""The hooks of .pre-commit-hooks.yaml under the real `pre-commit`, as a user meets them.

pre-commit clones a hook repository at a commit, so the hook repository here is a snapshot of
this working tree (tracked and untracked files, .gitignore respected) committed in a temporary
git repository: the tests see uncommitted work too. pre-commit then builds a virtualenv and
pip-installs that snapshot, which takes most of a minute, so one PRE_COMMIT_HOME is shared by
the whole session and the install happens once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import git, git_env
from llm_server import MessagesServer

pytestmark = pytest.mark.slow  # most of a minute: pre-commit builds the hook's environment
REPO = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

BAD = """\
def load(path: str) -> str | None:
    try:
        return open(path).read()
    except:
        return None
"""
CLEAN = """\
def load(path: str) -> str:
    with open(path) as stream:
        return stream.read()
"""
TYPED_HELPER = """\
def twice(value: int) -> int:
    return 2 * value
"""


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """This working tree, committed as it is in a repository of its own."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # listed but deleted in the working tree: not part of it
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(snapshot, "init", "--quiet", "--initial-branch=main")
    git(snapshot, "add", "--all")
    git(snapshot, "commit", "--quiet", "--no-verify", "--message", "snapshot")
    return HookRepo(snapshot, git(snapshot, "rev-parse", "HEAD"))


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@dataclass(frozen=True)
class Run:
    code: int
    output: str


@pytest.fixture
def user_repo(tmp_path: Path, pre_commit_home: Path) -> UserRepo:
    folder = tmp_path / "user-repo"
    folder.mkdir()
    git(folder, "init", "--quiet", "--initial-branch=main")
    return UserRepo(folder, pre_commit_home)


@dataclass(frozen=True)
class UserRepo:
    """A user's project: write files, stage them, run pre-commit in it."""

    path: Path
    home: Path

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def config(self, hook_repo: HookRepo, *hook_ids: str) -> None:
        hooks = "".join(f"      - id: {hook_id}\n" for hook_id in hook_ids)
        self.write(
            ".pre-commit-config.yaml",
            f"repos:\n  - repo: {hook_repo.path}\n    rev: {hook_repo.rev}\n    hooks:\n{hooks}",
        )

    def pre_commit(self, *args: str, **env: str) -> Run:
        git(self.path, "add", "--all")
        environment = {**git_env(), "PRE_COMMIT_HOME": str(self.home), **env}
        done = subprocess.run(
            [str(PRE_COMMIT), *args, "--color", "never"],
            cwd=self.path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        return Run(done.returncode, done.stdout + done.stderr)


def test_hook_fails_with_our_findings_on_a_bad_file(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    user_repo.config(hook_repo, "pyarch-lint")
    user_repo.write("app/loader.py", BAD)
    user_repo.write("app/clean.py", CLEAN)
    run = user_repo.pre_commit("run", "--all-files")
    assert run.code == 1, run.output
    assert re.search(r"pyarch-lint\.+Failed", run.output), run.output
    assert "app/loader.py:4:5: PA301 " in run.output
    assert "4 |     except:" in run.output  # the source line under the headline
    assert "app/clean.py" not in run.output


def test_hook_passes_on_clean_code_and_honours_excludes_for_named_files(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    """pre-commit names every file; --force-exclude keeps the project's excludes in force."""
    user_repo.config(hook_repo, "pyarch-lint")
    user_repo.write("pyproject.toml", '[tool.pyarch-lint]\nextend-exclude = ["generated"]\n')
    user_repo.write("app/clean.py", CLEAN)
    user_repo.write("generated/bad.py", BAD)
    user_repo.write("notes.txt", "not python: never passed to the hook\n")
    run = user_repo.pre_commit("run", "--all-files")
    assert run.code == 0, run.output
    assert re.search(r"pyarch-lint\.+Passed", run.output), run.output


def test_hook_passes_on_info_findings_unless_the_project_raises_their_severity(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    """A test without its return type (type hints are `info`) is no reason to refuse a commit."""
    user_repo.config(hook_repo, "pyarch-lint")
    # One hint makes the test checked: PA202 for its missing return type.
    user_repo.write(
        "tests/test_app.py",
        TYPED_HELPER + "\n\ndef test_x(tmp_path: object):\n    assert twice(1) == 2\n",
    )
    run = user_repo.pre_commit("run", "--all-files")
    assert run.code == 0, run.output
    assert re.search(r"pyarch-lint\.+Passed", run.output), run.output
    user_repo.write("pyproject.toml", '[tool.pyarch-lint.severity]\nPA202 = "warning"\n')
    run = user_repo.pre_commit("run", "--all-files")
    assert run.code == 1, run.output
    assert "tests/test_app.py:5:1: PA202 " in run.output


def test_hook_checks_only_the_staged_files_on_commit(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    user_repo.config(hook_repo, "pyarch-lint")
    user_repo.write("old.py", BAD)
    git(user_repo.path, "add", "--all")
    git(user_repo.path, "commit", "--quiet", "--no-verify", "--message", "legacy")
    user_repo.write("new.py", CLEAN)
    assert user_repo.pre_commit("run").code == 0  # old.py is not part of this change
    user_repo.write("new.py", BAD)
    run = user_repo.pre_commit("run")
    assert run.code == 1
    assert "new.py:4:5: PA301" in run.output
    assert "old.py" not in run.output


def test_try_repo(hook_repo: HookRepo, user_repo: UserRepo) -> None:
    user_repo.write("loader.py", BAD)
    run = user_repo.pre_commit(
        "try-repo", str(hook_repo.path), "pyarch-lint", "--ref", hook_repo.rev, "--all-files"
    )
    assert run.code == 1, run.output
    assert "loader.py:4:5: PA301 " in run.output


def _readme_snippet() -> str:
    """The .pre-commit-config.yaml users paste, from the README's "Pre-commit" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Pre-commit\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "the Pre-commit section of README.md shows a ```yaml snippet"
    return match[1]


def test_readme_snippet_works_as_written(hook_repo: HookRepo, user_repo: UserRepo) -> None:
    """Only the repository address and the revision change: the rest is the README's text."""
    snippet = _readme_snippet()
    assert re.search(r"^\s*- repo: https://\S+$", snippet, re.MULTILINE)
    assert re.search(r"^\s*rev: \S+$", snippet, re.MULTILINE)
    local = re.sub(r"(- repo: )https://\S+", rf"\g<1>{hook_repo.path}", snippet)
    local = re.sub(r"(rev: )\S+", rf"\g<1>{hook_repo.rev}", local)
    user_repo.write(".pre-commit-config.yaml", local)
    user_repo.write("loader.py", BAD)
    run = user_repo.pre_commit("run", "--all-files")
    assert run.code == 1, run.output
    assert "loader.py:4:5: PA301 " in run.output
    assert "critique" not in run.output.lower()  # the critique hook is opt-in (manual stage)


def test_critique_hook_is_manual_and_asks_the_model(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    user_repo.config(hook_repo, "pyarch-lint", "pyarch-lint-critique")
    user_repo.write("loader.py", BAD)
    run = user_repo.pre_commit("run", "--all-files")
    assert "pyarch-lint critique" not in run.output  # not at the default stage
    with MessagesServer() as server:
        run = user_repo.pre_commit(
            "run",
            "--hook-stage",
            "manual",
            "pyarch-lint-critique",
            "--all-files",
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=server.url,
        )
    assert run.code == 1, run.output
    assert "loader.py:4:5: PA301 " in run.output
    assert "loader.py: architecture review" in run.output
    assert len(server.requests) == 1


def test_critique_hook_without_a_key_still_runs_the_rules(
    hook_repo: HookRepo, user_repo: UserRepo
) -> None:
    user_repo.config(hook_repo, "pyarch-lint-critique")
    user_repo.write("loader.py", BAD)
    run = user_repo.pre_commit("run", "--hook-stage", "manual", "--all-files")
    assert run.code == 1, run.output
    assert "loader.py:4:5: PA301 " in run.output
    assert "ANTHROPIC_API_KEY is not set" in run.output
