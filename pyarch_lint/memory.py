"""Pausing the cyclic garbage collector while many acyclic objects are built or alive.

A file's LibCST and `ast` trees, or tens of thousands of findings, keys and report rows, are
hundreds of thousands of objects that the cyclic collector would walk again at every
generation-2 pass: a fifth to a half of the time spent on them (measured with
benchmarks/bench.py). None of them make cycles, and reference counting frees them, so the
collector is paused around such work and runs as usual afterwards.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
