"""Redaction against a corpus of secret shapes and benign look-alikes, measured on what the
loopback Messages API server received (fixtures/escalation/corpus)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from llm_server import MessagesServer

from pyarch_lint.config import LlmSettings
from pyarch_lint.escalation import RunOptions, run_escalation
from pyarch_lint.findings import Finding, Severity

CORPUS = Path(__file__).parent / "fixtures" / "escalation" / "corpus"
FAST = LlmSettings(concurrency=1, timeout=5.0, deadline=60.0)

# Each value appears once in secrets.py; none may reach the server.
SECRETS = (
    "Xq7mPw2rTz", "shrt9pw", '"Qz9"', "hunter2", "changeme", "pwdVal123", "passwd-Val-4",
    "dbPw2024x", "apiKeyVal77", "tripleTok3n", "secondLine9", "parenSecret8", "concatPartA1",
    "concatPartB2", "bytesSecret55", "rawBytesKey66", "fstrSecret77", "constPart9x", "credVal88",
    "gluedApiKey99", "xapik3yVal", "signKeyVal12", "encKeyVal34", "subscriptPw56",
    "environTok78", "attrChainPw90", "userPassVal1", "smtpPass22", "refreshTok33",
    "camelAuthTok55", "camelClientSec66", "walrusPw77", "augPw88", "finalTok87", "optTok98",
    "constOnlyFstr19", "upperFPw28", "rawFSecret37", "multiPartA46", "multiPartB55", "contA64",
    "contB73", "secretStrPw19",
    "kwPw11", "kwApiKey22", "kwShortPw33", "tupleAuthPw44", "basicAuthPw55", "aioBasicPw66",
    "kwBearerTok77x", "addHdrTok43x9", "dictKwSec91",
    "dictPw88", "dictApiKey99", "dictCallPw10", "hdrBearer2024abc", "YWxpY2U6aGRyQmFzaWM=",
    "hdrApiKey31", "dictParenSec42", "nestedPw53", "fTok82", "pairPw65", "pairKey76",
    "getenvDefault64", "environGetDef75", "setdefaultSec86", "envSetdef97", "argparseDef30",
    "cfgGetDef41", "getattrDef52", "paramDefault18", "annParamDef29",
    "cmpPw63", "cmpRevTok74", "cmpNeKey85",
    "ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "AKIAZ7QW3ERT5YUI9OPA", "AKIAQWERTYUIOP123456", "xoxb-123456789012-abcdefghijklmnopqrstu",
    "sk_live_abcdefghij0123456789XYZ", "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-AB",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlMTIzNDU2",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.bW9yZXNpZ25hdHVyZTc4OQ",
    "MIIEowIBAAKCAQEApemBody0123456789abcdef", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCconcat",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQcmt", "gho_Z9y8X7w6V5u4T3s2R1q0Z9y8X7w6V5u4T3s2",
    "dXNlcjpkb2NCYXNpYzEyMw==",
    "dsnPw2024", "redisPw55", "mongoPw66", "amqpPw77", "queryKey88", "queryTok99", "queryAcc10",
    "libpqPw21", "odbcPw32",
    "QWxhZGRpbjpPcGVuU2VzYW1lQWxhZGRpbjpPcGVuU2VzYW1lQWxhZGRpbjpPcGVuU2VzYW1l==",
    "cmtBearer2024xyz", "cmtPw2024",
    "cmtApiKey55",
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdI", "q8Zr2LxV7pNw4TfY9bHs3JkM6cGd1",
    "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9", "Xk9Lm2Np4Qr6St8Uv0Wx2Yz4",
)  # fmt: skip

# Each value appears in benign.py and should reach the server as written.
BENIGN = (
    '"password"', "https://auth.example.com/oauth/token", '"bearer"', 'password = ""',
    '"Authorization"', '"DB_PASSWORD"', '"API_TOKEN"', "Enter your password",
    "The API token used to sign requests", "at least twelve characters",
    "https://example.com/api/v1/users", "a_perfectly_ordinary_identifier_name",
    "123e4567-e89b-12d3-a456-426614174000",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "d41d8cd98f00b204e9800998ecf8427e",
    "token refreshed for %s", 'f"Bearer {token}"', "https://login.example.com/oauth2/v2.0/token",
    "accounts.User", "django.contrib.auth.backends.ModelBackend",
    "django.contrib.auth.hashers.Argon2PasswordHasher", "application/json",
    "/etc/app/config.yaml", "/run/secrets/db_password", "prod/db/credentials", "[A-Za-z0-9]+",
    "<your-password>", "${API_KEY}", '"***"', "postgresql://localhost/app",
    'grant_type = "password"',
    "openid profile email", "Welcome back, {user.name}!", "%(asctime)s %(levelname)s",
    "SELECT id, name FROM users WHERE id = %s", "utf-8",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "btn btn-primary",
    "redis://cache:6379/0", "1.2.3", "csrftoken", "sessionid", "/accounts/password/reset/",
    "Europe/Amsterdam", '"active"', r"^\d{4}-\d{2}-\d{2}$", "text/plain",
    "static/css/bootstrap.min.css", "test_login_with_invalid_password",
    "SomeVeryLongClassNameForTesting", '"invalid password"',
    "the password is read from the environment, never written here", "X-Auth-Token",
    "Return the user's token, refreshing it when it has expired.",
)  # fmt: skip


@pytest.fixture
def sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both corpus files escalated through the real SDK; all the user text the server got."""
    for name in ("secrets.py", "benign.py"):
        shutil.copy(CORPUS / name, tmp_path / name)
    findings = []
    for name in ("secrets.py", "benign.py"):
        lines = (tmp_path / name).read_text().splitlines()
        line = next(n for n, text in enumerate(lines, 1) if text.strip() == "except:")
        message = "Bare `except:` catches everything"
        findings.append(
            Finding(name, line, 5, line, 12, "PA301", "bare-except", Severity.WARNING, message)
        )
    files = {name: tmp_path / name for name in ("secrets.py", "benign.py")}
    with MessagesServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        run = RunOptions("sk-ant-api03-CORPUS-0000000000000000000000", None)
        result = run_escalation(findings, files, FAST, run, lambda _line: None)
        assert len(result.critiques) == 2
        assert len(server.requests) == 2
        return "\n".join(r.user_text + r.raw.decode() for r in server.requests)


def test_the_corpus_has_every_value_once():
    secrets = (CORPUS / "secrets.py").read_text()
    benign = (CORPUS / "benign.py").read_text()
    for value in SECRETS:
        assert secrets.count(value) == 1, value
        assert value not in benign
    for value in BENIGN:
        assert value in benign, value


def test_at_least_98_percent_of_secrets_never_reach_the_server(sent):
    leaked = [value for value in SECRETS if value in sent]
    assert len(leaked) <= len(SECRETS) * 0.02, leaked


def test_at_least_90_percent_of_benign_literals_reach_the_server(sent):
    lost = [value for value in BENIGN if value not in sent]
    assert len(lost) <= len(BENIGN) * 0.10, lost
