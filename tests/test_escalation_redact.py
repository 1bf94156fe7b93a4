"""Secrets are taken out of what is sent; line numbers and ordinary code stay as they were."""

from __future__ import annotations

import ast
import contextlib
import textwrap
import time

import pytest

from pyarch_lint.escalation.prompt import decode_source
from pyarch_lint.escalation.redact import Untokenizable, redact, redact_text
from pyarch_lint.files import split_lines

# Fake values in each provider's format (none of them is a real credential).
FORMATS = [
    ("aws-access-key", 'KEY_ID = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
    ("github-token", "# ghp_FAKEfakeFAKEfake0123456789abcdefABCD", "ghp_FAKEfakeFAKE"),
    ("github-token", 'pat = "github_pat_11FAKE0123456789abcdef_FAKE"', "github_pat_11FAKE"),
    ("gitlab-token", 'GL = "glpat-FAKEfake0123456789abc"', "glpat-FAKEfake"),
    ("slack-token", 'SLACK = "xoxb-1234567890-FAKEfakeFAKE"', "xoxb-1234567890"),
    (
        "slack-webhook",
        'URL = "https://hooks.slack.com/services/T0000FAKE/B0000FAKE/FAKEfakeFAKEfake"',
        "T0000FAKE/B0000FAKE",
    ),
    ("stripe-key", 'stripe.api = "sk_live_FAKEfake0123456789"', "sk_live_FAKEfake"),
    ("google-api-key", 'G = "AIzaSyFAKE-fake_FAKE0123456789abcdefghi"', "AIzaSyFAKE"),
    ("google-oauth-secret", 'S = "GOCSPX-FAKEfake0123456789abcd"', "GOCSPX-FAKE"),
    ("anthropic-key", 'A = "sk-ant-api03-FAKEfake0123456789abcdef-xyz"', "sk-ant-api03-FAKE"),
    ("openai-key", 'O = "sk-proj-FAKEfake0123456789abcdefgh"', "sk-proj-FAKE"),
    ("npm-token", 'N = "npm_FAKEfake0123456789abcdefFAKEfake0123"', "npm_FAKEfake"),
    ("sendgrid-key", 'SG = "SG.FAKEfake01234567.FAKEfake0123456789abcdef"', "SG.FAKEfake"),
    (
        "jwt",
        'T = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.c2lnbmF0dXJlLWZha2U"',
        "eyJhbGciOiJIUzI1NiJ9",
    ),
    ("url-credentials", 'DSN = "postgresql://app:hunter2hunter2@db/app"', "hunter2hunter2"),
    (
        "azure-storage-key",
        'C = "DefaultEndpointsProtocol=https;AccountKey=' + "FAKEfakeFAKEfake" * 4 + '=="',
        "FAKEfakeFAKEfake",
    ),
]


@pytest.mark.parametrize(("kind", "line", "secret"), FORMATS, ids=[f[0] for f in FORMATS])
def test_provider_formats_are_redacted(kind, line, secret):
    result = redact(line + "\n")
    assert secret not in result.text
    assert f"<redacted:{kind}>" in result.text
    assert result.count == 1


@pytest.mark.parametrize(
    "line",
    [
        'password = "hunter2"',
        "DB_PASSWORD: str = 'hunter2'",
        'connect(host="db", password="hunter2")',
        'settings = {"api_key": "hunter2"}',
        'client_secret := "hunter2"',
        'self.auth_token = r"hunter2"',
        'PRIVATE_KEY = b"hunter2"',
    ],
)
def test_literals_assigned_to_secret_names_are_redacted(line):
    result = redact(line)
    assert "hunter2" not in result.text
    assert "<redacted:secret>" in result.text


# Each line holds the value "s3cr3tVal" in a place that makes it a secret.
PLACES = [
    'API_TOKEN = """s3cr3tVal"""',
    'API_TOKEN = """\ns3cr3tVal\n"""',
    'client_secret = ("s3cr3tVal")',
    'client_secret = (\n    "s3cr3t"\n    "Val"\n)',
    'pw = "s3cr3tVal"',
    "PWD = b's3cr3tVal'",
    'token = f"{prefix}s3cr3tVal"',
    'token = rf"s3cr3tVal{n}"',
    'password = prefix + "s3cr3tVal"',
    'password = given or "s3cr3tVal"',
    'env["API_TOKEN"] = "s3cr3tVal"',
    'os.getenv("DB_PASSWORD", "s3cr3tVal")',
    'os.environ.setdefault("SECRET_KEY", "s3cr3tVal")',
    'environ.get("AUTH_TOKEN", default="s3cr3tVal")',
    'parser.add_argument("--password", default="s3cr3tVal")',
    'headers = {"Authorization": "s3cr3tVal"}',
    'requests.get(url, auth=("user", "s3cr3tVal"))',
    'HTTPBasicAuth("user", "s3cr3tVal")',
    'Settings(password=SecretStr("s3cr3tVal"))',
    'if password == "s3cr3tVal":\n    pass',
    'if "s3cr3tVal" != token:\n    pass',
    'def connect(host, password: str = "s3cr3tVal"):\n    pass',
    'PAIRS = [("api_key", "s3cr3tVal")]',
    "# password: s3cr3tVal",
    '"""Connect with password=s3cr3tVal."""',
    'DSN = "mysql://app:s3cr3tVal@db/app"',
    'URL = "https://x.example.com/v1?api_key=s3cr3tVal&q=1"',
    'H = "Authorization: Bearer s3cr3tVal0123456"',
]


@pytest.mark.parametrize("source", PLACES)
def test_a_literal_in_a_secret_place_is_redacted_whatever_its_quoting(source):
    result = redact(source + "\n")
    assert "s3cr3tVal" not in result.text
    assert "s3cr3t" not in result.text
    assert result.count >= 1
    assert result.text.count("\n") == source.count("\n") + 1  # the same lines
    ast.parse(result.text)  # still Python: each secret stays inside its quotes


BENIGN = [
    'password_field = "password"',
    'TOKEN_URL = "https://auth.example.com/token"',
    'token_type = "bearer"',
    'AUTH_HEADER = "Authorization"',
    'password = "<your password here>"',
    'api_key = "${API_KEY}"',
    'token = "***"',
    'headers = {"Authorization": f"Bearer {token}"}',
    'raise ValueError("invalid password")',
    'log.info("token refreshed for %s", user)',
    'SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
    'HASHER = "django.contrib.auth.hashers.Argon2PasswordHasher"',
    'password_file = "/run/secrets/db_password"',
]


@pytest.mark.parametrize("line", BENIGN)
def test_benign_look_alikes_keep_the_code_shape(line):
    assert redact(line + "\n").text == line + "\n"


def test_a_source_the_tokenizer_rejects_is_refused_not_guessed_at():
    with pytest.raises(Untokenizable):
        redact('password = "s3cr3tVal\nx = 1\n')


def test_text_sent_with_the_file_loses_what_the_source_lost():
    source = redact('token = "s3cr3tVal"\n')
    message = redact_text("the value 's3cr3tVal' is never used", source.secrets)
    assert message.text == "the value '<redacted:secret>' is never used"
    assert redact_text("a plain message", source.secrets).text == "a plain message"
    other = redact_text("found ghp_FAKEfakeFAKEfake0123456789abcdefABCD in a path")
    assert "ghp_" not in other.text


@pytest.mark.parametrize(
    "line",
    [
        'password = os.environ["DB_PASSWORD"]',
        'password = ""',
        'token = get_token("service")',
        'if password == "":',
        'sort_key = "name"',
        'label = "Enter your password"',
    ],
)
def test_ordinary_code_about_secrets_is_left_alone(line):
    assert redact(line).text == line


def test_high_entropy_literals_are_redacted_and_ordinary_strings_are_not():
    source = textwrap.dedent(
        """\
        BLOB = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRkdISUpLTE1OT1A"
        DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        NAME = "a_perfectly_ordinary_identifier_name"
        URL = "https://example.com/a/rather/long/path/to/something"
        UUID = "123e4567-e89b-12d3-a456-426614174000"
        SENTENCE = "This sentence is long enough but has spaces in it."
        """
    )
    result = redact(source)
    lines = result.text.splitlines()
    assert lines[0] == 'BLOB = "<redacted:high-entropy>"'
    assert lines[1:] == source.splitlines()[1:]  # hexadecimal alone is a digest
    assert result.count == 1


PRIVATE_KEY = """\
import ssl

KEY = '''-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBGAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEAAAA==
-----END OPENSSH PRIVATE KEY-----'''
ONE_LINE = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIFAKEfake\\n-----END EC PRIVATE KEY-----"


def after():
    return ssl
"""


def test_private_key_blocks_are_redacted_whole_and_lines_keep_their_numbers():
    result = redact(PRIVATE_KEY)
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5" not in result.text
    assert "MHcCAQEEIFAKEfake" not in result.text
    assert "BEGIN" not in result.text
    assert result.count == 2
    before, after = PRIVATE_KEY.splitlines(), result.text.splitlines()
    assert len(after) == len(before)
    assert after[0] == "import ssl"
    assert after[-2:] == before[-2:]
    ast.parse(result.text)  # still Python: the key stays inside its string


def test_a_private_key_without_its_end_line_is_redacted_as_far_as_the_key_goes():
    source = "KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEfake\nZmFrZQ==\n'''\nx = 1\n"
    result = redact(source)
    assert "MIIEFAKEfake" not in result.text
    assert "ZmFrZQ==" not in result.text
    assert result.text.splitlines()[-1] == "x = 1"
    assert result.text.count("\n") == source.count("\n")


def test_overlapping_matches_count_once():
    result = redact('api_key = "sk-ant-api03-FAKEfake0123456789abcdef-xyz"')
    assert result.text == 'api_key = "<redacted:anthropic-key>"'
    assert result.count == 1


def test_a_clean_module_is_unchanged():
    source = textwrap.dedent(
        '''\
        """Orders."""

        import logging

        log = logging.getLogger(__name__)


        def total(lines: list[int], *, currency: str = "EUR") -> str:
            return f"{sum(lines) / 100:.2f} {currency}"
        '''
    )
    assert redact(source).text == source
    assert redact(source).count == 0


def test_lines_are_numbered_as_python_numbers_them():
    source = "a = 1\x0c\nb = '\u2028'\r\nc = 3\rd = 4\n"
    assert split_lines(source) == ["a = 1\x0c", "b = '\u2028'", "c = 3", "d = 4", ""]


def test_decode_source_honours_the_coding_cookie_and_the_bom():
    assert decode_source("# coding: latin-1\nx = 'é'\n".encode("latin-1")).endswith("'é'\n")
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert decode_source(b"# coding: nonsense\nx = 1\n") == "# coding: nonsense\nx = 1\n"
    assert decode_source(b"x = '\xff'\n") == "x = '\ufffd'\n"


@pytest.mark.parametrize(
    "line",
    [
        "token" * 4000,
        '"' + "a" * 20000,
        "A" * 20000,
        "password: " + " " * 20000 + "x",
        "token:" * 4000,
        "x://" * 5000,
        "-----BEGIN RSA PRIVATE KEY-----\nx = 1\n" * 600,
    ],
    ids=[
        "keyword-run",
        "unterminated-string",
        "one-word",
        "spaces",
        "colons",
        "schemes",
        "keys-without-end",
    ],
)
def test_hostile_lines_cost_linear_time(line):
    # Quadratic patterns took seconds to minutes on these; linear ones take milliseconds.
    started = time.monotonic()
    with contextlib.suppress(Untokenizable):  # an unterminated string is refused, quickly
        redact(line + "\n")  # the tokenizer is linear, but Python-speed before 3.12
    redact_text((line + "\n") * 5)
    assert time.monotonic() - started < 2.0
