"""Property-based tests: generated programs (hypothesmith) and mutated bytes of real files.

The engine never raises: every input gives findings, or PA001/PA002/PA003 saying why not, and
every reported position lies inside the file. The fast positions `locate` takes from the stdlib
`ast` equal LibCST's own `PositionProvider` positions for every kind of reportable node.

Bounded so that the suite stays fast; `PYARCH_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py` for a
longer run.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import warnings
from pathlib import Path
from typing import Any

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyarch_lint.checks.base import Rule
from pyarch_lint.checks.registry import BUILTIN
from pyarch_lint.config import Settings, settings_from_toml
from pyarch_lint.engine import check_source
from pyarch_lint.files import split_lines
from pyarch_lint.locate import Locator, Span
from pyarch_lint.walk import Walker

EXAMPLES = int(os.environ.get("PYARCH_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
ALL = settings_from_toml('select = ["ALL"]')
CODES = set(BUILTIN.by_code)
REPO = Path(__file__).resolve().parent.parent
# Real files: our own code, and the rule fixtures (every construct the rules look at).
CORPUS = sorted(
    [*(REPO / "pyarch_lint").rglob("*.py"), *(REPO / "tests" / "fixtures" / "rules").glob("*.py")]
)
BYTE_LINES = re.compile(rb"\r\n|\r|\n")


def _lines(source: bytes, code: str) -> list[str] | list[bytes]:
    """The file's lines as the finding counts them: characters, or bytes for PA002."""
    if code == "PA002":
        return BYTE_LINES.split(source)
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    return split_lines(source.decode(encoding))


def check_never_raises_and_stays_inside(source: bytes, settings: Settings = ALL) -> None:
    findings = check_source(source, "fuzz.py", settings)
    for f in findings:
        assert f.code in CODES, f
        lines = _lines(source, f.code)
        assert 1 <= f.line <= f.end_line <= len(lines), f
        assert 1 <= f.column <= len(lines[f.line - 1]) + 1, f
        assert 1 <= f.end_column <= len(lines[f.end_line - 1]) + 1, f
        if f.line == f.end_line:
            assert f.column <= f.end_column, f


@FUZZ
@given(hypothesmith.from_grammar())
def test_generated_programs(source: str) -> None:
    check_never_raises_and_stays_inside(source.encode("utf-8"))


@FUZZ
@given(hypothesmith.from_node())
def test_generated_syntax_trees(source: str) -> None:
    check_never_raises_and_stays_inside(source.encode("utf-8"))


# Pieces that have broken parsers and position mapping before: line endings, BOMs, cookies,
# NULs, deep nesting, non-UTF-8 bytes, tabs, form feeds, non-ASCII, Python 2.
SPLICES = [
    b"\r\n",
    b"\r",
    b"\n",
    b"\x0c",
    b"\t",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xe9",
    b"\\\n",
    b"# -*- coding: latin-1 -*-\n",
    b"# coding: klingon\n",
    "é日本\u2028".encode(),
    b"(" * 300,
    b"[" * 50 + b"]" * 50,
    b"if x:\n" + b" " * 120 + b"pass\n",
    b"print 'python 2'\n",
    b"async def f():\n    await g()\n",
    b"try:\n    pass\nexcept:\n    pass\n",
    b'"""',
    b"'",
    b"#",
    b" " * 7,
]


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["splice", "byte", "delete", "duplicate"]))
        if kind == "splice":
            data[at:at] = draw(st.sampled_from(SPLICES))
        elif kind == "byte":
            data[at:at] = bytes([draw(st.integers(0, 255))])
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 400))]
    return bytes(data)


@FUZZ
@given(mutated_files())
def test_mutated_real_files(source: bytes) -> None:
    check_never_raises_and_stays_inside(source)


def test_every_real_file_unmutated() -> None:
    for path in CORPUS:
        check_never_raises_and_stays_inside(path.read_bytes())


# -- fast positions equal LibCST's ------------------------------------------------------------

_STATEMENTS = [
    "FunctionDef",
    "ClassDef",
    "If",
    "For",
    "While",
    "With",
    "Try",
    "TryStar",
    "Match",
    "ExceptHandler",
    "ExceptStarHandler",
    "SimpleStatementLine",
    "Expr",
    "Assign",
    "AugAssign",
    "AnnAssign",
    "Return",
    "Raise",
    "Pass",
    "Break",
    "Continue",
    "Del",
    "Import",
    "ImportFrom",
    "Global",
    "Nonlocal",
    "Assert",
    "TypeAlias",
]


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)


# What follows a compound statement's header: its own statements are reported on their own.
_CLAUSES = (
    cst.BaseSuite,
    cst.Else,
    cst.Finally,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.MatchCase,
    cst.If,  # an elif
)


def _report_everything(self: Rule, node: cst.CSTNode) -> None:
    """Every statement and handler, every parameter and annotation of a function, the
    annotation of an annotated assignment, and every call below a statement."""
    self.report(node, type(node).__name__)
    if isinstance(node, cst.FunctionDef):
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        for param in every:
            self.report(param, "param")
            if param.annotation is not None:
                self.report(param.annotation, "annotation")
        if node.returns is not None:
            self.report(node.returns, "returns")
    if isinstance(node, cst.AnnAssign):
        self.report(node.annotation, "annotation")
    calls = _Calls()
    if isinstance(node, cst.BaseSmallStatement):
        node.visit(calls)
    elif isinstance(node, cst.BaseCompoundStatement):  # the header's: the body's come anyway
        for child in node.children:
            if not isinstance(child, _CLAUSES):
                child.visit(calls)
    for call in calls.calls:
        self.report(call, "call")


ReportEverything: type[Rule] = type(
    "ReportEverything",
    (Rule,),
    {f"visit_{name}": _report_everything for name in _STATEMENTS},
)


def fast_and_slow_spans(text: str) -> list[tuple[str, Span | None, Span]]:
    """(node kind, fast span or None where the fast path declines, PositionProvider span)."""
    module = cst.parse_module(text)
    options: dict[type[Any], Any] = {}
    walker = Walker(module, [("PA999", ReportEverything)], options)
    walker.walk()
    assert not walker.crashes
    lines = split_lines(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    fast = Locator(tree, lines, module, walker.statements, walker.handlers)
    slow = Locator(None, lines, module, walker.statements, walker.handlers)  # forced slow
    return [
        (report.message, fast._fast_span(report) if fast._fast else None, slow.span(report))
        for report in walker.reports
    ]


def check_fast_equals_slow(text: str) -> None:
    for kind, fast, slow in fast_and_slow_spans(text):
        if fast is not None:
            assert fast == slow, (kind, fast, slow)


@FUZZ
@given(hypothesmith.from_grammar())
def test_fast_positions_equal_libcst_positions_on_generated_programs(source: str) -> None:
    try:
        compile(source, "<fuzz>", "exec", dont_inherit=True)
        cst.parse_module(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError):
        return  # positions are only compared where both parsers agree the program is valid
    check_fast_equals_slow(source)


def _decoded(path: Path) -> str:
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def test_fast_positions_equal_libcst_positions_on_real_files() -> None:
    compared = 0
    for path in CORPUS:
        text = _decoded(path)
        spans = fast_and_slow_spans(text)
        for kind, fast, slow in spans:
            if fast is not None:
                assert fast == slow, (path.name, kind, fast, slow)
                compared += 1
    assert compared > 5_000  # the fast path is the one taken, not an empty comparison


ODD_TEXT = [
    "x = 1\r\ntry:\r\n    f()\r\nexcept (A, B) as e:\r\n    pass\r\n",
    "x = 1\rdef f(a: int, *args: str, b=g(), **kw) -> None:\r    return h(i(j))\r",
    "\x0cdef f():\n    return 1\n\x0c\nclass C:\n    x: int = g()  # \x0c\n",
    "s = '''a\rb\r\nc'''\nif s:\n    print(s)\n",
    "x = 'é日本'; y = f('ü')\ndef g(ä: 'ö') -> 'ß':\n    return h()  # ÿ\n",
    "def f(\n    a,\n    *,\n    b: int = (\n        1\n    ),\n):\n    pass\n",
    "@dec(1)\n@other\nclass A(B, metaclass=M):\n    @property\n    def x(self): ...\n",
    "match x:\n    case [1, *rest]:\n        f(rest)\n    case {'k': v} if v:\n        pass\n",
    "try:\n    pass\nexcept* ValueError:\n    g()\nexcept* (A, B):\n    pass\n",
    "async def f():\n    async with a() as b, c():\n        async for x in y():\n"
    "            await z()\n",
    "x = (yield)\nlambda: (yield)\nz = [i async for i in f()]\n",
    "if a:\n\tb = 1\nelif c:\n\td = e(f)\nelse:\n\tpass\n",
    "x: list[int] = []; y = 2; z = f(); del x\nglobal g; assert g, h()\n",
]


def test_fast_positions_equal_libcst_positions_on_odd_text() -> None:
    for text in ODD_TEXT:
        spans = fast_and_slow_spans(text)
        assert any(fast is not None for _, fast, _ in spans), text
        check_fast_equals_slow(text)
