"""PA503-PA506 in a project: the exemptions that depend on where a file sits (configuration
modules, tests, scripts), also from the cache, and their options' validation. The fixtures in
tests/fixtures/rules show what each rule flags inside one file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke

READS = 'import os\n\nKEY = os.environ["PAYMENT_KEY"]\n'
PER_ITEM = "import httpx\n\n\ndef fetch(urls):\n    for u in urls:\n        httpx.Client().get(u)\n"
MUTATES = "_cache = {}\n\n\ndef remember(key, value):\n    _cache[key] = value\n"

# Where the same bytes are a finding and where they are not.
CONFIGURATION = [
    "settings.py",
    "myapp/settings.py",
    "myapp/settings/production.py",
    "myapp/config.py",
    "myapp/config/database.py",
    "myapp/payment_settings.py",
    "myapp/env.py",
    "myapp/__main__.py",
    "manage.py",
    "conftest.py",
    "tests/test_payments.py",
    "myapp/tests/helpers.py",
    "myapp/payments_test.py",
    "scripts/deploy.py",
    "myapp/management/commands/charge.py",
]
ORDINARY = ["myapp/payments.py", "myapp/services/billing.py", "myapp/configure_logging.py"]
TESTS = ["tests/test_payments.py", "myapp/tests/helpers.py", "conftest.py", "test_cache.py"]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def findings(*args: str) -> dict[str, list[str]]:
    result = invoke("--no-llm", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    found: dict[str, list[str]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        found.setdefault(finding["path"], []).append(finding["code"])
    return found


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / "pyproject.toml", '[tool.pyarch-lint]\nselect = ["PA503", "PA506"]\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_environment_is_read_freely_in_configuration_modules_tests_and_scripts(
    project: Path,
) -> None:
    for name in CONFIGURATION + ORDINARY:
        write(project / name, READS)
    expected = {name: ["PA503"] for name in ORDINARY}
    assert findings("--no-cache") == expected
    # From the cache, where identical bytes sit under both kinds of path, the same.
    assert findings() == expected
    assert findings() == expected


def test_module_state_is_not_judged_in_tests(project: Path) -> None:
    for name in TESTS + ORDINARY:
        write(project / name, MUTATES)
    assert findings("--no-cache") == {name: ["PA506"] for name in ORDINARY}


def test_clients_built_in_loops_of_tests_are_not_judged(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.pyarch-lint]\nselect = ["PA504"]\n')
    for name in TESTS + ORDINARY:
        write(project / name, PER_ITEM)
    assert findings("--no-cache") == {name: ["PA504"] for name in ORDINARY}


def test_paths_are_matched_from_the_project_root(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / "pyproject.toml", '[tool.pyarch-lint]\nselect = ["PA503"]\n')
    write(project / "src" / "myapp" / "settings.py", READS)
    write(project / "src" / "myapp" / "payments.py", READS)
    monkeypatch.chdir(project / "src")
    assert findings("--no-cache", "myapp") == {"myapp/payments.py": ["PA503"]}


def test_extend_config_modules_adds_to_the_defaults(project: Path) -> None:
    write(
        project / "pyproject.toml",
        '[tool.pyarch-lint]\nselect = ["PA503"]\n\n'
        '[tool.pyarch-lint.environment]\nextend-config-modules = ["myapp/services/"]\n',
    )
    for name in ["myapp/settings.py", *ORDINARY]:
        write(project / name, READS)
    assert findings("--no-cache") == {
        "myapp/payments.py": ["PA503"],
        "myapp/configure_logging.py": ["PA503"],
    }


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ("environment", 'config-modules = ["!"]', ["environment", "'!'", "gitignore"]),
        ("clients", 'extend-clients = ["Client"]', ["clients", "'Client'", "dotted"]),
        ("classes", "min-methods = 0", ["classes", "min-methods", "1 or more"]),
        ("module-state", 'registries = "X"', ["module-state.registries", "list of strings"]),
    ],
)
def test_a_bad_option_is_exit_2_naming_it(
    project: Path, section: str, key: str, words: list[str]
) -> None:
    write(project / "pyproject.toml", f"[tool.pyarch-lint.{section}]\n{key}\n")
    write(project / "app.py", "x = 1\n")
    result = invoke("--no-llm", "--no-cache", ".")
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr
