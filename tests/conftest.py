from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pyarch_lint.checks.registry import RuleSet
from pyarch_lint.config import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def with_rule_class(settings: Settings, code: str, rule: type) -> Settings:
    """`settings` whose rule `code` is run by `rule` (a test double), in the worker processes
    too: the rules travel with the settings."""
    path = f"{rule.__module__}:{rule.__qualname__}"
    info = dataclasses.replace(settings.rules.by_code[code], rule_class=path)
    rules = RuleSet({**settings.rules.by_code, code: info}, settings.rules.plugins)
    return dataclasses.replace(settings, rules=rules)
