"""PA302 knows a logging call from its imports; PA303's advice fits the `try` it is about:
`contextlib.suppress` only where it can replace the handler as written."""

from __future__ import annotations

import textwrap

import pytest

from pyarch_lint.config import settings_from_toml
from pyarch_lint.engine import check_source

PA302 = settings_from_toml('select = ["PA302"]')
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
        # A `break` inside `with suppress(...)` would read as always taken.
        (
            "for x in y:\n    try:\n        f(x)\n        break\n    except KeyError:\n"
            "        pass\nelse:\n    g()\n",
            COMMENT_ONLY,
        ),
        (
            "while y:\n    try:\n        f()\n    except KeyError:\n        pass\nelse:\n    g()\n",
            COMMENT_ONLY,
        ),
        ("for x in y:\n    try:\n        f(x)\n    except KeyError:\n        pass\n", SUPPRESS),
    ],
    ids=[
        "alone",
        "with finally",
        "with else",
        "with another handler",
        "except star",
        "in a for-else",
        "in a while-else",
        "in a loop without else",
    ],
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


def _swallowed(source: str) -> list[int]:
    found = check_source(textwrap.dedent(source).encode(), "x.py", PA302)
    return [finding.line for finding in found]


@pytest.mark.parametrize(
    "handler",
    [
        "from logging import exception\nexception('failed')",
        "from logging import error as report_error\nreport_error('failed')",
        "import logging\nlogging.exception('failed')",
        "import logging as lg\nlg.log(40, 'failed')",
        "import logging\nlogging.getLogger(__name__).error('failed')",
        "from logging import getLogger\ngetLogger().warning('failed')",
        "import logging\nsink = logging.getLogger(__name__)\nsink.error('failed')",
        "from loguru import logger\nlogger.exception('failed')",
        "import structlog\nstructlog.get_logger().error('failed')",
        "from myapp.log import logger\nlogger.error('failed')",  # named like a logger
    ],
)
def test_logging_calls_count_however_they_were_imported(handler: str) -> None:
    imports, call = handler.rsplit("\n", 1)
    source = f"{imports}\ntry:\n    work()\nexcept Exception:\n    {call}\n"
    assert _swallowed(source) == []


@pytest.mark.parametrize(
    "handler",
    [
        "import math\nmath.log(2)",
        "from math import log\nlog(2)",
        "import numpy as np\nnp.log(2)",
        "import logging\nlogging.info('failed')",
        "import logging\nlogging.getLogger().debug('failed')",
        "history = []\nhistory.append('failed')",
    ],
)
def test_calls_that_only_look_like_logging_do_not_count(handler: str) -> None:
    imports, call = handler.rsplit("\n", 1)
    source = f"{imports}\ntry:\n    work()\nexcept Exception:\n    {call}\n"
    assert _swallowed(source) == [4 + imports.count("\n")]  # the `except` line


def test_a_logger_attribute_and_an_annotated_parameter_count() -> None:
    source = """\
    import logging
    from logging import Logger

    class Worker:
        def __init__(self):
            self.audit = logging.getLogger("audit")

        def run(self, job, out: Logger):
            try:
                job()
            except Exception:
                self.audit.error("failed")
            try:
                job()
            except Exception:
                out.critical("failed")
            try:
                job()
            except Exception:
                self.results.error("failed")
    """
    assert _swallowed(source) == [19]


@pytest.mark.parametrize(
    ("with_line", "flagged"),
    [
        ("import contextlib\nwith contextlib.suppress(Exception):", True),
        ("import contextlib\nwith contextlib.suppress(OSError, BaseException):", True),
        ("from contextlib import suppress as quiet\nwith quiet(Exception):", True),
        ("import contextlib, builtins\nwith contextlib.suppress(builtins.Exception):", True),
        ("import contextlib\nwith contextlib.suppress(OSError):", False),
        (
            "import contextlib\nclass Exception(OSError): ...\n"
            "with contextlib.suppress(Exception):",
            False,
        ),
        ("from mylib import suppress\nwith suppress(Exception):", False),
    ],
)
def test_suppress_of_a_broad_exception_is_swallowing_it(with_line: str, flagged: bool) -> None:
    source = f"{with_line}\n    work()\n"
    found = check_source(source.encode(), "x.py", PA302)
    assert [f.line for f in found] == ([with_line.count("\n") + 1] if flagged else [])
    if flagged:
        assert "suppress only the specific exceptions you expect" in found[0].message


CANCEL = """\
import asyncio

async def stop(task):
    {cancel}
    try:
        await {awaited}
    except asyncio.CancelledError:
        pass
"""


@pytest.mark.parametrize(
    ("cancel", "awaited", "flagged"),
    [
        ("task.cancel()", "task", False),
        ("task.cancel()", "other", True),
        ("pass", "task", True),
        ("task.cancel()", "task.wait()", True),
    ],
    ids=["the idiom", "another task", "not cancelled", "awaits a call"],
)
def test_awaiting_a_cancelled_task_may_silence_its_cancellation(
    cancel: str, awaited: str, flagged: bool
) -> None:
    source = CANCEL.format(cancel=cancel, awaited=awaited)
    assert bool(advice(source)) == flagged
