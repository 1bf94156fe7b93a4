"""Find the secrets in Python source: the string literals and comment text that hold one, and
their kind.

Source is read with Python's own tokenizer, so every string literal is found whatever its
quoting: single, triple, raw, bytes, parenthesised, implicitly concatenated over several lines,
and the constant parts of f-strings (one token before Python 3.12, several after: both are read
from the literal's source text, the same way). A literal is a secret when its place says so,
whatever it looks like:

- assigned to a secret-like name (`pw = ...`, `self.api_key: str = ...`, `env["TOKEN"] = ...`),
  passed as a keyword so named, a default of a parameter so named, a dict value under such a
  key, or compared with such a name (`if password == ...`);
- the value that follows a secret-like name in the same call or tuple: `os.getenv("DB_PASSWORD",
  ...)`, `environ.setdefault("TOKEN", ...)`, `("password", ...)`, and `default=` of a call whose
  first argument is such a name (`add_argument("--token", default=...)`);
- an element after the first of a tuple, list or call that a secret-like name owns:
  `auth=("user", ...)`, `HTTPBasicAuth("user", ...)`.

Secret-like names are judged by their words (`DB_PASSWORD`, `apiKey`, `X-Api-Key`, `pw`), and a
last word that describes rather than holds a secret is no secret's (`password_field`,
`TOKEN_URL`, `token_type`, `auth_backend`). Benign values stay even under a secret-like name, so
the model still sees the code's shape: empty strings, names (`"password"`, `"Authorization"`),
placeholders (`"<token>"`, `"${TOKEN}"`, `"***"`), URLs and paths without credentials. A
literal default password such as `"changeme"` is a secret: it is a password all the same.

Anywhere, comments and docstrings included, the text of every literal and comment is searched
for provider token formats (GitHub, GitLab, AWS, Slack, Stripe, Google, Anthropic, OpenAI, npm,
PyPI, SendGrid, Twilio, Azure, JWTs), PEM private-key blocks, credentials in URLs and DSNs
(`scheme://user:password@host`, `?api_key=`, `password=`), `Authorization`/`Bearer`/`Basic`
values, and high-entropy words. Strings of hexadecimal digits alone are taken for digests
(hashes, commit ids, test vectors) unless a secret-like name holds them.

Detection is all here, in one function, `find_secrets`; two users build on it. Redaction
(`escalation.redact`) replaces every secret before anything is sent to the model; PA607
`hard-coded-secret` reports those `reportable` says are precise enough for a rule that is on by
default (`find_reportable`: the same, reading only the statements that could hold one). This
module imports nothing heavy: the rule runs in every worker.
"""

from __future__ import annotations

import ast
import base64
import bisect
import io
import itertools
import math
import re
import tokenize
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

__all__ = [
    "Secret",
    "Untokenizable",
    "could_hold_reportable",
    "find_in_text",
    "find_reportable",
    "find_secrets",
    "reportable",
]


class Untokenizable(ValueError):
    """Python's tokenizer rejects the source, so its literals cannot all be found."""


@dataclass(frozen=True, slots=True)
class Secret:
    """One secret in a text: its kind, the spans of the text that hold it (the constant parts of
    one literal, or one match), and where a finding about it points: the whole literal when its
    place made it a secret, else the match itself."""

    kind: str
    spans: tuple[tuple[int, int], ...]
    where: tuple[int, int]
    name: str | None = None  # the secret-like name whose place made the literal a secret


# --- text patterns: provider formats and credential shapes -------------------------------------

_PRIVATE_KEY = (
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
    # Through the END line; a block without one is a secret as far as key material goes. The
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

# (kind, pattern); the group `secret` is the secret, kept only when it looks like a value. Every
# repetition is bounded or anchored, so a hostile line costs linear time, not quadratic.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        # Only the password of `scheme://user:password@host`: user name and host stay readable.
        (
            "url-credentials",
            r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@'\"]*:"
            r"(?P<secret>[^\s@/'\"]+)@",
        ),
        # `?api_key=...`, `&token=...`, `password=...;` in DSNs and connection strings.
        (
            "credential-parameter",
            r"(?i)(?<![A-Za-z0-9_])(?:[a-z0-9]{0,20}[_-])?(?:password|passwd|pwd|pass|secret|"
            r"token|api[_-]?key|apikey|access[_-]?key|account[_-]?key|auth|sig|signature)"
            r"['\"]?\s{0,3}=\s{0,3}['\"]?(?P<secret>[^\s&;,'\"<>{}()\[\]]{1,500})",
        ),
        # `password: hunter2` in prose, comments and docstrings.
        (
            "credential-parameter",
            r"(?i)(?<![A-Za-z0-9_])(?:password|passwd|pwd|secret|token|api[_ -]?key)"
            r"['\"]?\s{0,3}:\s{0,3}['\"]?(?P<secret>[^\s'\"<>{}()\[\],]{1,500})",
        ),
        (
            "authorization",
            r"(?i)\bauthorization\b['\"]?\s{0,3}[:=]\s{0,3}['\"]?(?:(?:bearer|basic|token|digest)"
            r"\s{1,3})?(?P<secret>[A-Za-z0-9._~+/=:-]{1,2000})",
        ),
        ("authorization", r"\b(?:Bearer|Basic|Token)\s{1,3}(?P<secret>[A-Za-z0-9._~+/-]{12,}=*)"),
    )
)

_PLACEHOLDER = re.compile(
    r"""(?x)
    <[^<>]*> | \$\{[^}]*\} | \$[A-Za-z_][A-Za-z0-9_]* | \{\{.*\}\} | \{[A-Za-z0-9_.]*\}
    | %\([A-Za-z0-9_]+\)[sdr] | %[sdr] | [*xX.#_-]+ | None | null | True | False | none | nil
    | true | false
    """
)
_PYTHON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_FORMATTING = re.compile(r"%[sdr(]|[{}]")  # a template to fill in, not a value


def _value_like(value: str) -> bool:
    """Text after `password=` or `Bearer` that is a value, not a placeholder or a variable."""
    if not value or _PLACEHOLDER.fullmatch(value) or _FORMATTING.search(value):
        return False
    if any(c.isdigit() for c in value) or any(c in "!@#$%^&*+/=~" for c in value):
        return True
    return len(value) >= 8 and not _PYTHON_NAME.fullmatch(value)


# --- names ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SECRET_WORDS = _word_set(
    "password passwords passwd passphrase pass pw pwd secret secrets token tokens auth "
    "authorization credential credentials creds apikey accesskey secretkey privatekey authtoken "
    "accesstoken refreshtoken bearer"
)
# `<word> key` is a secret; `key` alone (`sort_key`, `cache_key`) is not.
_KEY_KINDS = _word_set(
    "api access private secret signing encryption master client auth app consumer account "
    "storage sas"
)
# A last word that describes a secret rather than holds one.
_DESCRIPTIVE = _word_set(
    "url uri urls endpoint endpoints host field fields name names type types kind header label "
    "labels prompt path file filename dir env var variable length len min max regex pattern "
    "patterns format template message msg help hint placeholder param parameter attr attribute "
    "column model backend backends class method scheme mode policy scope scopes algorithm alg "
    "expiry expires expiration ttl timeout lifetime age validators validator prefix suffix "
    "location cache encoding provider source widget form view handler error errors text title "
    "description count id ids index required enabled version size limit hashers rules "
    "strength display verbose_name"
)
# Names whose hexadecimal values are digests, not secrets.
_DIGEST_WORDS = _word_set(
    "hash hashes digest sha sha1 sha256 sha384 sha512 md5 checksum fingerprint integrity etag"
)


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(name)]


def _secret_name(name: str, secret_words: frozenset[str] = _SECRET_WORDS) -> bool:
    words = _words(name)
    if not words or words[-1] in _DESCRIPTIVE:
        return False
    if any(word in secret_words for word in words):
        return True
    return any(a in _KEY_KINDS and b in ("key", "keys") for a, b in itertools.pairwise(words))


def _benign(value: str) -> bool:
    """A literal that shows the code's shape and holds no secret, even under a secret name."""
    value = value.strip()
    if not value or _PLACEHOLDER.fullmatch(value):
        return True
    if re.fullmatch(r"[A-Za-z][A-Za-z_ .-]*", value) and _secret_name(value.replace(" ", "_")):
        return True  # a name: "password", "DB_PASSWORD", "Authorization", "X-Api-Key"
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s@]*", value):
        return True  # a URL without credentials (those in it are found by the text patterns)
    return bool(re.fullmatch(r"(?:~|\.{1,2})?/[\w./-]*", value))  # a file path


# --- entropy -------------------------------------------------------------------------------------

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _is_word(chunk: str) -> bool:
    """Three letters or more, a fifth of them vowels, as words have and random runs lack."""
    vowels = sum(c in "aeiouyAEIOUY" for c in chunk)
    return len(chunk) >= 3 and chunk.isalpha() and vowels >= max(1, len(chunk) / 5)


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _high_entropy(value: str) -> bool:
    """A random-looking word: base64 characters with letters and digits mixed, and close to the
    entropy a random string of its length would have (a 20-character string cannot reach the
    4.5 bits of a long one, so the floor follows the length). Hex alone is a digest; an
    alphabet or a counting run is a constant."""
    if not _BASE64.fullmatch(value) or _HEX.fullmatch(value) or _UUID.fullmatch(value):
        return False
    letters = sum(c.isalpha() for c in value)
    digits = sum(c.isdigit() for c in value)
    if not digits or letters < 4 or value.isupper() or value.islower():
        return False
    steps = sum(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(value))
    if steps > len(value) // 3:
        return False
    # An identifier (`Argon2PasswordHasher`, `LocalBookWithM2MThrough`) is mostly words, which
    # about 1 % of random strings of 24 characters are (3 % of 20); a path is short segments.
    if sum(len(chunk) for chunk in _WORD.findall(value) if _is_word(chunk)) >= 0.6 * len(value):
        return False
    if value.count("/") >= 2 and all(len(segment) <= 8 for segment in value.split("/")):
        return False
    return _entropy(value) >= min(4.5, math.log2(len(value)) - 0.7)


# --- the tokenizer ------------------------------------------------------------------------------

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset(_OPEN.values())
_FSTRING_START = {
    getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)
}
_FSTRING_END = {
    getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)
}
_SKIPPED = {tokenize.NL, tokenize.ENCODING}
_KIND = {**tokenize.tok_name, tokenize.STRING: "STR"}  # a token type's name, as `_Token` has it
_DEFAULT_KEYWORDS = frozenset({"default", "value", "initial", "fallback"})


class _Token(NamedTuple):
    """One token with offsets into the source. A named tuple: a file has tens of thousands,
    and a frozen dataclass costs several times as much to build."""

    kind: str  # "STR" for a whole literal, "NAME", "OP", or another token type's name
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Literal:
    """Adjacent string tokens: one value, made of the constant parts of each."""

    first: int  # index in the token list
    last: int
    parts: tuple[tuple[int, int], ...]  # constant parts as (start, end) offsets of the source
    formatted: bool  # an f-string with replacement fields among them

    def value(self, source: str) -> str:
        return "".join(source[a:b] for a, b in self.parts)


def find_secrets(source: str, regions: Sequence[tuple[int, int]] | None = None) -> list[Secret]:
    """Every secret in `source` (Python), in source order, none overlapping another; raises
    Untokenizable. `regions`: only those spans of the source are read, each tokenized on its
    own (see `find_reportable`)."""
    tokens, comments = _tokenize(source, regions)
    literals = _literals(tokens, source)
    by_first = {literal.first: literal for literal in literals}
    found: list[Secret] = []
    for literal in literals:
        found.extend(_literal_secrets(literal, tokens, by_first, source))
    for start, end in _blocks(source, comments):
        found.extend(_text_secrets(source, start, end))
    return _resolved(found)


def find_in_text(text: str, values: Iterable[str] = ()) -> list[Secret]:
    """Every secret in free text (a finding message, a path): the text patterns, high-entropy
    words, and each occurrence of `values` (those found in the source it goes with)."""
    found = list(_text_secrets(text, 0, len(text)))
    for value in sorted({v for v in values if len(v) >= 4}, key=len, reverse=True):
        position = text.find(value)
        while position != -1:
            span = (position, position + len(value))
            found.append(Secret("secret", (span,), span))
            position = text.find(value, position + len(value))
    return _resolved(found)


def _resolved(found: Sequence[Secret]) -> list[Secret]:
    """Where spans overlap, the one that starts first, then the longest, wins (an overlapped
    one is inside a secret already found); a secret keeps the spans that won, and is dropped
    when none did."""
    pieces = sorted(
        ((start, end, index) for index, secret in enumerate(found) for start, end in secret.spans),
        key=lambda piece: (piece[0], -piece[1]),
    )
    kept: dict[int, list[tuple[int, int]]] = {}
    position = 0
    for start, end, index in pieces:
        if start < position or start == end:
            continue
        kept.setdefault(index, []).append((start, end))
        position = end
    return [replace(found[index], spans=tuple(spans)) for index, spans in kept.items()]


def _blocks(source: str, comments: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Comments on consecutive lines as one text, so a key pasted over several comment lines is
    found whole."""
    block: tuple[int, int] | None = None
    for start, end in comments:
        if block is not None and source[block[1] : start].isspace():
            block = (block[0], end)
            continue
        if block is not None:
            yield block
        block = (start, end)
    if block is not None:
        yield block


def _tokenize(
    source: str, regions: Sequence[tuple[int, int]] | None
) -> tuple[list[_Token], list[tuple[int, int]]]:
    """Significant tokens, each literal one token `STR`, and the comments' spans; of the
    regions only, when given, with offsets into the whole source."""
    tokens: list[_Token] = []
    comments: list[tuple[int, int]] = []
    for start, end in [(0, len(source))] if regions is None else regions:
        for token in _grouped(source[start:end]):
            if token.kind == "COMMENT":
                comments.append((token.start + start, token.end + start))
            elif regions is None:
                tokens.append(token)
            elif token.kind != "ENDMARKER":  # one region's end is no end of the source
                tokens.append(token._replace(start=token.start + start, end=token.end + start))
    return tokens, comments


def _grouped(source: str) -> Iterator[_Token]:
    """Python's tokens with offsets into the source; an f-string (many tokens from 3.12 on, and
    any f-strings nested in it) as one `STR`."""
    starts = [0]
    for line in io.StringIO(source):
        starts.append(starts[-1] + len(line))
    lines = len(starts)
    depth = 0
    literal_start = 0
    for token in _python_tokens(source):
        start = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1] if token.end[0] <= lines else len(source)
        if token.type in _FSTRING_START:
            depth += 1
            literal_start = start if depth == 1 else literal_start
        elif token.type in _FSTRING_END:
            depth -= 1
            if depth == 0:
                yield _Token("STR", source[literal_start:end], literal_start, end)
        elif depth == 0 and token.type not in _SKIPPED:
            yield _Token(_KIND[token.type], token.string, start, end)


def _python_tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            # 3.11 and older go on past an unterminated string: what follows is no code.
            if token.type == tokenize.ERRORTOKEN and not token.string.isspace():
                raise Untokenizable(f"Python's tokenizer rejects {token.string!r}")
            yield token
    except (tokenize.TokenError, SyntaxError) as error:
        raise Untokenizable(f"Python's tokenizer rejects the file ({error})") from None


def _literals(tokens: Sequence[_Token], source: str) -> list[_Literal]:
    literals: list[_Literal] = []
    index = 0
    while index < len(tokens):
        if tokens[index].kind != "STR":
            index += 1
            continue
        first = index
        parts: list[tuple[int, int]] = []
        formatted = False
        while index < len(tokens) and tokens[index].kind == "STR":
            pieces, fields = _constant_parts(tokens[index])
            parts.extend(pieces)
            formatted = formatted or fields
            index += 1
        literals.append(_Literal(first, index - 1, tuple(parts), formatted))
    return literals


def _constant_parts(token: _Token) -> tuple[list[tuple[int, int]], bool]:
    """The constant text of one string token (offsets in the source), and whether it had
    replacement fields. Read from the literal's own text, so 3.10's single f-string token and
    3.12's many read the same."""
    text = token.text
    prefix = len(text) - len(text.lstrip("rRbBuUfFtT"))
    letters = text[:prefix].lower()
    quote = (
        text[prefix : prefix + 3] if text[prefix : prefix + 3] in ('"""', "'''") else text[prefix]
    )
    body_start, body_end = prefix + len(quote), len(text) - len(quote)
    if "f" not in letters and "t" not in letters:
        return [(token.start + body_start, token.start + body_end)], False
    parts: list[tuple[int, int]] = []
    piece = body_start
    position = body_start
    raw = "r" in letters
    fields = False
    while position < body_end:
        char = text[position]
        if char == "\\" and not raw:
            if text.startswith("N{", position + 1):  # \N{NAME} is no field
                closing = text.find("}", position)
                position = body_end if closing == -1 else closing + 1
            else:
                position += 2
        elif char in "{}" and text[position + 1 : position + 2] == char:
            position += 2  # {{ and }} are literal braces
        elif char == "{":
            fields = True
            if position > piece:
                parts.append((token.start + piece, token.start + position))
            position = _field_end(text, position, body_end)
            piece = position
        else:
            position += 1
    if body_end > piece:
        parts.append((token.start + piece, token.start + body_end))
    return parts, fields


def _field_end(text: str, position: int, limit: int) -> int:
    """Just past the `}` closing the replacement field that opens at `position`."""
    depth = 0
    while position < limit:
        char = text[position]
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return position + 1
        elif char in "'\"":  # a string inside the field: skip it whole
            closing = text.find(char, position + 1)
            position = limit if closing == -1 else closing
        position += 1
    return limit


# --- where a literal stands ---------------------------------------------------------------------


def _literal_secrets(
    literal: _Literal, tokens: Sequence[_Token], literals: dict[int, _Literal], source: str
) -> Iterator[Secret]:
    value = literal.value(source)
    name = _owner(literal, tokens, literals, source)
    whole = (tokens[literal.first].start, tokens[literal.last].end)
    # The marker within one part, so that `could_hold_reportable` can look for it in the bytes.
    if any("PRIVATE KEY-----" in source[a:b] for a, b in literal.parts):
        yield Secret("private-key", literal.parts, whole)
        return
    if name is not None and _secret_name(name):
        kind = next((k for k, pattern in _FORMATS if pattern.search(value)), "secret")
        spans = []
        for a, b in literal.parts:
            part = source[a:b]
            if literal.formatted and not re.search(r"[A-Za-z0-9+/=_-]{4,}", _SCHEME.sub("", part)):
                continue  # f"Bearer {token}": the constant text around a field is no secret
            if not _benign(value if not literal.formatted else part):
                spans.append((a, b))
        if spans:
            yield Secret(kind, tuple(spans), whole, name)
        return
    digest = name is not None and any(word in _DIGEST_WORDS for word in _words(name))
    for a, b in literal.parts:
        yield from _text_secrets(source, a, b, entropy=not digest)


_SCHEME = re.compile(r"^\s*(?:Bearer|Basic|Token|Digest)\s+")


def _owner(
    literal: _Literal, tokens: Sequence[_Token], literals: dict[int, _Literal], source: str
) -> str | None:
    """The name the literal's place ties it to (see the module's docstring), if any."""
    before, after = literal.first - 1, literal.last + 1
    while (  # ("a parenthesised" "literal")
        before >= 0
        and after < len(tokens)
        and (tokens[before].text, tokens[after].text) == ("(", ")")
        and not (before >= 1 and tokens[before - 1].kind == "NAME")  # not a call: f("x")
    ):
        before, after = before - 1, after + 1
    previous = tokens[before].text if before >= 0 and tokens[before].kind == "OP" else ""
    following = tokens[after].text if after < len(tokens) and tokens[after].kind == "OP" else ""
    if previous in ("=", ":=", "+="):
        name = _target_name(tokens, before, literals, source)
        if name is not None and name.lower() in _DEFAULT_KEYWORDS:
            return _first_argument(tokens, before, literals, source)
        return name
    if previous == ":" and before >= 1 and tokens[before - 1].kind == "STR":
        key = literals.get(_literal_start(tokens, before - 1))
        return key.value(source) if key is not None else None
    if previous in ("==", "!="):
        return _target_name(tokens, before, literals, source)
    if following in ("==", "!=") and after + 1 < len(tokens) and tokens[after + 1].kind == "NAME":
        return tokens[after + 1].text
    if previous in (",", "(", "["):
        return _in_brackets(literal, tokens, literals, source)
    if previous in ("+", "%") or (before >= 0 and tokens[before].text in ("or", "else")):
        return _assigned_by_expression(tokens, before, literals, source)
    return None


def _assigned_by_expression(
    tokens: Sequence[_Token], index: int, literals: dict[int, _Literal], source: str
) -> str | None:
    """`pw = prefix + "..."`, `pw = given or "..."`, `pw = a if b else "..."`: the name the
    whole expression is assigned to, found at the `=` before it."""
    depth = 0
    while index >= 0:
        token = tokens[index]
        if token.kind == "OP" and token.text in _CLOSE:
            depth += 1
        elif token.kind == "OP" and token.text in _OPEN:
            if depth == 0:
                return None
            depth -= 1
        elif depth == 0 and (token.kind in ("NEWLINE", "INDENT", "DEDENT") or token.text in ",;"):
            return None
        elif depth == 0 and token.kind == "OP" and token.text in ("=", ":="):
            return _target_name(tokens, index, literals, source)
        index -= 1
    return None


def _literal_start(tokens: Sequence[_Token], index: int) -> int:
    while index > 0 and tokens[index - 1].kind == "STR":
        index -= 1
    return index


def _target_name(
    tokens: Sequence[_Token], operator: int, literals: dict[int, _Literal], source: str
) -> str | None:
    """The name assigned to (or compared with) by the operator at `operator`: the last name of
    the target (`self.pw`), a subscript's string key (`env["TOKEN"]`), the annotated name
    (`pw: str = `), the keyword (`f(pw=`)."""
    depth = 0
    index = operator - 1
    target: list[int] = []
    while index >= 0:
        token = tokens[index]
        if token.kind == "OP" and token.text in _CLOSE:
            depth += 1
        elif token.kind == "OP" and token.text in _OPEN:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (
            token.kind in ("NEWLINE", "INDENT", "DEDENT")
            or (token.kind == "OP" and token.text in (",", ";", "=", "->", "==", "!="))
            or (
                token.kind == "NAME"
                and token.text in ("if", "elif", "while", "and", "or", "not", "return", "assert")
            )
        ):
            break
        target.insert(0, index)
        index -= 1
    # An annotation follows the first top-level `:` of the target.
    depth = 0
    for position, at in enumerate(target):
        text = tokens[at].text
        depth += text in _OPEN and tokens[at].kind == "OP"
        depth -= text in _CLOSE and tokens[at].kind == "OP"
        if depth == 0 and text == ":" and tokens[at].kind == "OP":
            target = target[:position]
            break
    return _last_name(tokens, target, literals, source)


def _last_name(
    tokens: Sequence[_Token], target: list[int], literals: dict[int, _Literal], source: str
) -> str | None:
    if not target:
        return None
    last = tokens[target[-1]]
    if last.kind == "NAME":
        return last.text
    if last.text == "]" and len(target) >= 3:
        key = tokens[target[-2]]
        if key.kind == "STR" and tokens[target[-3]].text == "[":
            literal = literals.get(_literal_start(tokens, target[-2]))
            return literal.value(source) if literal is not None else None
    return None


def _in_brackets(
    literal: _Literal, tokens: Sequence[_Token], literals: dict[int, _Literal], source: str
) -> str | None:
    """Inside a call, tuple or list: the secret-like name of the element before (a key and its
    value side by side) or of the bracket's owner (for every element after the first)."""
    opener, commas = _enclosing(tokens, literal.first - 1)
    if opener < 0 or tokens[opener].text == "{":
        return None
    owner = opener - 1
    callee = tokens[owner].text if owner >= 0 and tokens[owner].kind == "NAME" else ""
    if not commas:  # a secret type's only argument: SecretStr("..."), Password("...")
        return callee if callee[:1].isupper() else None
    start = commas[1] + 1 if len(commas) > 1 else opener + 1
    element = literals.get(start)
    if element is not None and element.last == commas[0] - 1:  # the element before: a name?
        value = element.value(source)
        # `auth` alone names an app or a scheme (`("auth", "0001_initial")`) as often as not.
        if _secret_name(value) and _KEY.fullmatch(value) and value.lower() != "auth":
            return value
    if callee:
        return callee  # HTTPBasicAuth("user", ...), set_password(user, ...)
    if owner >= 0 and tokens[owner].text in ("=", ":"):
        return _owner_of_container(tokens, owner, literals, source)
    return None


# A key standing for a value beside it: `"DB_PASSWORD"`, `"X-Api-Key"`, `"--token"`; not a dotted
# path such as `"django.contrib.auth"`.
_KEY = re.compile(r"-{0,2}[A-Za-z_][\w-]{0,60}")


def _enclosing(tokens: Sequence[_Token], index: int) -> tuple[int, list[int]]:
    """Walking back from `index`: the bracket that encloses it (-1 if none) and the commas
    between them, nearest first."""
    depth = 0
    commas: list[int] = []
    while index >= 0:
        token = tokens[index]
        if token.kind == "OP" and token.text in _CLOSE:
            depth += 1
        elif token.kind == "OP" and token.text in _OPEN:
            if depth == 0:
                return index, commas
            depth -= 1
        elif depth == 0 and token.kind == "OP" and token.text == ",":
            commas.append(index)
        index -= 1
    return -1, commas


def _owner_of_container(
    tokens: Sequence[_Token], operator: int, literals: dict[int, _Literal], source: str
) -> str | None:
    if tokens[operator].text == ":":
        key = literals.get(_literal_start(tokens, operator - 1)) if operator >= 1 else None
        return key.value(source) if key is not None else None
    return _target_name(tokens, operator, literals, source)


def _first_argument(
    tokens: Sequence[_Token], keyword: int, literals: dict[int, _Literal], source: str
) -> str | None:
    """For `default=` and the like: the call's first argument, when it is a literal name."""
    opener, _ = _enclosing(tokens, keyword - 1)
    first = literals.get(opener + 1) if opener >= 0 else None
    if first is None:
        return None
    value = first.value(source)
    return value if _KEY.fullmatch(value) else None


# --- text ---------------------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")


def _text_secrets(text: str, start: int, end: int, *, entropy: bool = True) -> Iterator[Secret]:
    """Provider formats, credential shapes and (unless `entropy` is off) high-entropy words in
    text[start:end]."""
    for kind, pattern in _FORMATS:
        for match in pattern.finditer(text, start, end):
            span = match.span()
            yield Secret(kind, (span,), span)
    for kind, pattern in _SHAPES:
        for match in pattern.finditer(text, start, end):
            if _value_like(match["secret"]):
                span = match.span("secret")
                yield Secret(kind, (span,), span)
    for match in _WORDS.finditer(text, start, end) if entropy else ():
        if _high_entropy(match[0]):
            span = match.span()
            yield Secret("high-entropy", (span,), span)


# --- what PA607 reports -------------------------------------------------------------------------

# Kinds whose shape alone says what the value is: reported whatever the value looks like.
_CERTAIN = frozenset(kind for kind, _ in _FORMATS)
_KEY_MARKER = re.compile(r"-----(?:BEGIN|END)[ A-Z0-9]*-----")
_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/=]{16,}")


def reportable(secret: Secret, text: str) -> bool:
    """Is this secret precise enough for a finding of a rule that is on by default? Redaction
    takes out anything that may be a secret, since sending too little costs little; a finding
    the user must read costs more. So: provider formats and private keys always; a value that a
    name or a credential shape marks only when it looks like a generated or chosen credential
    (not the `"test123"`, `"password1"` or `"qwerty"` of test suites) and the name is more than
    `auth` (which names an app, a backend or a scheme as often as a credential); high-entropy
    words alone never (hash and signature test vectors, certificates, URLs of commits)."""
    if secret.kind == "private-key":  # key material, not just the marker a parser looks for
        value = "".join(text[start:end] for start, end in secret.spans)
        return bool(_KEY_MATERIAL.search(_KEY_MARKER.sub("", value)))
    if secret.kind in _CERTAIN:
        return True
    if secret.kind == "high-entropy":
        return False
    if secret.name is not None and not _secret_name(secret.name, _SECRET_WORDS - {"auth"}):
        return False
    value = _SCHEME.sub("", "".join(text[start:end] for start, end in secret.spans))
    return _credential_like(_basic_password(value) or value)


def _basic_password(value: str) -> str | None:
    """The password of `Basic` credentials (base64 of `user:password`), judged like any other:
    tests encode `user:pass` by the dozen."""
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon and decoded.isprintable() else None


# Lowercase words or numbers joined by `_`, `-` or `.`: a name (`pbkdf2_sha256`, `min_length`)
# or an id (`1111-aaaaa`, a lowercase UUID), the tests' stand-ins for keys.
_LOWER_NAME = re.compile(r"[a-z0-9]+(?:[_.-][a-z0-9]+)+")


def _credential_like(value: str) -> bool:
    """At least 8 characters without spaces, letters mixed with digits or symbols, and not
    mostly words, a lowercase name or id, a placeholder, a template, a URL or a path."""
    if len(value) < 8 or any(c.isspace() for c in value) or _benign(value):
        return False
    if _FORMATTING.search(value) or not any(c.isalpha() for c in value):
        return False
    if all(c.isalpha() for c in value) or _LOWER_NAME.fullmatch(value):
        return False
    words = sum(len(chunk) for chunk in _WORD.findall(value) if _is_word(chunk))
    return words < 0.6 * len(value)


# What a file's bytes must contain for `find_secrets` to find a secret that `reportable` keeps,
# read from the patterns and word lists above (keep them in step). Literal anchors are searched
# with `in`, much faster than an alternation in `re`; the patterns only when none is found.
# In the lowercased bytes: the secret-like words but `auth` and `pass` (below).
_WORDS_LOWERCASE = (
    b"passw", b"passphrase", b"pw", b"secret", b"token", b"cred", b"bearer", b"authorization",
)  # fmt: skip
# In the bytes as they are: a literal prefix of every provider format.
_FORMAT_PREFIXES = (
    b"PRIVATE KEY", b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"A3T", b"ghp_", b"gho_", b"ghu_",
    b"ghs_", b"ghr_", b"github_pat_", b"glpat-", b"xox", b"hooks.slack.com", b"k_live_",
    b"k_test_", b"AIza", b"GOCSPX-", b"npm_", b"pypi-AgE", b"SG.", b"AccountKey=", b"eyJ",
)  # fmt: skip
# Each pattern starts with a literal, which `re` searches for fast. In the lowercased bytes: the
# credential shapes' other keywords.
_PATTERNS_LOWERCASE = (
    re.compile(rb"sig(?:nature)?['\"]?\s{0,3}="),
    re.compile(rb"auth['\"]?\s{0,3}[=:]"),
)
# In the bytes as they are: the word `pass` in a name or a credential shape, not the `pass`
# statement (which follows indentation, `:` or `;` and ends the statement; what that misses is
# inside a triple-quoted string: a dict key `pass` alone at a line's end); the formats without
# a literal prefix; `Bearer <token>` and the like, and a password in a URL, long enough to be
# reported.
_PATTERNS = (
    re.compile(rb"pass(?:(?<=[^a-z\s:;]pass)(?![a-z])|[_\-'\"0-9=:]|\s{1,3}=)"),
    re.compile(rb"PASS(?![A-Z])"),
    re.compile(rb"Pass(?![a-z])"),
    re.compile(rb"SK[0-9a-f]{32}"),
    re.compile(rb"sk-(?<![A-Za-z0-9_]sk-)"),
    re.compile(rb"Bearer\s{1,3}[A-Za-z0-9._~+/-]{8}"),
    re.compile(rb"Basic\s{1,3}[A-Za-z0-9._~+/-]{8}"),
    re.compile(rb"Token\s{1,3}[A-Za-z0-9._~+/-]{8}"),
    re.compile(rb"://[^\s:/@'\"]*:[^\s@/'\"]{8,}@"),
)
_KEY_KIND_WORDS = tuple(sorted(w.encode() for w in _KEY_KINDS))
_NOT_ALNUM = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalnum())


def could_hold_reportable(source: bytes) -> bool:
    """A necessary condition, read from the bytes alone, for `find_secrets` to find a secret
    that `reportable` keeps: a file without it is never tokenized for PA607."""
    lowered = source.lower()
    if any(word in lowered for word in _WORDS_LOWERCASE):
        return True
    if any(prefix in source for prefix in _FORMAT_PREFIXES):
        return True
    if any(p.search(lowered) for p in _PATTERNS_LOWERCASE) or any(
        p.search(source) for p in _PATTERNS
    ):
        return True
    return _key_pair(lowered)


def _key_pair(lowered: bytes) -> bool:
    """`<kind> key` with any separator between (`api_key`, `apiKey`, `"Access-Key"`), as
    `_secret_name` reads it, in the lowercased bytes."""
    return next(_key_pairs(lowered), -1) != -1


def _key_pairs(lowered: bytes) -> Iterator[int]:
    """Where `_key_pair` finds its pairs."""
    position = lowered.find(b"key")
    while position != -1:
        before = lowered[max(0, position - 64) : position].rstrip(_NOT_ALNUM)
        if before.endswith(_KEY_KIND_WORDS) or (position >= 64 and not before):
            yield position
        position = lowered.find(b"key", position + 3)


def _anchors(source: bytes) -> Iterator[int]:
    """Every place in `source` where `could_hold_reportable` sees its condition met."""
    lowered = source.lower()
    for words, data in ((_WORDS_LOWERCASE, lowered), (_FORMAT_PREFIXES, source)):
        for word in words:
            position = data.find(word)
            while position != -1:
                yield position
                position = data.find(word, position + 1)
    for patterns, data in ((_PATTERNS_LOWERCASE, lowered), (_PATTERNS, source)):
        for pattern in patterns:
            yield from (match.start() for match in pattern.finditer(data))
    yield from _key_pairs(lowered)


# --- PA607: only the statements that could hold a reportable secret ---------------------------
#
# Tokenizing is most of the detector's time, and most of a file cannot hold a secret that
# `reportable` keeps: what makes one (a secret-like name, a provider's prefix, a credential
# shape) sits in the statement that holds the secret, or in the comments beside it. So PA607
# tokenizes only the statements around the places `could_hold_reportable` looks for, each on its
# own (a statement is a whole logical line: it tokenizes alone), found in the tree the caller
# already has. Anything this cannot be sure of reads the whole file instead.


def find_reportable(source: str, tree: ast.Module | None) -> list[Secret]:
    """The secrets of `source` (Python) that `reportable` keeps: those of
    `find_secrets(source)`, found by tokenizing only the statements that could hold one.
    `tree`: CPython's tree of the source (None: the whole source is read). Raises
    Untokenizable."""
    data = source.encode("utf-8", "surrogatepass")
    if not could_hold_reportable(data):
        return []
    regions = None if tree is None or "\r" in source else _regions(source, tree, data)
    try:
        found = find_secrets(source, regions)
    except Untokenizable:
        if regions is None:
            raise
        # A statement cut where it does not end (a shape `_statement_at` does not know): the
        # whole file says whether the tokenizer rejects the source.
        found = find_secrets(source)
    return [secret for secret in found if reportable(secret, source)]


def _regions(source: str, tree: ast.Module, data: bytes) -> list[tuple[int, int]]:
    """Offsets of the statements and comment lines that hold an anchor, each whole, with the
    comment lines next to them (a key pasted over several comment lines is read as one)."""
    lines = source.split("\n")
    breaks = [match.start() for match in _NEWLINE.finditer(data)]
    wanted = sorted({bisect.bisect_right(breaks, at) + 1 for at in _anchors(data)})
    spans: set[tuple[int, int]] = set()
    for line in wanted:
        first, last = _statement_at(tree.body, line, lines)
        spans.add((first, last))
    for first, last in list(spans):
        above, below = first, last
        while above > 1 and _comment_only(lines[above - 2]):
            above -= 1
        while below < len(lines) and _comment_only(lines[below]):
            below += 1
        spans.update((n, n) for n in (*range(above, first), *range(last + 1, below + 1)))
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text) + 1)
    kept: list[tuple[int, int]] = []
    for first, last in sorted(spans, key=lambda span: (span[0], -span[1])):
        if kept and last <= kept[-1][1]:
            continue  # inside a statement already read
        kept.append((first, last))
    return [(starts[first - 1], min(starts[last], len(source))) for first, last in kept]


_NEWLINE = re.compile(b"\n")


def _comment_only(line: str) -> bool:
    return line.lstrip().startswith("#")


def _statement_at(body: Sequence[ast.stmt], line: int, lines: Sequence[str]) -> tuple[int, int]:
    """First and last line of the innermost statement of `body` at `line` that tokenizes on
    its own: a simple statement, a compound statement's header, or (on a line between a
    compound statement's parts: `else:`, a comment) the whole compound statement; a comment
    line outside every statement is itself."""
    starts = [_first_line(statement) for statement in body]
    index = bisect.bisect_right(starts, line) - 1
    if index < 0 or line > (body[index].end_lineno or starts[index]):
        return line, line  # between statements: a comment or blank line
    statement = body[index]
    first, last = starts[index], statement.end_lineno or starts[index]
    inner = _bodies(statement)
    if not inner:
        return first, last
    opening = inner[0][0]
    header_end = _first_line(opening) - 1
    if _shares_its_line(opening, lines):  # `def f(...) -> None: ...`: the header ends there
        header_end = opening.end_lineno or opening.lineno
    if line <= header_end:
        return first, header_end
    for block in inner:
        block_first, block_last = _first_line(block[0]), block[-1].end_lineno or 0
        if block_first <= line <= block_last:
            found = _statement_at(block, line, lines)
            if found != (line, line) or _comment_only(lines[line - 1]):
                return found
    return first, last


def _shares_its_line(statement: ast.stmt, lines: Sequence[str]) -> bool:
    """Does code precede `statement` on its first line (its column counts UTF-8 bytes)?"""
    if getattr(statement, "decorator_list", None):
        return False
    line = lines[statement.lineno - 1].encode("utf-8", "surrogatepass")
    return bool(line[: statement.col_offset].strip())


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None)
    return (
        min(statement.lineno, *(d.lineno for d in decorators)) if decorators else statement.lineno
    )


def _bodies(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists a compound statement holds, in source order."""
    found: list[list[ast.stmt]] = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(statement, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            found.append(block)
        if name == "body":
            for handler in getattr(statement, "handlers", ()):
                found.append(handler.body)
            for case in getattr(statement, "cases", ()):
                found.append(case.body)
    return sorted(found, key=lambda block: block[0].lineno)
