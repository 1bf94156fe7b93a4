"""`files done of total` on stderr while a long run works, for people watching a terminal.

Silent for the first second (a warm run finishes before anyone would read it), silent when
stderr is not a terminal (pre-commit, CI logs, pipes) and with `-q`. One line, redrawn in place
and erased at the end, so nothing of it is left between the findings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

DELAY = 1.0  # seconds before the first line
_INTERVAL = 0.1  # seconds between redraws: cheap for the run, smooth enough for the eye
_ERASE = "\r\x1b[K"


class ProgressLine:
    """The engine's `progress(done, total)` callback, and `finish()` to erase what it drew."""

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        delay: float | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._delay = DELAY if delay is None else delay
        self._last_draw: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if now - self._start < self._delay:
            return
        if self._last_draw is not None and now - self._last_draw < _INTERVAL and done < total:
            return
        self._last_draw = now
        self._stream.write(f"{_ERASE}pyarch-lint: {done}/{total} files")
        self._stream.flush()

    def finish(self) -> None:
        if self._last_draw is not None:
            self._stream.write(_ERASE)
            self._stream.flush()
            self._last_draw = None


def progress_line(stream: TextIO, quiet: bool) -> ProgressLine | None:
    """A progress line on `stream` when a person is watching it, else None."""
    if quiet or not stream.isatty():
        return None
    return ProgressLine(stream)
