"""Remove secrets from source before it leaves the machine, keeping every line where it was.

Why our own pattern set rather than detect-secrets (1.5.0, May 2024): its private-key detector
matches only the BEGIN line, so the key body would still be sent; it has no Anthropic, Google or
current OpenAI key formats; it honours `# pragma: allowlist secret` comments, which would let the
very file being sent opt its own secrets out of redaction; and it keeps its settings in global
state. We would have needed most of these patterns anyway.

What is redacted (each match becomes `<redacted:KIND>`; a match spanning lines keeps its line
breaks, so line numbers in the prompt and in the model's answer stay true):

- private-key: PEM / OpenSSH / PGP private-key blocks, BEGIN to END.
- provider key formats: AWS access key ids, GitHub, GitLab, Slack (tokens and webhooks), Stripe,
  Google (API keys, OAuth client secrets), Anthropic, OpenAI, npm, PyPI, SendGrid, Twilio,
  Azure storage account keys.
- jwt: three base64url segments starting `eyJ`.
- url-credentials: the password of `scheme://user:password@host`.
- assigned-secret: a string literal assigned (`=`, `:`, keyword argument, dict key) to a name
  that says password, passwd, secret, token, credential, or an api/access/private/signing key.
- high-entropy: a quoted literal of 20+ characters, no spaces, of base64 or hex characters, whose
  Shannon entropy per character is at least 4.5 (base64) or 3.0 (hex), the thresholds
  detect-secrets uses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

_PRIVATE_KEY = (
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
    # Through the END line; a block without one is redacted as far as key material goes. The
    # body may not contain "-----", so each BEGIN scans no further than the next marker.
    r"(?:(?:(?!-----)[\s\S])*-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
    r"|(?:[A-Za-z0-9+/=\r\n]|\\n)*)"
)

# (kind, pattern); the whole match is the secret.
_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("private-key", _PRIVATE_KEY),
        ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
        ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("slack-webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}"),
        ("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}"),
        ("google-oauth-secret", r"\bGOCSPX-[A-Za-z0-9_-]{20,}"),
        ("anthropic-key", r"\bsk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}"),
        ("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        ("npm-token", r"\bnpm_[A-Za-z0-9]{36}"),
        ("pypi-token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
        ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
        ("twilio-key", r"\bSK[0-9a-f]{32}\b"),
        ("azure-storage-key", r"(?<=AccountKey=)[A-Za-z0-9+/=]{40,}"),
        ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    )
)

# Only the password of `scheme://user:password@host`: the user name and host stay readable.
# Every repetition here is bounded or anchored, so a hostile line (one 20,000-character word)
# costs linear time, not quadratic.
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@'\"]*:(?P<secret>[^\s@/'\"]+)@"
)

_SECRET_NAME = re.compile(
    r"password|passwd|secret|token|credential|(?:api|access|private|signing)_?key", re.IGNORECASE
)
# A name (or quoted dict key), an optional annotation, `=` `:` or `:=`, a one-line string literal.
_ASSIGNED = re.compile(
    r"""(?x)
    ["']?\b(?P<name>[A-Za-z_][A-Za-z0-9_]{0,80})["']?
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\],| ]{0,60}?)?  # an annotation such as `: str | None`
    [ \t]*(?::=|=|:)[ \t]*
    [rRbBuU]{0,2}(?P<q>["'])(?P<secret>(?:\\.|(?!(?P=q))[^\\\n])+)(?P=q)
    """
)

_STRING = re.compile(r"""(?P<q>["'])(?P<secret>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)""")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]{20,}")


@dataclass(frozen=True, slots=True)
class Redacted:
    """The text to send and how many secrets were taken out of it."""

    text: str
    count: int


def redact(text: str) -> Redacted:
    """`text` with every secret replaced; overlapping matches count once."""
    spans = sorted(_find(text), key=lambda s: (s[0], -s[1]))
    out: list[str] = []
    position = 0
    count = 0
    for start, end, kind in spans:
        if start < position:  # inside a secret already taken out
            continue
        secret = text[start:end]
        out.append(text[position:start])
        out.append(f"<redacted:{kind}>" + "\n" * secret.count("\n"))
        position = end
        count += 1
    out.append(text[position:])
    return Redacted("".join(out), count)


def _find(text: str) -> Iterator[tuple[int, int, str]]:
    for kind, pattern in _FORMATS:
        for match in pattern.finditer(text):
            yield match.start(), match.end(), kind
    for match in _URL_CREDENTIALS.finditer(text):
        yield match.start("secret"), match.end("secret"), "url-credentials"
    for match in _ASSIGNED.finditer(text):
        if _SECRET_NAME.search(match["name"]):
            yield match.start("secret"), match.end("secret"), "assigned-secret"
    for match in _STRING.finditer(text):
        if _high_entropy(match["secret"]):
            yield match.start("secret"), match.end("secret"), "high-entropy"


def _high_entropy(value: str) -> bool:
    if _HEX.fullmatch(value):
        return _entropy(value) >= 3.0
    return _BASE64.fullmatch(value) is not None and _entropy(value) >= 4.5


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
