"""Discovery: paths -> files. Default excludes, exclude/extend-exclude, .gitignore, explicit
files, missing paths, and file systems that fight back (symlink loops, FIFOs, odd names)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyarch_lint import discovery
from pyarch_lint.cli import main
from pyarch_lint.config import DEFAULT_EXCLUDE, load_settings
from pyarch_lint.discovery import PathNotFound, discover

GOOD = "x = 1\n"


def write(root: Path, *names: str, text: str = GOOD) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def found(
    root: Path, *paths: str, cwd: Path | None = None, force_exclude: bool = False
) -> list[str]:
    """Display paths discovered under `paths` (default: the project root) from `cwd`."""
    here = cwd or root
    settings = load_settings(None, here)
    files = discover(
        [Path(p) for p in paths or ["."]], settings, cwd=here, force_exclude=force_exclude
    )
    return [file.display for file in files]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root, "pyproject.toml", text="[tool.pyarch-lint]\n")
    return root


def configure(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text(f"[tool.pyarch-lint]\n{body}\n", encoding="utf-8")


def test_python_sources_and_stubs_only_sorted(project: Path) -> None:
    write(project, "b.py", "a/z.pyi", "a/y.py", "notes.txt", "a/compiled.pyc", "script")
    assert found(project) == ["a/y.py", "a/z.pyi", "b.py"]


# The core issue's list, spelled out so that dropping one from the defaults fails a test.
ISSUE_DEFAULT_EXCLUDES = [
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "build",
    "dist",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pyarch_lint_cache",
    "site-packages",
]


def test_the_default_excludes_are_the_documented_ones() -> None:
    assert sorted(DEFAULT_EXCLUDE) == sorted(ISSUE_DEFAULT_EXCLUDES)


@pytest.mark.parametrize("folder", ISSUE_DEFAULT_EXCLUDES)
def test_default_excludes_at_any_depth(project: Path, folder: str) -> None:
    write(project, f"{folder}/x.py", f"src/{folder}/y.py", "src/kept.py")
    assert found(project) == ["src/kept.py"]


def test_exclude_replaces_the_defaults(project: Path) -> None:
    configure(project, 'exclude = ["generated"]')
    write(project, "generated/x.py", "build/y.py", "app.py")
    assert found(project) == ["app.py", "build/y.py"]


def test_extend_exclude_adds_to_the_defaults(project: Path) -> None:
    configure(project, 'extend-exclude = ["generated", "legacy/*_old.py", "/top_only.py"]')
    write(
        project,
        "generated/x.py",
        "build/y.py",
        "legacy/a_old.py",
        "legacy/a_new.py",
        "top_only.py",
        "sub/top_only.py",
        "app.py",
    )
    assert found(project) == ["app.py", "legacy/a_new.py", "sub/top_only.py"]


def test_gitignore_is_honoured_with_nested_files_and_negation(project: Path) -> None:
    write(project, ".gitignore", text="ignored/\n*_pb2.py\n!keep_pb2.py\n")
    write(project, "sub/.gitignore", text="local.py\n")
    write(
        project,
        "ignored/x.py",
        "api_pb2.py",
        "keep_pb2.py",
        "sub/local.py",
        "sub/shared.py",
        "local.py",
        "app.py",
    )
    assert found(project) == ["app.py", "keep_pb2.py", "local.py", "sub/shared.py"]


def test_a_gitignore_line_pathspec_refuses_is_left_out_with_a_note(project: Path) -> None:
    # Git ignores a lone `!` or `\\`; pathspec refuses the whole file over it.
    write(project, ".gitignore", text="!\ngen/\n\\\n*_pb2.py\n")
    write(project, "gen/x.py", "api_pb2.py", "app.py")
    notes: list[str] = []
    files = discover([project], load_settings(None, project), cwd=project, note=notes.append)
    assert [file.display for file in files] == ["app.py"]
    assert sorted(note.split(":")[0] for note in notes) == [
        "ignoring pattern '!' in " + str(project / ".gitignore"),
        "ignoring pattern '\\\\' in " + str(project / ".gitignore"),
    ]


def test_gitignore_above_the_folder_named_applies_below_it(project: Path) -> None:
    write(project, ".gitignore", text="*_pb2.py\n")
    write(project, "src/api_pb2.py", "src/app.py")
    assert found(project, "src") == ["src/app.py"]
    assert found(project, ".", cwd=project / "src") == ["app.py"]


def test_respect_gitignore_false(project: Path) -> None:
    configure(project, "respect-gitignore = false")
    write(project, ".gitignore", text="ignored/\n")
    write(project, "ignored/x.py", "app.py")
    assert found(project) == ["app.py", "ignored/x.py"]


def test_explicit_files_are_checked_even_when_excluded(project: Path) -> None:
    configure(project, 'extend-exclude = ["generated"]')
    write(project, ".gitignore", text="secret.py\n")
    write(project, "generated/x.py", "build/y.py", "secret.py", "bin/tool")
    explicit = ["generated/x.py", "build/y.py", "secret.py", "bin/tool"]
    assert found(project, *explicit) == ["bin/tool", "build/y.py", "generated/x.py", "secret.py"]


def test_force_exclude_applies_excludes_and_gitignore_to_explicit_files(project: Path) -> None:
    configure(project, 'extend-exclude = ["generated"]')
    write(project, ".gitignore", text="secret.py\nignored/\n")  # not a git repository: read
    explicit = ["generated/x.py", "build/y.py", "secret.py", "ignored/z.py", "app.py"]
    write(project, *explicit)
    assert found(project, *explicit, force_exclude=True) == ["app.py"]


def test_a_folder_named_explicitly_is_walked_even_inside_an_excluded_one(project: Path) -> None:
    # `pyarch-lint examples/` in a project that excludes examples from its own runs, or a
    # downloaded corpus inside a git-ignored folder: the user asked for these files.
    configure(project, 'extend-exclude = ["examples"]')
    write(project, ".gitignore", text="corpus/\n")
    write(project, "examples/shop/a.py", "examples/shop/build/b.py", "corpus/pkg/c.py", "app.py")
    assert found(project) == ["app.py"]
    assert found(project, "examples") == ["examples/shop/a.py"]
    assert found(project, ".", cwd=project / "examples" / "shop") == ["a.py"]
    assert found(project, "corpus/pkg") == ["corpus/pkg/c.py"]
    assert found(project, "examples", force_exclude=True) == []


def test_each_file_once_however_often_it_is_named(project: Path) -> None:
    write(project, "app/a.py", "app/b.py")
    assert found(project, ".", "app", "app/a.py", "./app/b.py") == ["app/a.py", "app/b.py"]


def test_display_paths_are_as_the_user_would_type_them(project: Path, tmp_path: Path) -> None:
    write(project, "src/app.py", "src/sub/x.py")
    write(tmp_path / "elsewhere", "lib.py")
    assert found(project, str(project / "src")) == ["src/app.py", "src/sub/x.py"]
    assert found(project, "../app.py", cwd=project / "src" / "sub") == ["../app.py"]
    outside = found(project, str(tmp_path / "elsewhere"))
    assert outside == [(tmp_path / "elsewhere" / "lib.py").as_posix()]


def test_a_missing_path_is_an_error_naming_it(project: Path) -> None:
    with pytest.raises(PathNotFound, match=r"nowhere\.py"):
        found(project, "nowhere.py")
    result = CliRunner().invoke(main, ["--no-llm", "--no-cache", str(project / "gone")])
    assert result.exit_code == 2
    assert "gone: no such file or directory" in result.stderr


def test_symlinked_folders_are_followed_once_and_loops_end(project: Path) -> None:
    write(project, "pkg/mod.py", "other/real.py")
    (project / "pkg" / "loop").symlink_to(project / "pkg", target_is_directory=True)
    (project / "pkg" / "up").symlink_to(project, target_is_directory=True)
    (project / "link").symlink_to(project / "other", target_is_directory=True)
    # In a child process with a deadline: a loop must not hang the test suite.
    script = (
        "import sys; from pathlib import Path; from pyarch_lint.config import load_settings;"
        "from pyarch_lint.discovery import discover; root = Path(sys.argv[1]);"
        "print('\\n'.join(f.display for f in discover([Path('.')], load_settings(None, root),"
        " cwd=root)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed = done.stdout.split()
    assert "pkg/mod.py" in listed
    assert len(listed) == len({(project / p).resolve() for p in listed}) == 2


def test_broken_symlinks_fifos_and_folders_named_like_files_are_skipped(project: Path) -> None:
    write(project, "app.py")
    (project / "dangling.py").symlink_to(project / "nowhere.py")
    (project / "folder.py").mkdir()
    write(project, "folder.py/inner.py")
    os.mkfifo(project / "pipe.py")
    assert found(project) == ["app.py", "folder.py/inner.py"]


def test_explicit_fifo_is_skipped_not_read(project: Path) -> None:
    os.mkfifo(project / "pipe.py")
    assert found(project, "pipe.py") == []  # reading a FIFO would block forever


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_an_unreadable_folder_is_skipped(project: Path) -> None:
    write(project, "locked/x.py", "app.py")
    (project / "locked").chmod(0)
    try:
        assert found(project) == ["app.py"]
    finally:
        (project / "locked").chmod(0o755)


# Plain names (`build`, `node_modules/`) are matched by set lookups, not by pathspec: these tests
# pin the gitignore meaning that fast path must keep.


def test_a_plain_name_excludes_files_and_folders_at_any_depth(project: Path) -> None:
    configure(project, 'extend-exclude = ["generated", "settings_local.py"]')
    write(
        project,
        "generated/a.py",
        "src/generated/b.py",
        "src/deep/er/settings_local.py",
        "settings_local.py",
        "src/generated_not.py",
        "src/app.py",
    )
    assert found(project) == ["src/app.py", "src/generated_not.py"]


def test_a_trailing_slash_matches_folders_only(project: Path) -> None:
    configure(project, 'extend-exclude = ["tool.py/", "out/"]')
    write(project, "tool.py/inner.py", "pkg/tool.py/inner.py", "pkg/tool.py.bak/x.py")
    write(project, "pkg/sub/tool.py", "pkg/out.py", "pkg/out/gen.py")
    assert found(project) == ["pkg/out.py", "pkg/sub/tool.py", "pkg/tool.py.bak/x.py"]


def test_a_negation_re_includes_what_a_plain_name_excluded(project: Path) -> None:
    # `build` is a default exclude; a project whose package is called build wants it back.
    configure(project, 'extend-exclude = ["!build", "scratch", "!scratch.py"]')
    write(project, "build/x.py", "src/build/y.py", "scratch/z.py", "scratch.py", "dist/d.py")
    assert found(project) == ["build/x.py", "scratch.py", "src/build/y.py"]


def test_gitignore_plain_names_apply_below_their_own_folder_only(project: Path) -> None:
    write(project, ".gitignore", text="# comment\n\nlocal_settings.py\nfixtures/\n")
    write(project, "app/.gitignore", text="generated\n")
    write(
        project,
        "local_settings.py",
        "app/deep/local_settings.py",
        "app/fixtures/f.py",
        "app/fixtures.py",
        "app/generated/g.py",
        "app/sub/generated.py",
        "lib/generated/kept.py",
        "lib/mod.py",
    )
    assert found(project) == [
        "app/fixtures.py",
        "app/sub/generated.py",
        "lib/generated/kept.py",
        "lib/mod.py",
    ]


def test_a_gitignore_negation_keeps_its_order(project: Path) -> None:
    write(project, ".gitignore", text="!cache\ncache\nlogs\n!logs\n")
    write(project, "cache/a.py", "logs/b.py", "src/cache/c.py", "src/logs/d.py")
    assert found(project) == ["logs/b.py", "src/logs/d.py"]


def test_a_symlink_into_an_excluded_folder_finds_nothing_there(project: Path) -> None:
    # Excludes match the real location: through the link the walk is inside build/.
    write(project, "build/lib/x.py", "src/app.py")
    (project / "src" / "lib").symlink_to(project / "build" / "lib", target_is_directory=True)
    assert found(project) == ["src/app.py"]


PLAIN_LISTS = [
    [*ISSUE_DEFAULT_EXCLUDES, "generated", "out/", "a.b", "x+y", "é", "#hash", "sp ace ", "tab\t"],
    ["build", "!build"],  # a negation: every pattern through pathspec, in order
    ["out/", "*.txt", "/top", "a/b"],  # plain names beside globs and anchored patterns
]
TRICKY_NAMES = ["build", "out", "a.b", "axb", "x+y", "xxy", "é", "notes.txt", "top", "b", "c"]
TRICKY_NAMES += ["#hash", "sp ace", "sp ace ", "tab"]  # a comment; gitignore trims trailing space
# pathspec's regular expressions stop `.` at a newline, and `$` matches before a final one
TRICKY_NAMES += ["build\n", "x\nbuild"]
# Folders the entries may lie in, relative to the list's base: through a symlink the walk can be
# below a folder the list matches, where every entry matches too.
TRICKY_FOLDERS = ["", "src", "src/build", "src/out", "a", "a/b", "top", "a\nb", "a\nb/build"]


@pytest.mark.parametrize("lines", PLAIN_LISTS)
def test_the_plain_name_fast_path_agrees_with_pathspec(tmp_path: Path, lines: list[str]) -> None:
    for name in TRICKY_NAMES:
        write(tmp_path / "files", name)
        (tmp_path / "folders" / name).mkdir(parents=True)
    entries = [
        (entry, entry.is_dir())
        for kind in ("files", "folders")
        for entry in os.scandir(tmp_path / kind)
    ]
    patterns = discovery._patterns(lines)
    unrelated = discovery._patterns(["nothing-here"])
    for below in TRICKY_FOLDERS:
        expected = [
            (entry.name, is_dir)
            for entry, is_dir in entries
            if not patterns.full.match_file(
                (f"{below}/{entry.name}" if below else entry.name) + ("/" if is_dir else "")
            )
        ]
        # One list: the inline set lookups; two: a call per list and entry.
        for lists in ([(patterns, below)], [(patterns, below), (unrelated, "")]):
            kept = discovery._kept(entries, lists)
            assert [(entry.name, is_dir) for entry, is_dir in kept] == expected, (lines, below)


# Inside a git work tree the files are the ones git lists: tracked, or untracked and not ignored
# by any of git's ignore sources. These run real git, with a configuration of the test's own.


@pytest.fixture
def repo(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`project` as a git work tree, git configured by the test alone (global file, no system
    file, no XDG ignore file of the machine's)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("HOME", str(home))
    git(project, "init", "--quiet")
    return project


def git(folder: Path, *args: str) -> None:
    author = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *author, *args], cwd=folder, check=True, capture_output=True)


def test_a_root_gitignore_applies_in_a_subfolder_with_its_own_settings(repo: Path) -> None:
    write(repo, ".gitignore", text="generated/\n")
    write(repo, "sub/pyproject.toml", text="")
    configure(repo / "sub", 'extend-exclude = ["legacy"]')
    write(repo, "generated/a.py", "sub/generated/b.py", "sub/legacy/c.py", "sub/app.py")
    assert found(repo, ".", cwd=repo / "sub") == ["app.py"]
    assert found(repo, "sub") == ["sub/app.py", "sub/legacy/c.py"]  # the root's own settings


def test_git_info_exclude_and_the_global_excludes_file_count(repo: Path, tmp_path: Path) -> None:
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("scratch/\n", encoding="utf-8")
    global_ignore = tmp_path / "home" / "global-ignore"
    global_ignore.write_text("*_local.py\n", encoding="utf-8")
    git(repo, "config", "--global", "core.excludesFile", str(global_ignore))
    write(repo, "scratch/a.py", "settings_local.py", "pkg/db_local.py", "pkg/app.py")
    assert found(repo) == ["pkg/app.py"]


def test_nested_gitignores_with_negation_as_git_reads_them(repo: Path) -> None:
    write(repo, ".gitignore", text="*_pb2.py\n")
    write(repo, "api/.gitignore", text="!keep_pb2.py\nlocal/\n")
    write(repo, "x_pb2.py", "api/y_pb2.py", "api/keep_pb2.py", "api/local/z.py", "local/w.py")
    assert found(repo) == ["api/keep_pb2.py", "local/w.py"]


def test_tracked_untracked_deleted_and_force_added_files(repo: Path) -> None:
    write(repo, ".gitignore", text="vendored.py\n")
    write(repo, "tracked.py", "gone.py", "vendored.py", "new/untracked.py")
    git(repo, "add", "tracked.py", "gone.py", ".gitignore")
    git(repo, "add", "--force", "vendored.py")  # tracked although ignored: git lists it
    git(repo, "commit", "--quiet", "-m", "start")
    (repo / "gone.py").unlink()  # tracked, deleted on disk: nothing to check
    notes: list[str] = []
    files = discover([Path(".")], load_settings(None, repo), cwd=repo, note=notes.append)
    assert [file.display for file in files] == ["new/untracked.py", "tracked.py", "vendored.py"]
    assert notes == [f"skipping {repo / 'gone.py'}: No such file or directory"]


def test_the_excludes_apply_on_top_of_git(repo: Path) -> None:
    # Untracked and not ignored, but a default exclude (`.venv`) or a configured one.
    configure(repo, 'extend-exclude = ["migrations/", "/top.py"]')
    write(repo, ".venv/lib/x.py", ".venv/lib/y.py", "app/migrations/m.py", "top.py")
    write(repo, "app/top.py", "app/a.py")
    git(repo, "add", "--force", ".venv/lib/x.py")  # tracked does not matter: excluded
    assert found(repo) == ["app/a.py", "app/top.py"]


def test_submodules_nested_repositories_and_symlinked_folders_are_not_entered(
    repo: Path, tmp_path: Path
) -> None:
    # Git lists a submodule, a nested repository and a symlink as one entry each, never what is
    # inside. Named explicitly, each is checked.
    write(repo, "app.py", "nested/n.py")
    git(repo / "nested", "init", "--quiet")
    library = tmp_path / "library"
    write(library, "lib.py")
    git(library, "init", "--quiet")
    git(library, "add", "lib.py")
    git(library, "commit", "--quiet", "-m", "lib")
    git(
        repo, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet", str(library), "sub"
    )
    write(tmp_path / "elsewhere", "linked.py")
    (repo / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert found(repo) == ["app.py"]
    assert found(repo, "sub", "nested", "link") == ["link/linked.py", "nested/n.py", "sub/lib.py"]


def test_a_folder_named_inside_an_excluded_or_git_ignored_one_is_checked(repo: Path) -> None:
    write(repo, ".gitignore", text="corpus/\n")
    write(repo, "corpus/pkg/.gitignore", text="skip.py\n")
    write(repo, "corpus/pkg/c.py", "corpus/pkg/skip.py", "build/pkg/b.py", "app.py")
    write(repo, "build/pkg/.venv/v.py", "build/pkg/.gitignore", text="")
    assert found(repo) == ["app.py"]
    assert found(repo, "corpus/pkg") == ["corpus/pkg/c.py"]  # walked: git lists nothing there
    assert found(repo, "build/pkg") == ["build/pkg/b.py"]  # `build` a default exclude
    assert found(repo, "corpus/pkg", "build/pkg", force_exclude=True) == []


def test_force_exclude_applies_what_git_ignores_to_files_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, ".gitignore", text="generated/\n*_pb2.py\n")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("scratch.py\n", encoding="utf-8")
    named = ["generated/g.py", "api_pb2.py", "scratch.py", "app.py", "forced_pb2.py"]
    write(repo, *named)
    git(repo, "add", "--force", "forced_pb2.py")
    assert found(repo, *named) == sorted(named)  # named explicitly: always checked
    assert found(repo, *named, force_exclude=True) == ["app.py", "forced_pb2.py"]
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["--force-exclude", "--show-files", *named])
    assert result.stdout.split() == ["app.py", "forced_pb2.py"]


def test_file_names_that_are_not_utf8_come_through_git(repo: Path) -> None:
    name = os.fsdecode(b"caf\xe9.py")
    write(repo, name, "app.py")
    git(repo, "add", "--all")
    assert found(repo) == ["app.py", name]


def test_hook_variables_naming_another_repository_are_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git exports GIT_DIR and GIT_INDEX_FILE to hooks; the folder named decides the work tree.
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("ignored.py\n", encoding="utf-8")
    write(repo, "ignored.py", "app.py")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert found(repo) == ["app.py"]


def test_without_git_the_walk_reads_gitignore_files(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, ".gitignore", text="ignored/\n")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("scratch.py\n", encoding="utf-8")
    write(repo, "ignored/x.py", "scratch.py", "app.py")
    assert found(repo) == ["app.py"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    notes: list[str] = []
    files = discover([Path(".")], load_settings(None, repo), cwd=repo, note=notes.append)
    assert [file.display for file in files] == ["app.py", "scratch.py"]  # .git/info: git's own
    assert notes == [
        f"git cannot run (No such file or directory): walking {repo}, reading .gitignore files"
    ]


def test_a_repository_git_refuses_is_walked(repo: Path) -> None:
    (repo / ".git" / "HEAD").write_text("not a ref\n", encoding="utf-8")  # no longer a repository
    write(repo, ".gitignore", text="ignored/\n")
    write(repo, "ignored/x.py", "app.py")
    notes: list[str] = []
    files = discover([Path(".")], load_settings(None, repo), cwd=repo, note=notes.append)
    assert [file.display for file in files] == ["app.py"]
    assert len(notes) == 1
    assert notes[0].startswith("git failed: fatal: ")
    assert notes[0].endswith(f": walking {repo}, reading .gitignore files")


def test_respect_gitignore_false_lists_what_git_ignores(repo: Path) -> None:
    configure(repo, "respect-gitignore = false")
    write(repo, ".gitignore", text="ignored/\n")
    write(repo, "ignored/x.py", "app.py")
    assert found(repo) == ["app.py", "ignored/x.py"]
