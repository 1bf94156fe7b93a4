"""PA607 reports what the secret detector finds, precisely, without ever quoting it; a noqa
silences the finding and never the redaction; files that cannot hold a secret are skipped."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from llm_server import MessagesServer
from test_escalation_redact import FORMATS, PLACES

from pyarch_lint import secrets
from pyarch_lint.cli import main
from pyarch_lint.config import LlmSettings, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.escalation import RunOptions, run_escalation
from pyarch_lint.findings import Finding, Severity
from pyarch_lint.secrets import could_hold_reportable, find_reportable, find_secrets, reportable

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234"


def _pa607(source: str, config: str = 'select = ["PA607"]') -> list[Finding]:
    findings = check_source(source.encode(), "x.py", settings_from_toml(config))
    return [f for f in findings if f.code == "PA607"]


def _sources() -> list[str]:
    """Every secret shape the tests know: the rule's fixture, the redaction corpus and cases."""
    files = [FIXTURES / "rules" / "PA607.py", *(FIXTURES / "escalation" / "corpus").glob("*.py")]
    return (
        [p.read_text() for p in files]
        + [line + "\n" for _, line, _ in FORMATS]
        + [place + "\n" for place in PLACES]
    )


@pytest.mark.parametrize("source", _sources())
def test_a_file_skipped_by_the_byte_filter_holds_nothing_to_report(source: str) -> None:
    reported = [s for s in find_secrets(source) if reportable(s, source)]
    assert could_hold_reportable(source.encode()) or not reported, reported


# Statements that the rule, which tokenizes only the statements around what could make a
# secret, must read whole: headers that end on their body's line, decorators, clauses, comment
# blocks beside code, comment-like lines inside strings, nesting that goes up and down again.
_TRICKY = [
    "class A:\n    @property\n    @overload\n    def f(\n"
    '        self, password: str = "hunter2-Xy9!"\n    ) -> None: ...\n',
    'def f(\n    token="ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234",\n):\n    pass\n',
    'if x:\n    pass\nelse:  # the token below\n    password = "Zq8#wLx2!pVm3"\n',
    "try:\n    pass\n# -----BEGIN RSA PRIVATE KEY-----\n"
    "# MIIEowIBAAKCAQEAx4Zq8wLx2pVm3Zq8wLx2pVm3\n# -----END RSA PRIVATE KEY-----\n"
    "except E:\n    pass\n",
    "x = 1  # key: ghp_R2d2C3poR2d2C3po\n# R2d2C3poR2d2C3po1234\n"
    'y = """\n# password = "Zq8#wLx2!pV"\n"""\n',
    'def f():\n    def g():\n        api_key = "Zq8#wLx2!pVm3"\n    secret = "Zq8#wLx2!pVm3"\n',
    'match x:\n    case {"password": p}:\n        db_password = "Zq8#wLx2!pVm3"\n',
    'auth = (\n    "user",\n    # a comment\n    "Zq8#wLx2!pVm3",\n); token = "Zq8#wLx2!pVm3"\n',
    'for i in x: print(i); pw = "Zq8#wLx2!pVm3"\n',
]


@pytest.mark.parametrize("source", _sources() + _TRICKY)
def test_reading_only_the_statements_that_could_hold_a_secret_finds_what_the_file_holds(
    source: str,
) -> None:
    whole = [s for s in find_secrets(source) if reportable(s, source)]
    assert whole or source not in _TRICKY  # each of these holds one
    assert find_reportable(source, ast.parse(source)) == whole
    assert find_reportable(source, None) == whole


def test_a_statement_cut_short_is_read_from_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    source = _TRICKY[1]  # the secret's statement spans lines 1-3
    monkeypatch.setattr(secrets, "_regions", lambda *_args: [(0, source.index("\n") + 1)])
    assert [s.kind for s in find_reportable(source, ast.parse(source))] == ["github-token"]


def test_the_message_names_the_kind_never_the_value() -> None:
    source = (FIXTURES / "rules" / "PA607.py").read_text()
    secrets = [
        source[a:b] for s in find_secrets(source) if reportable(s, source) for a, b in s.spans
    ]
    findings = _pa607(source)
    assert len(findings) >= 10
    for finding in findings:
        assert "environment or a secret store" in finding.message
        for secret in secrets:
            pieces = {secret[i : i + 4] for i in range(len(secret) - 3)}
            assert not any(piece in finding.message for piece in pieces), finding.message


def test_selected_like_any_rule() -> None:
    source = f'API_TOKEN = "{TOKEN}"\n'
    assert _pa607(source, "") != []  # on by default
    assert _pa607(source, 'select = ["PA3"]') == []
    assert _pa607(source, 'ignore = ["PA6"]') == []
    assert _pa607(source, 'select = ["PA3"]\nextend-select = ["PA607"]') != []


def test_noqa_silences_the_finding_and_the_secret_is_still_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (
        f'API_TOKEN = "{TOKEN}"  # noqa: PA607\n\n\ndef f():\n    try:\n        pass\n'
        "    except:\n        pass\n"
    )
    path = tmp_path / "app.py"
    path.write_text(source)
    assert _pa607(source) == []
    assert _pa607(source.replace("  # noqa: PA607", "")) != []
    bare = Finding("app.py", 7, 5, 7, 12, "PA301", "bare-except", Severity.WARNING, "bare")
    with MessagesServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        run = RunOptions("sk-ant-api03-TEST-0000000000000000000000", None)
        fast = LlmSettings(concurrency=1, timeout=5.0, deadline=60.0)
        result = run_escalation([bare], {"app.py": path}, fast, run, lambda _line: None)
        assert len(result.critiques) == 1
        sent = "\n".join(r.user_text + r.raw.decode() for r in server.requests)
    assert TOKEN not in sent
    assert TOKEN[:12] not in sent
    assert 'API_TOKEN = "<redacted:github-token>"  # noqa: PA607' in sent


def test_test_suite_passwords_and_random_words_alone_are_redacted_not_reported() -> None:
    source = 'password = "test123"\nPASSWORD = "anewpassword"\nBLOB = "Zm9vYmFyYmF6cXV4MTIzNDU2"\n'
    assert len(find_secrets(source)) == 3
    assert _pa607(source) == []


def test_a_private_key_marker_without_key_material_is_no_finding() -> None:
    assert _pa607('HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n') == []
    key = 'KEY = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEApemBody0123\\n"\n'
    assert [f.message.split(":")[0] for f in _pa607(key)] == ["hard-coded secret (private-key)"]


def test_a_noqa_that_silences_pa607_is_no_unused_noqa() -> None:
    source = f'API_TOKEN = "{TOKEN}"  # noqa: PA607\nDEBUG = True  # noqa: PA607\n'
    config = 'select = ["PA004", "PA607"]'
    findings = check_source(source.encode(), "x.py", settings_from_toml(config))
    assert [(f.code, f.line) for f in findings] == [("PA004", 2)]


def test_a_warm_run_serves_the_finding_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint]\n")
    (tmp_path / "app.py").write_text(f'API_TOKEN = "{TOKEN}"\n')
    monkeypatch.chdir(tmp_path)
    runs = [
        CliRunner().invoke(main, ["--no-llm", "--jobs", "1", "--format", "json", "."])
        for _ in range(2)
    ]
    cold, warm = (json.loads(run.stdout)["findings"] for run in runs)
    assert [f["code"] for f in cold] == ["PA607"]
    assert warm == cold
    assert "cache" not in runs[1].stderr  # no entry refused as invalid
