"""`--explain`: prose grouped by file, from the rule documents, then the model's critique."""

from __future__ import annotations

from pyarch_lint.catalogue import load_catalogue
from pyarch_lint.findings import Critique, CritiqueItem, Finding, NotReviewed, Severity
from pyarch_lint.report import Outcome
from pyarch_lint.report.explain import render_explain as render


def render_explain(
    findings: list[Finding], critiques: list[Critique], not_reviewed: list[NotReviewed]
) -> str:
    return render(Outcome(findings, critiques, not_reviewed, 1, 1, len(critiques)))


def finding(path: str, line: int, code: str = "PA301", name: str = "bare-except") -> Finding:
    return Finding(path, line, 5, line, 12, code, name, Severity.WARNING, f"message at {line}")


def test_without_a_key_it_explains_from_the_rule_documents():
    text = render_explain(
        [finding("b.py", 3), finding("a.py", 9), finding("a.py", 4)],
        [],
        [],
    )
    doc = load_catalogue()["PA301"]
    assert text.index("File: a.py") < text.index("File: b.py")
    a_part = text[: text.index("File: b.py")]
    assert "PA301 bare-except (warning)" in a_part
    assert a_part.index("line 4: message at 4") < a_part.index("line 9: message at 9")
    assert a_part.count("Why it matters:") == 1  # once per rule, not once per finding
    first_why_line = doc.sections["Why is this bad?"].strip().splitlines()[0]
    assert first_why_line in a_part
    assert "Severity:" not in a_part  # already in the heading
    assert doc.sections["How to fix"].strip().splitlines()[0] in a_part
    assert "Architectural review" not in text


def test_the_critique_follows_the_findings_of_its_file():
    item = CritiqueItem(
        line=3,
        end_line=8,
        severity=Severity.ERROR,
        principle="Errors should never pass silently",
        problem="The loader returns None for every failure. " * 5,
        suggestion="Let OSError propagate and catch it where a default makes sense.",
        example="def load(path: Path) -> dict[str, str]:\n    return json.loads(path.read_text())",
    )
    review = Critique(
        path="a.py",
        model="claude-sonnet-5-5",
        summary="A settings loader that hides its failures.",
        items=(item,),
        cached=True,
        note="only the flagged functions were reviewed",
        dropped_items=2,
    )
    text = render_explain([finding("a.py", 4)], [review], [])

    assert text.index("PA301 bare-except") < text.index("Architectural review")
    assert "Architectural review (claude-sonnet-5-5, cached)" in text
    assert "  A settings loader that hides its failures." in text
    assert "  Note: only the flagged functions were reviewed" in text
    assert "  lines 3-8 (error): Errors should never pass silently" in text
    assert "    Suggestion: Let OSError propagate" in text
    assert "        def load(path: Path) -> dict[str, str]:" in text
    assert "            return json.loads(path.read_text())" in text  # code keeps its indent
    assert "(2 invalid items of the answer were dropped)" in text
    assert all(len(line) <= 100 for line in text.splitlines() if "Problem" in line)


def test_files_not_reviewed_say_why_and_clean_files_are_not_mentioned():
    text = render_explain(
        [finding("a.py", 4)],
        [],
        [NotReviewed("a.py", "deadline: llm.deadline = 300s passed")],
    )
    assert "Not reviewed by the model: deadline: llm.deadline = 300s passed" in text
    assert render_explain([], [], []) == "No findings: nothing to explain.\n"


def test_untrusted_text_cannot_start_a_line_or_escape_the_terminal():
    review = Critique(
        path="::warning::evil.py",
        model="m",
        summary="fine\x1b[2J",
        items=(),
    )
    text = render_explain([], [review], [])
    assert "\x1b" not in text
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "File: ::warning::evil.py" in text
