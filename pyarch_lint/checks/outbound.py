"""PA601: outbound HTTP calls that can wait forever.

`requests` and `urllib.request.urlopen` have no timeout unless one is passed: a server that
accepts the connection and never answers holds the call, the thread and whatever waits on it
until the process is restarted. httpx has a five-second default, so only `timeout=None`, given
explicitly, turns it off. aiohttp's default (five minutes in total) is a timeout, if a long one:
its sessions are checked only when the `check-aiohttp` option asks.

Clients are followed through the file's semantic model, like PA401's: a `requests.Session` built
in the function, passed as an annotated parameter (`Optional` too), stored on `self` in any
method, or bound at module level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst

from pyarch_lint.checks.asyncio_rules import client_class, shown_call
from pyarch_lint.checks.base import Rule, RuleContext
from pyarch_lint.checks.options import OutboundOptions
from pyarch_lint.findings import Severity
from pyarch_lint.semantics import dotted


def _under(module: str, names: str) -> frozenset[str]:
    return frozenset(f"{module}.{name}" for name in names.split())


_VERBS = "get post put patch delete head options request"
# Functions with no timeout unless given one.
_REQUESTS = _under("requests", _VERBS) | _under("requests.api", _VERBS)
_URLOPEN = frozenset({"urllib.request.urlopen"})
# Functions and constructors whose default timeout only an explicit `timeout=None` removes.
_HTTPX = frozenset(
    name
    for module in ("httpx", "httpx2")
    for name in _under(module, _VERBS + " stream Client AsyncClient")
)
_AIOHTTP = frozenset({"aiohttp.ClientSession", "aiohttp.request"})

# Client classes whose request methods take a `timeout=`, and what that timeout defaults to.
_SESSION_METHODS = frozenset(_VERBS.split())
_HTTPX_METHODS = _SESSION_METHODS | {"stream", "send"}
_CLIENT_METHODS: Mapping[str, frozenset[str]] = {
    "requests.Session": _SESSION_METHODS,
    **dict.fromkeys(
        [f"{module}.{cls}" for module in ("httpx", "httpx2") for cls in ("Client", "AsyncClient")],
        _HTTPX_METHODS,
    ),
}
_METHOD_ENDINGS = frozenset(m for methods in _CLIENT_METHODS.values() for m in methods)
_ENDINGS = frozenset(
    name.rpartition(".")[2] for name in (*_REQUESTS, *_URLOPEN, *_HTTPX, *_AIOHTTP)
)


# What to pass instead, by library.
_PAIR = "pass `timeout=` (seconds, or a `(connect, read)` pair)"
_SECONDS = "pass `timeout=` (seconds)"
_AIOHTTP_TIMEOUT = "pass `timeout=aiohttp.ClientTimeout(total=...)`"


@dataclass(frozen=True, slots=True)
class _Timeout:
    """What a call says about its timeout."""

    given: cst.BaseExpression | None  # the value passed, by keyword or in its position
    off: bool  # passed as `None` (or `httpx.Timeout(None)`): no timeout at all
    unknown: bool  # `**kwargs` or `*args` may carry one: no verdict


def _timeout(call: cst.Call, position: int | None) -> _Timeout:
    """The `timeout` argument of `call`, also when passed positionally at `position`."""
    positional = 0
    for arg in call.args:
        if arg.star:
            return _Timeout(None, False, True)
        if arg.keyword is None:
            if positional == position:
                return _Timeout(arg.value, _is_off(arg.value), False)
            positional += 1
        elif arg.keyword.value == "timeout":
            return _Timeout(arg.value, _is_off(arg.value), False)
    return _Timeout(None, False, False)


def _is_off(value: cst.BaseExpression) -> bool:
    """`None`, a `(connect, read)` pair with a `None` in it (requests then waits forever for
    that phase), or a timeout object made from `None` alone (`httpx.Timeout(None)`)."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    if isinstance(value, cst.Tuple):
        return any(
            isinstance(element.value, cst.Name) and element.value.value == "None"
            for element in value.elements
        )
    if isinstance(value, cst.Call) and len(value.args) == 1:
        arg = value.args[0]
        called = dotted(value.func) or ""
        return (
            called.endswith("Timeout")
            and arg.keyword is None
            and not arg.star
            and isinstance(arg.value, cst.Name)
            and arg.value.value == "None"
        )
    return False


class OutboundCallWithoutTimeout(Rule):
    CODE = "PA601"
    NAME = "outbound-call-without-timeout"
    SEVERITY = Severity.WARNING
    OPTIONS = OutboundOptions
    # A call is reported only through an import of one of these libraries (or `urlopen`), which
    # the file's bytes then contain: `import requests`, `from requests...`, `import os, requests`.
    REQUIRES_ANY = (
        b"import requests",
        b"from requests",
        b", requests",
        b"urlopen",
        b"httpx",
        b"aiohttp",
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._aiohttp = context.options(OutboundOptions).check_aiohttp

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):  # `from requests import get as fetch`: any name
            self._check_function(node, func)
        elif isinstance(func, cst.Attribute):
            # Resolution changes what the head of `a.b.c` stands for, never the last
            # attribute, so most method calls are ruled out without a lookup.
            ending = func.attr.value
            if ending in _ENDINGS and self._check_function(node, func):
                return
            if ending in _METHOD_ENDINGS:
                self._check_method(node, func)

    def _check_function(self, node: cst.Call, func: cst.BaseExpression) -> bool:
        """Report a library function or constructor called without a timeout; True when
        `func` is one of them."""
        for name in self.semantic.qualified_names(func):
            if name in _REQUESTS:
                self._require(node, _timeout(node, None), shown_call(func, name), _PAIR)
            elif name in _URLOPEN:  # urlopen(url, data, timeout)
                self._require(node, _timeout(node, 2), shown_call(func, name), _SECONDS)
            elif name in _HTTPX:
                self._forbid_off(node, _timeout(node, None), shown_call(func, name))
            elif name in _AIOHTTP:
                if self._aiohttp:
                    self._require(
                        node, _timeout(node, None), shown_call(func, name), _AIOHTTP_TIMEOUT
                    )
            else:
                continue
            return True
        return False

    def _check_method(self, node: cst.Call, func: cst.Attribute) -> None:
        kind = client_class(self.semantic, func.value)
        methods = None if kind is None else _CLIENT_METHODS.get(kind)
        if kind is None or methods is None or func.attr.value not in methods:
            return
        shown = shown_call(func, f"{kind}.{func.attr.value}")
        if kind == "requests.Session":
            self._require(node, _timeout(node, None), shown, _PAIR)
        else:
            self._forbid_off(node, _timeout(node, None), shown)

    def _require(self, node: cst.Call, timeout: _Timeout, shown: str, advice: str) -> None:
        if timeout.unknown or (timeout.given is not None and not timeout.off):
            return
        how = "without a timeout" if timeout.given is None else f"with {_written(timeout.given)}"
        self.report(node, f"{shown} {how} waits forever on a server that stops answering; {advice}")

    def _forbid_off(self, node: cst.Call, timeout: _Timeout, shown: str) -> None:
        if timeout.off and timeout.given is not None:
            self.report(
                node,
                f"{shown} with {_written(timeout.given)} turns the default timeout off and waits "
                "forever on a server that stops answering; pass seconds or an "
                "`httpx.Timeout(...)`",
            )


def _written(value: cst.BaseExpression) -> str:
    """`` `timeout=<value as written>` ``."""
    return f"`timeout={cst.Module(body=[]).code_for_node(value)}`"
