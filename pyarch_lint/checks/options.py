"""The rules' options: one frozen dataclass per `[tool.pyarch-lint.<SECTION>]` table.

Their fields, kebab-cased, are the table's keys, and their defaults the documented defaults.
They live apart from the rules' visitors because configuration is read in every run, while
LibCST is imported only when a file is actually analysed (a cached run never needs it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import ClassVar

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@dataclass(frozen=True, slots=True)
class StructureOptions:
    """`[tool.pyarch-lint.structure]`: the limits of PA101, PA102 and PA103."""

    SECTION: ClassVar[str] = "structure"
    max_nesting_depth: int = 4
    max_complexity: int = 10
    max_parameters: int = 6

    def __post_init__(self) -> None:
        for option in fields(self):
            if getattr(self, option.name) < 0:
                raise ValueError(f"`{option.name.replace('_', '-')}` must be 0 or more")


@dataclass(frozen=True, slots=True)
class AnnotationOptions:
    """`[tool.pyarch-lint.annotations]`: which functions the type-hint rules leave alone."""

    SECTION: ClassVar[str] = "annotations"
    ignore_private: bool = False
    mypy_init_return: bool = True
    suppress_dummy_args: bool = False
    ignore_fully_untyped: bool = False
    ignore_nested: bool = False


@dataclass(frozen=True, slots=True)
class AsyncOptions:
    """`[tool.pyarch-lint.async]`, shared by PA401-PA404."""

    SECTION: ClassVar[str] = "async"

    # Dotted name -> the alternative shown in the message ("" for the generic advice). PA401.
    extend_blocking_calls: dict[str, str] = field(default_factory=dict)
    # Dotted names never reported by PA401 or PA402; a name also allows everything below it
    # (`"subprocess"` allows `subprocess.run`, `"pathlib.Path"` all of its methods).
    allowed_blocking_calls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (*self.extend_blocking_calls, *self.allowed_blocking_calls):
            if not _DOTTED_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a dotted name (expected e.g. `mylib.client.fetch`, "
                    "or `builtins.input` for a builtin)"
                )
