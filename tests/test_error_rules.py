"""PA303's advice fits the `try` it is about: `contextlib.suppress` only where it can replace
the handler as written."""

from __future__ import annotations

import pytest

from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import check_source

PA303 = settings_from_toml('select = ["PA303"]')
SUPPRESS = "use `contextlib.suppress(KeyError)` or add a comment"
COMMENT_ONLY = "`KeyError` is silenced without a word; add a comment"


def advice(source: str) -> list[str]:
    return [finding.message for finding in check_source(source.encode(), "x.py", PA303)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("try:\n    f()\nexcept KeyError:\n    pass\n", SUPPRESS),
        ("try:\n    f()\nexcept KeyError:\n    pass\nfinally:\n    g()\n", SUPPRESS),
        # `else` runs only when nothing was raised: suppress() cannot say that.
        ("try:\n    f()\nexcept KeyError:\n    pass\nelse:\n    g()\n", COMMENT_ONLY),
        # Another handler does something: the try stays.
        ("try:\n    f()\nexcept KeyError:\n    pass\nexcept ValueError:\n    g()\n", COMMENT_ONLY),
        ("try:\n    f()\nexcept* KeyError:\n    pass\n", COMMENT_ONLY),
    ],
    ids=["alone", "with finally", "with else", "with another handler", "except star"],
)
def test_suppress_is_suggested_only_where_it_fits(source: str, expected: str) -> None:
    [message] = advice(source)
    assert expected in message
    assert ("contextlib.suppress" in message) == (expected == SUPPRESS)


def test_a_nested_try_has_its_own_advice() -> None:
    source = (
        "try:\n"
        "    try:\n"
        "        f()\n"
        "    except KeyError:\n"
        "        pass\n"
        "except KeyError:\n"
        "    pass\n"
        "else:\n"
        "    g()\n"
    )
    inner, outer = advice(source)
    assert SUPPRESS in inner
    assert COMMENT_ONLY in outer
