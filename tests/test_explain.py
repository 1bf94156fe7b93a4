"""`--explain` reads well: each rule's advice once per run, no stray fragments of the rule
documents, pointers only to what is above, lines wrapped by display width (Chinese too), and
Chinese headings with a Chinese `llm.language`.

`problems(text)` is the check; it runs here on realistic trees, and by hand on a corpus:
`pyarch-lint --explain --no-llm . > out.txt`, then `python tests/test_explain.py out.txt`.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyarch_lint.checks.registry import BUILTIN, RuleInfo, RuleSet
from pyarch_lint.cli import main
from pyarch_lint.findings import Critique, CritiqueItem, Finding, Severity
from pyarch_lint.report import Outcome, display_width
from pyarch_lint.report.explain import render_explain

FIXTURES = Path(__file__).parent / "fixtures"
WIDTH = 100

_FILE = re.compile(r"^(?:File: |文件：)(.+)$")
_RULE = re.compile(r"^([A-Z]+\d+) \S+ ?[(（]")
# Wrapped like any prose: the path may be on the next line.
_POINTER = re.compile(r"under ([A-Z]+\d+) in\s+(\S+), above\.|见上文\s*(\S+) 下的 ([A-Z]+\d+)")
# Headings after which a paragraph starts (as after a blank line).
_HEADING = re.compile(r"^ *(?:[A-Z][a-z-]+(?: [a-z]+)*:|Example:|[^\x00-\x7f]+[：:])$")
# How a paragraph may start: a capital, a digit, code, emphasis, a bracket, a bullet, a wide
# character; or, for a finding or an item, where it is.
_PARAGRAPH_START = re.compile(r"^(?:[A-Z0-9`*(\[\"'-]|[^\x00-\x7f]|lines? \d)")


def problems(text: str) -> list[str]:
    """What reads badly in an `--explain` report, one line each (none: it reads well)."""
    found: list[str] = []
    advice: Counter[str] = Counter()
    explained: dict[str, tuple[str, int]] = {}  # code -> the file it was explained under, where
    path = code = ""
    previous = ""
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        offset += len(raw)
        line = raw.rstrip("\n")
        where = f"line {number}: {line.strip()!r}"
        if match := _FILE.match(line):
            path = match[1]
        elif match := _RULE.match(line):
            code = match[1]
        elif line in ("  Why it matters:", "  为什么重要："):
            advice[code] += 1
            explained.setdefault(code, (path, offset))
        body = line.strip()
        starts = not previous.strip() or _HEADING.match(previous) or _RULE.match(previous)
        code_line = line.startswith(" " * 8)  # an example: code keeps its lines
        if body and starts and not code_line and not _PARAGRAPH_START.match(body):
            found.append(f"stray fragment: {where}")
        if body.startswith(("#", "\\#", "|", "```")):
            found.append(f"Markdown left in: {where}")
        if "see below" in line:
            found.append(f"nothing is below: {where}")
        if display_width(line) > WIDTH and not code_line:
            found.append(f"wider than {WIDTH} columns: {where}")
        previous = line
    found.extend(f"{code}'s advice appears {n} times" for code, n in advice.items() if n > 1)
    for match in _POINTER.finditer(text):
        code, path = (match[1], match[2]) if match[1] else (match[4], match[3])
        if explained.get(code, ("", len(text)))[0] != path or explained[code][1] > match.start():
            found.append(f"points to advice that is not above: {match[0]!r}")
    return found


def explain(folder: Path, *args: str) -> str:
    result = CliRunner().invoke(
        main,
        ["--explain", "--no-llm", "--no-cache", "--jobs", "1", *args, str(folder)],
        env={"NO_COLOR": "1", "ANTHROPIC_API_KEY": None},
    )
    assert result.exit_code == 1, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("tree", "args"),
    [
        (FIXTURES / "explain" / "shop", ()),  # a small service: rules repeat across files
        (FIXTURES / "rules", ("--select", "ALL")),  # every rule's document
    ],
    ids=["shop", "every-rule"],
)
def test_explain_reads_well_on_a_realistic_tree(tree: Path, args: tuple[str, ...]) -> None:
    text = explain(tree, *args)
    assert problems(text) == []
    sections = _rule_sections(text)
    codes = {code for code, _ in sections}
    assert len(codes) >= 15
    assert len(sections) > len(codes)  # rules repeat across files
    # Each rule that fired is explained where it first appears; later files point back to it.
    seen: set[str] = set()
    for code, section in sections:
        if code in seen:  # (the pointer wraps where the file's path is long)
            assert f"Why it matters and how to fix it: under {code} in " in " ".join(
                section.split()
            )
            assert "  Why it matters:" not in section
        else:
            assert "  Why it matters:" in section
            assert "  How to fix:" in section
        seen.add(code)


def _rule_sections(text: str) -> list[tuple[str, str]]:
    """Each rule's part of each file: its code and its lines."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if match := _RULE.match(line):
            sections.append((match[1], []))
        elif _FILE.match(line):
            sections.append(("", []))
        if sections:
            sections[-1][1].append(line)
    return [(code, "\n".join(lines)) for code, lines in sections if code]


def test_the_shop_tree_explains_what_the_documents_would_have_garbled() -> None:
    text = explain(FIXTURES / "explain" / "shop")
    assert "warnings)." not in text  # the end of PA201's severity paragraph
    assert "Severity:" not in text  # said in each rule's heading
    assert "The rest of the rule's document: `pyarch-lint rule PA401`." in text
    assert "requests.sessions.Session" not in text  # PA401's catalogue stays in its document
    # PA001's "Severity: error." ends a paragraph of advice: the sentence goes, the rest stays.
    assert "The rest of the run goes on. How to fix:" in " ".join(text.split())


def test_with_chinese_the_headings_are_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.pyarch-lint.llm]\nlanguage = "zh"\n')
    (tmp_path / "a.py").write_text("try:\n    pass\nexcept:\n    pass\n")
    (tmp_path / "b.py").write_text("try:\n    pass\nexcept:\n    pass\n")
    text = explain(Path("."), "--select", "PA301")
    assert text.startswith("文件：")
    assert "PA301 bare-except（警告）" in text
    assert "  第 3 行：" in text
    assert "  为什么重要：" in text
    assert "为什么重要、如何修复：见上文" in text  # b.py points back to a.py
    assert "Why it matters" not in text
    assert problems(text) == []
    english = explain(Path("."), "--select", "PA301", "--language", "en")
    assert english.startswith("File: a.py")


def _critique(summary: str, **more: object) -> Critique:
    item = CritiqueItem(
        line=2,
        end_line=3,
        severity=Severity.WARNING,
        principle="错误不应悄无声息地被忽略",
        problem="异常被吞掉了。" * 20,
        suggestion="只捕获能够处理的异常，其余的让它向上传播。" * 6,
        example="try:\n    load()\nexcept OSError:\n    raise",
    )
    return Critique("a.py", "claude-test", summary, (item,), **more)  # type: ignore[arg-type]


def test_chinese_prose_wraps_by_display_width_and_never_before_closing_punctuation() -> None:
    summary = "这个模块同时负责读取配置、连接数据库和处理请求，职责过多，难以测试。" * 8
    review = _critique(
        summary,
        trade_offs=("拆分模块会增加文件数量，但每个部分都可以单独测试和替换。" * 4,),
        testing=("为仓储层编写基于内存实现的单元测试。",),
        monitoring=("记录每次数据库重试的次数，并在失败率超过百分之五时告警。",),
    )
    finding = Finding("a.py", 3, 1, 3, 8, "PA301", "bare-except", Severity.WARNING, "裸露的 except")
    text = render_explain(Outcome([finding], [review], [], 1, 1, 1, language="zh"))
    assert problems(text) == []
    lines = text.splitlines()
    prose = [line for line in lines if "这个模块" in line or "职责过多" in line]
    assert len(prose) >= 4  # wrapped, not one line of 600 columns
    assert all(display_width(line) <= WIDTH for line in lines)
    assert all(display_width(line) >= WIDTH - 4 for line in prose[:-1])  # filled, not halved
    assert not any(line.lstrip().startswith(("，", "。", "）")) for line in lines)
    for heading in ("架构评审（claude-test）", "  权衡：", "  测试：", "  监控：", "    建议："):
        assert any(line.startswith(heading) for line in lines), heading
    assert "        except OSError:" in lines  # code is never wrapped


def test_english_prose_wraps_at_spaces_with_a_hanging_indent() -> None:
    review = Critique(
        "a.py",
        "m",
        "A loader. " * 30,
        (),
        trade_offs=("Splitting costs a module and buys a seam for tests. " * 4,),
    )
    text = render_explain(Outcome([], [review], [], 1, 1, 1))
    lines = text.splitlines()
    start = lines.index("  Trade-offs:")
    assert lines[start + 1].startswith("    - Splitting costs a module")
    assert lines[start + 2].startswith("      ")  # hangs under the text, not the bullet
    assert all(len(line) <= WIDTH for line in lines)
    assert not any(line.endswith(" ") for line in lines)


PLUGIN_DOC = """# ACME001 no-print

## What it does

Flags `print`.

## Why is this bad?

*Explicit is better than implicit.* Output belongs to a logger.

Severity: warning.

## How to fix

Log instead:

```python
log.info("%s", value)  # not print(value)
```

| call | instead |
|---|---|
| print | log.info |
"""


def test_a_plugin_rule_is_explained_from_its_own_document() -> None:
    info = RuleInfo(
        "ACME001", "no-print", Severity.WARNING, None, plugin="acme 1.0", doc=PLUGIN_DOC
    )
    rules = RuleSet({**BUILTIN.by_code, "ACME001": info}, ("acme 1.0",))
    finding = Finding("a.py", 3, 1, 3, 8, "ACME001", "no-print", Severity.WARNING, "print call")
    outcome = Outcome([finding, finding._replace(path="b.py")], [], [], 2, 2, 0, rules=rules)
    text = render_explain(outcome)
    assert problems(text) == []
    assert "    *Explicit is better than implicit.* Output belongs to a logger.\n" in text
    assert '    Log instead:\n\n        log.info("%s", value)  # not print(value)\n' in text
    assert "```" not in text  # the fence is Markdown; the code is shown indented
    assert "The rest of the rule's document: `pyarch-lint rule ACME001`." in text  # the table
    assert "under ACME001 in a.py, above." in text


def test_problems_finds_what_the_old_report_had() -> None:
    """The check itself: each of the faults the old report had is caught."""
    old = "\n".join(
        [
            "File: a.py",
            "",
            "PA201 missing-parameter-annotation (info)",
            "  line 3: `x` has no annotation",
            "  Why it matters:",
            "    *Explicit is better than implicit.* An unannotated parameter is `Any`.",
            "",
            "    warnings).",
            "  How to fix:",
            "    Annotate it.",
            "",
            "    \\### The catalogue",
            "",
            "File: b.py",
            "",
            "PA201 missing-parameter-annotation (info)",
            "  line 3: `x` has no annotation",
            "  Why it matters:",
            "    *Explicit is better than implicit.* An unannotated parameter is `Any`.",
            "  Why it matters and how to fix it: under PA202 in a.py, above.",
        ]
    )
    found = problems(old)
    assert any("stray fragment" in p and "warnings)." in p for p in found)
    assert any("Markdown left in" in p for p in found)
    assert "PA201's advice appears 2 times" in found
    assert any("not above" in p for p in found)


if __name__ == "__main__":
    report = Path(sys.argv[1]).read_text(encoding="utf-8")
    faults = problems(report)
    print("\n".join(faults) or f"reads well: {len(report.splitlines())} lines")
    sys.exit(1 if faults else 0)
