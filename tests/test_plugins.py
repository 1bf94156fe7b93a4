"""Rule plugins: the plugin of docs/plugins.md, installed into a virtual environment beside
pyarch-lint, runs like a built-in rule; a plugin that claims our prefix or another's code is
refused."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from conftest import REPO

from pyarch_lint import plugins
from pyarch_lint.checks.base import Rule
from pyarch_lint.checks.errors import BareExcept
from pyarch_lint.config import ConfigError, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.plugins import PluginError, load_rule_set

SERVICE = """\
import logging


def handle(order: str) -> None:
    print("handling", order)
    logging.info("handled")


def debug(order: str) -> None:
    print(order)  # noqa: ACME101
"""


def _documented_plugin() -> dict[str, str]:
    """The files of the plugin in docs/plugins.md's "Writing a plugin": each code block's first
    line is a comment naming its file."""
    guide = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = guide.split("## Writing a plugin\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"^```(?:toml|python)\n(.*?)^```", section, re.M | re.S):
        first, _, _ = block.partition("\n")
        files[first.removeprefix("# ").strip()] = block
    return files


def _write_package(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment that sees this one's packages (pyarch-lint, LibCST, pip, hatchling)
    and installs into its own: the system's site-packages by `--system-site-packages`, and,
    when the tests run in a virtual environment themselves, its site-packages by a .pth file."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)],
        check=True,
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "outer.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return folder


def _install(venv: Path, package: Path) -> None:
    subprocess.run(
        [
            *(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps"),
            *("--no-build-isolation", "--no-index", str(package)),
        ],
        check=True,
        capture_output=True,
    )


def _linter(venv: Path, project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def lint(*args: str) -> subprocess.CompletedProcess[str]:
        command = [venv / "bin" / "python", "-m", "pyarch_lint", *args]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)

    return lint


_WARM_PROBE = (
    "import sys, runpy; sys.argv = ['pyarch-lint', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('pyarch_lint', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('analysed' if 'pyarch_lint.workers' in sys.modules else 'cached', file=sys.stderr)\n"
)


@pytest.mark.slow
def test_the_documented_plugin_runs_like_a_built_in_rule(venv: Path, tmp_path: Path) -> None:
    files = _documented_plugin()
    assert set(files) == {"pyproject.toml", "acme_lint/__init__.py"}
    _install(venv, _write_package(tmp_path / "acme-lint", files))
    project = tmp_path / "project"
    project.mkdir()
    (project / "service.py").write_text(SERVICE, encoding="utf-8")
    lint = _linter(venv, project)

    done = lint("--no-llm", "--format", "json", "--select", "ACME1", ".")
    assert done.returncode == 1, done.stderr
    [finding] = json.loads(done.stdout)["findings"]  # the noqa line is suppressed
    assert (finding["code"], finding["name"], finding["severity"]) == (
        "ACME101",
        "no-print",
        "warning",
    )
    assert (finding["line"], finding["column"]) == (5, 5)
    assert finding["message"] == "print() in service code: log with `logging` instead"

    text = lint("--no-llm", "--select", "ACME", ".")  # the plugin's letters alone select its rules
    assert "service.py:5:5: ACME101" in text.stdout
    for output in ("concise", "sarif", "github", "gitlab"):
        assert "ACME101" in lint("--no-llm", "--format", output, ".").stdout, output
    assert (
        lint("--no-llm", "--ignore", "ACME101", ".").returncode == 0
    )  # on by default, ignored here
    assert lint("--no-llm", "--select", "ACME2", ".").returncode == 2  # no such rule in the plugin
    assert "no-print" in lint("rule", "ACME101").stdout
    assert "stdout is lost in production" in lint("rule", "no-print").stdout
    listed = lint("rules").stdout
    assert re.search(r"^ACME101  on   warning  acme-lint 1.0.0 +no-print", listed, re.M)

    probe = [venv / "bin" / "python", "-c", _WARM_PROBE, "--no-llm", "-q", "."]
    served = subprocess.run(probe, cwd=project, capture_output=True, text=True, check=True)
    assert served.stderr.splitlines()[-1] == "cached"
    # The plugin's version is part of the cache key: an upgrade analyses every file again.
    upgraded = {**files}
    upgraded["pyproject.toml"] = files["pyproject.toml"].replace('"1.0.0"', '"1.1.0"')
    _install(venv, _write_package(tmp_path / "acme-lint-1.1", upgraded))
    again = subprocess.run(probe, cwd=project, capture_output=True, text=True, check=True)
    assert again.stderr.splitlines()[-1] == "analysed"

    # A second plugin that claims one of our codes stops every run, and says which plugin.
    claims_pa = {
        "pyproject.toml": files["pyproject.toml"]
        .replace('"acme-lint"', '"rogue-lint"')
        .replace("ACME101 =", "PA901 =")
        .replace("acme_lint", "rogue_lint"),
        "rogue_lint/__init__.py": files["acme_lint/__init__.py"].replace('"ACME101"', '"PA901"'),
    }
    _install(venv, _write_package(tmp_path / "rogue-lint", claims_pa))
    refused = lint("--no-llm", ".")
    assert refused.returncode == 2
    assert "rogue-lint 1.0.0" in refused.stderr
    assert "PA901" in refused.stderr
    assert "reserves" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert lint("rules").returncode == 2


# -- loading, without installing: entry points as the metadata would give them ---------------


class Acme(Rule):
    """Flags `pass`."""

    CODE = "ACME101"
    NAME = "acme-rule"
    SEVERITY = Severity.INFO

    def visit_Pass(self, node: cst.Pass) -> None:
        self.report(node, "a pass")


class SameCode(Acme):
    NAME = "other-name"


class SameName(Acme):
    CODE = "ACME102"


class Lowercase(Acme):
    CODE = "acme1"


class LongerLetters(Acme):
    CODE = "ACMEX1"
    NAME = "acmex-rule"


class AttributeHook(Acme):
    def visit_Call_func(self, node: cst.Call) -> None:
        pass


def _installed(
    monkeypatch: pytest.MonkeyPatch, *classes: type | str
) -> list[importlib.metadata.EntryPoint]:
    entry_points = [
        importlib.metadata.EntryPoint(
            f"ep{index}",
            kind if isinstance(kind, str) else f"{kind.__module__}:{kind.__qualname__}",
            plugins.GROUP,
        )
        for index, kind in enumerate(classes)
    ]
    monkeypatch.setattr(
        plugins.importlib.metadata,
        "entry_points",
        lambda group: [ep for ep in entry_points if ep.group == group],
    )
    return entry_points


def test_a_plugin_rule_is_selected_by_its_code_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, Acme)
    rules = load_rule_set()
    assert rules.by_code["ACME101"].doc == "Flags `pass`."
    for selector in ("ACME", "ACME1", "ACME101"):
        settings = settings_from_toml(f'select = ["{selector}"]', rules=rules)
        assert settings.enabled_codes() == {"PA001", "PA002", "PA003", "ACME101"}
    for unknown in ("ACM", "ACME2", "ACME1011", "XYZ1"):
        with pytest.raises(ConfigError, match="unknown rule code or prefix"):
            settings_from_toml(f'select = ["{unknown}"]', rules=rules)
    with pytest.raises(ConfigError):  # without the plugin its code is unknown
        settings_from_toml('select = ["ACME1"]')


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ((BareExcept,), "PA301 starts with PA, which pyarch-lint reserves"),
        ((Acme, SameCode), "takes the code of ACME101"),
        ((Acme, SameName), "takes the name of ACME101"),
        ((Lowercase,), "CODE must be letters then digits"),
        ((AttributeHook,), "AttributeHook: visit_Call_func is an attribute hook"),
        ((Acme, LongerLetters), "the letters of ACMEX1 and of ACME101"),
        ((ConfigError,), "not a subclass of pyarch_lint.checks.base.Rule"),
        (("no_such_module:Rule",), "cannot load: ModuleNotFoundError"),
    ],
)
def test_a_plugin_that_cannot_be_used_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, classes: tuple[type | str, ...], message: str
) -> None:
    _installed(monkeypatch, *classes)
    with pytest.raises(PluginError, match=re.escape(message)) as refused:
        load_rule_set()
    assert "entry point ep" in str(refused.value)


def test_a_plugin_rule_reports_like_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, Acme)
    settings = settings_from_toml('select = ["ACME"]', rules=load_rule_set())
    source = b"def f():\n    pass\n\n\ndef g():\n    pass  # noqa: ACME101\n"
    [finding] = check_source(source, "x.py", settings)
    assert finding == Finding("x.py", 2, 5, 2, 9, "ACME101", "acme-rule", Severity.INFO, "a pass")


def test_a_plugins_codes_in_noqa_comments_are_judged_like_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed(monkeypatch, Acme)
    settings = settings_from_toml('extend-select = ["ACME"]', rules=load_rule_set())
    source = b"x = 1  # noqa: ACME101, ACME9, XYZ1\nif x:\n    pass  # noqa: ACME101\n"
    findings = [f for f in check_source(source, "x.py", settings) if f.code == "PA004"]
    assert [(f.line, f.message) for f in findings] == [
        (1, "unused `# noqa`: ACME101 is not reported on this line; ACME9 is not a known code"),
    ]  # XYZ1 has letters no rule has: another tool's
