"""`--explain`: prose a person can act on, grouped by file.

For each rule that fired in a file: where, then why it matters and how to fix it, from the rule's
document (so it works with no API key at all): in full where the rule first appears in the run,
later as a pointer back to it, so a rule that fires in a hundred files is explained once. Then
the model's critique when there is one, or the reason there is none.

Prose is wrapped by display width, so Chinese, Japanese or Korean text (two columns a character,
no spaces to break at) fits the same width as English. With a Chinese `llm.language` the fixed
headings are Chinese too; the rule documents stay as they are written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby, takewhile

from pyarch_lint.catalogue import RuleDoc, documents
from pyarch_lint.findings import Critique, CritiqueItem, Finding, Severity
from pyarch_lint.report import Outcome, char_width, display_width, one_line, sanitize

_WIDTH = 100


@dataclass(frozen=True, slots=True)
class _Words:
    """The report's own text in one language; `{}` fields are filled in with str.format."""

    file: str
    rule: str  # code, name, severity
    finding: str  # line, message
    why: str
    fix: str
    more: str  # the command that prints the rest of a rule's document
    explained: str  # {code}, and {path}: the file where it was explained
    review: str  # model
    review_cached: str  # model
    note: str
    item: str  # line, severity, principle
    item_span: str  # line, end line, severity, principle
    problem: str
    suggestion: str
    example: str
    trade_offs: str
    testing: str
    monitoring: str
    dropped: str  # count
    not_reviewed: str  # reason
    nothing: str
    severity: Mapping[Severity, str]


_ENGLISH = _Words(
    file="File: {}",
    rule="{} {} ({})",
    finding="line {}: {}",
    why="Why it matters:",
    fix="How to fix:",
    more="The rest of the rule's document: `pyarch-lint rule {}`.",
    explained="Why it matters and how to fix it: under {code} in {path}, above.",
    review="Architectural review ({})",
    review_cached="Architectural review ({}, cached)",
    note="Note: {}",
    item="line {} ({}): {}",
    item_span="lines {}-{} ({}): {}",
    problem="Problem: {}",
    suggestion="Suggestion: {}",
    example="Example:",
    trade_offs="Trade-offs:",
    testing="Testing:",
    monitoring="Monitoring:",
    dropped="({} invalid items of the answer were dropped)",
    not_reviewed="Not reviewed by the model: {}",
    nothing="No findings: nothing to explain.",
    severity={s: s.label for s in Severity},
)

_CHINESE = _Words(
    file="文件：{}",
    rule="{} {}（{}）",
    finding="第 {} 行：{}",
    why="为什么重要：",
    fix="如何修复：",
    more="规则文档的其余部分：`pyarch-lint rule {}`。",
    explained="为什么重要、如何修复：见上文 {path} 下的 {code}。",
    review="架构评审（{}）",
    review_cached="架构评审（{}，来自缓存）",
    note="说明：{}",
    item="第 {} 行（{}）：{}",
    item_span="第 {}-{} 行（{}）：{}",
    problem="问题：{}",
    suggestion="建议：{}",
    example="示例：",
    trade_offs="权衡：",
    testing="测试：",
    monitoring="监控：",
    dropped="（回答中有 {} 条无效内容被舍弃）",
    not_reviewed="模型未评审：{}",
    nothing="没有发现问题：无需解释。",
    severity={Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"},
)


def _words(language: str) -> _Words:
    """Chinese for `zh` and its variants (`zh-CN`, `zh-Hant`, ...), else English."""
    return _CHINESE if language.lower().split("-")[0] == "zh" else _ENGLISH


def render_explain(outcome: Outcome) -> str:
    words = _words(outcome.language)
    by_path = {p: list(g) for p, g in groupby(sorted(outcome.findings), key=lambda f: f.path)}
    reviews = {c.path: c for c in outcome.critiques}
    skipped = {n.path: n.reason for n in outcome.not_reviewed}
    paths = sorted({*by_path, *reviews, *skipped})
    if not paths:
        return words.nothing + "\n"
    docs = documents(outcome.rules)
    explained: dict[str, str] = {}  # rule code -> the file under which its advice was shown
    blocks: list[str] = []
    for path in paths:
        # "File: " first: a line may never start with text an attacker chose (a file named
        # `::warning::x.py` would be a GitHub workflow command).
        lines = [words.file.format(one_line(path)), ""]
        lines.extend(_findings(path, by_path.get(path, []), docs, explained, words))
        if path in reviews:
            lines.extend(_critique(reviews[path], words))
        if path in skipped:
            lines.extend(_wrap(words.not_reviewed.format(one_line(skipped[path])), ""))
            lines.append("")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _findings(
    path: str,
    findings: list[Finding],
    docs: Mapping[str, RuleDoc],
    explained: dict[str, str],
    words: _Words,
) -> Iterator[str]:
    order = sorted(
        {f.code for f in findings}, key=lambda c: min(f.line for f in findings if f.code == c)
    )
    for code in order:
        group = [f for f in findings if f.code == code]
        first = group[0]
        yield words.rule.format(code, first.name, words.severity[first.severity])
        for f in group:
            yield from _wrap(words.finding.format(f.line, one_line(f.message)), "  ", "    ")
        doc = docs.get(code)
        if code in explained:
            where = one_line(explained[code])
            yield from _wrap(words.explained.format(code=code, path=where), "  ")
        elif doc is not None:
            explained[code] = path
            yield from _advice(doc, words)
        yield ""


# Where a rule document says its severity: shown in the heading already. It runs to the end of
# its paragraph ("Severity: info. Missing hints alone never send ... (which starts at\nwarnings).").
_SEVERITY = re.compile(r"\s*\bSeverity: .*?(?=\n[ \t]*\n|\Z)", re.DOTALL)
_LIST_ITEM = re.compile(r"(?:[-*]|\d+\.) ")


def _advice(doc: RuleDoc, words: _Words) -> Iterator[str]:
    why, why_cut = _prose_of(_SEVERITY.sub("", doc.sections.get("Why is this bad?", "")))
    fix, fix_cut = _prose_of(doc.sections.get("How to fix", ""))
    for title, blocks in ((words.why, why), (words.fix, fix)):
        if blocks:
            yield f"  {title}"
            for index, block in enumerate(blocks):
                if index and not (_is_list_item(block) and _is_list_item(blocks[index - 1])):
                    yield ""  # between paragraphs, not between the items of a list
                yield from _block(block, "    ")
    if why_cut or fix_cut:
        yield from _wrap(words.more.format(doc.code), "    ")


def _prose_of(markdown: str) -> tuple[list[str | list[str]], bool]:
    """A section of a rule document as blocks to show: each paragraph and list item as one
    line of text, each code block as its lines. And whether something was left out: a
    subsection (`### ...`) with all after it, or a table, reference material that
    `pyarch-lint rule CODE` shows whole and a wrapped paragraph would garble."""
    blocks: list[str | list[str]] = []
    paragraph: list[str] = []
    cut = False
    lines = iter(markdown.splitlines())
    for line in lines:
        text = line.strip()
        if text.startswith("#"):
            cut = True
            break
        if paragraph and (not text or text.startswith(("```", "|")) or _LIST_ITEM.match(text)):
            blocks.append(" ".join(paragraph))
            paragraph = []
        if text.startswith("```"):  # the code up to the closing fence, which is consumed too
            blocks.append(list(takewhile(lambda code: not code.strip().startswith("```"), lines)))
        elif text.startswith("|"):
            cut = True
        elif text:
            paragraph.append(text)
    if paragraph:
        blocks.append(" ".join(paragraph))
    return [block for block in blocks if block], cut


def _is_list_item(block: str | list[str]) -> bool:
    return isinstance(block, str) and _LIST_ITEM.match(block) is not None


def _block(block: str | list[str], indent: str) -> Iterator[str]:
    if isinstance(block, list):  # code, indented once more and never wrapped
        yield from (f"{indent}    {sanitize(line)}".rstrip() for line in block)
        return
    item = _LIST_ITEM.match(block)
    yield from _wrap(block, indent, indent + " " * (item.end() if item else 0))


def _critique(critique: Critique, words: _Words) -> Iterator[str]:
    model = one_line(critique.model)
    yield (words.review_cached if critique.cached else words.review).format(model)
    yield from _prose(critique.summary, "  ")
    if critique.note:
        yield from _prose(words.note.format(critique.note), "  ")
    for item in critique.items:
        yield ""
        yield from _item(item, words)
    for title, points in (
        (words.trade_offs, critique.trade_offs),
        (words.testing, critique.testing),
        (words.monitoring, critique.monitoring),
    ):
        if points:
            yield ""
            yield f"  {title}"
            for point in points:
                yield from _wrap(f"- {one_line(point)}", "    ", "      ")
    if critique.dropped_items:
        yield ""
        yield f"  {words.dropped.format(critique.dropped_items)}"
    yield ""


def _item(item: CritiqueItem, words: _Words) -> Iterator[str]:
    severity, principle = words.severity[item.severity], one_line(item.principle)
    where = (
        words.item.format(item.line, severity, principle)
        if item.line == item.end_line
        else words.item_span.format(item.line, item.end_line, severity, principle)
    )
    yield from _wrap(where, "  ", "    ")
    yield from _prose(words.problem.format(item.problem), "    ")
    yield from _prose(words.suggestion.format(item.suggestion), "    ")
    if item.example:
        yield f"    {words.example}"
        yield from ("        " + line for line in sanitize(item.example).splitlines())


def _prose(text: str, indent: str) -> Iterator[str]:
    """Model prose, wrapped paragraph by paragraph (it often arrives as one long line)."""
    for paragraph in sanitize(text).split("\n"):
        if paragraph.strip():
            yield from _wrap(paragraph, indent)
        else:
            yield ""


# Punctuation that closes (never starts a line) and that opens (never ends one), in Chinese,
# Japanese and ASCII text.
_CLOSING = frozenset("，。、；：？！）》」』】〉〕…,.;:!?)]}%")
_OPENING = frozenset("（《「『【〈〔([{")


def _wrap(text: str, indent: str, hang: str | None = None) -> list[str]:
    """One paragraph in lines of at most _WIDTH columns as a terminal shows them, the first
    starting with `indent`, the others with `hang` (default `indent`). Lines break at spaces,
    and between wide characters, which CJK text allows anywhere but before closing and after
    opening punctuation. A word wider than the line stands on a line of its own."""
    hang = indent if hang is None else hang
    lines: list[str] = []
    line, used, empty = indent, display_width(indent), True
    for gap, unit in _units(text):
        size = display_width(unit)
        if not empty and used + len(gap) + size > _WIDTH:
            lines.append(line)
            line, used, empty = hang, display_width(hang), True
        if not empty:
            line += gap
            used += len(gap)
        line += unit
        used += size
        empty = False
    lines.append(line)
    return lines


def _units(text: str) -> Iterator[tuple[str, str]]:
    """The pieces a line may break between, each with the space before it (" " or "")."""
    gap, current = "", ""
    for char in text:
        if char.isspace():
            if current:
                yield gap, current
                current = ""
            gap = " "
            continue
        if current and _breaks(current[-1], char):
            yield gap, current
            current, gap = "", ""
        current += char
    if current:
        yield gap, current


def _breaks(before: str, after: str) -> bool:
    return (
        (char_width(before) == 2 or char_width(after) == 2)
        and after not in _CLOSING
        and before not in _OPENING
    )
