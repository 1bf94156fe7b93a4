"""The rule catalogue: `rules/*.md`, the one source of each built-in rule's text, and the
plugins' rules' documents (their DOC or docstring).

Each document is `# CODE rule-name`, then `## ` sections: What it does, Why is this bad?,
Example (bad code), Use instead (good code), How to fix, Options, References. The Example and
Use instead code blocks are run by the tests, so the documents and the rules cannot drift.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from pyarch_lint.checks.registry import RuleInfo, RuleSet

_HEADING = re.compile(r"^# ([A-Z]+[0-9]+) ([a-z0-9-]+)\s*$")
_CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RuleDoc:
    code: str
    name: str
    text: str
    sections: dict[str, str]

    @property
    def summary(self) -> str:
        """The first paragraph of "What it does": one line for listings and SARIF."""
        first = self.sections.get("What it does", "").strip().split("\n\n")[0]
        return " ".join(first.split())

    def examples(self, section: str) -> list[str]:
        """The Python code blocks of one section (`Example` is bad code, `Use instead` good)."""
        return _CODE_BLOCK.findall(self.sections.get(section, ""))


def rules_dir() -> Path:
    """Where the documents are: in the wheel when installed, beside the package in a checkout."""
    here = Path(__file__).parent
    shipped = here / "_rules"
    return shipped if shipped.is_dir() else here.parent / "rules"


def parse_doc(text: str) -> RuleDoc:
    lines = text.splitlines()
    match = _HEADING.match(lines[0]) if lines else None
    if match is None:
        raise ValueError("a rule document must start with '# CODE rule-name'")
    sections: dict[str, str] = {}
    current: str | None = None
    for line in lines[1:]:
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return RuleDoc(code=match[1], name=match[2], text=text, sections=sections)


@functools.cache
def load_catalogue() -> dict[str, RuleDoc]:
    """Every rule document, by code."""
    docs = (parse_doc(p.read_text(encoding="utf-8")) for p in sorted(rules_dir().glob("PA*.md")))
    return {doc.code: doc for doc in docs}


def documents(rules: RuleSet) -> dict[str, RuleDoc]:
    """Every rule's document, by code: ours from `rules/`, each plugin rule's from its class."""
    docs = dict(load_catalogue())
    plugins = (info for info in rules.by_code.values() if info.plugin is not None)
    docs.update({info.code: _plugin_doc(info) for info in plugins})
    return docs


def _plugin_doc(info: RuleInfo) -> RuleDoc:
    """A plugin's document as it wrote it when in the catalogue's format; otherwise its text
    under the catalogue's heading, as the "What it does" section."""
    heading = f"# {info.code} {info.name}"
    text = info.doc or f"A rule of {info.plugin}."
    if text.split("\n", 1)[0].rstrip() == heading:
        return parse_doc(text)
    return parse_doc(f"{heading}\n\n## What it does\n\n{text}\n")
