"""Run one function over many items in child processes, so that no item can take the run down.

Whatever one item does to the process analysing it - overflow the native parser's stack
(SIGSEGV), exhaust memory (the kernel's OOM killer), run for minutes inside native code that
holds the GIL so that no Python-level alarm can interrupt it - only that item is lost: it comes
back as a `Failure`, the dead or stuck worker is replaced, and every other item is still
processed. The parent watches each item's run time and kills a worker that exceeds the limit.

Each worker holds at most two items (one running, one queued, so that it never waits for the
parent), and its results come back in order; the item at the head of its queue is the one it is
running, which is how a crash or a timeout is pinned on the right item.
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import multiprocessing
import multiprocessing.context
import multiprocessing.process
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Argument = TypeVar("Argument")

_QUEUED = 2
# Valid but deeply nested code (a long `a + b + ...` chain) recurses deeply in LibCST's Python
# visitors: the work runs in a thread with a large stack (address space, touched only as used)
# and a recursion limit to match, so that it finishes instead of raising RecursionError.
STACK_SIZE = 512 * 1024 * 1024
RECURSION_LIMIT = 30_000
_SHUTDOWN_GRACE = 2.0  # seconds a finished worker gets to exit before it is killed


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an item has no result."""

    timed_out: bool
    reason: str  # "killed by SIGSEGV", "exit status 1", "ValueError: ..."


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    queued: deque[int] = field(default_factory=deque)  # indices sent, oldest (running) first
    started: float = 0.0  # when the running item started


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.DefaultContext:
    # Linux: fork, so that a worker starts in milliseconds with every module already imported
    # (a one-file run for pre-commit stays fast, and a replacement after a crash is cheap).
    # Elsewhere fork is unsafe (macOS) or missing (Windows): the platform's default.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def run_deep(function: Callable[[], None]) -> None:
    """Call `function` in a thread with a large stack and a high recursion limit."""
    previous = threading.stack_size()
    try:
        threading.stack_size(STACK_SIZE)
        thread = threading.Thread(target=function, name="pyarch-lint-analysis")
        thread.start()
    except (RuntimeError, ValueError, MemoryError):  # no such stack here: do without
        function()
        return
    finally:
        threading.stack_size(previous)
    thread.join()


def _serve(
    connection: Connection,
    *,
    make_work: Callable[[Argument], Callable[[Item], Result]],
    argument: Argument,
    say_ready: bool = False,
) -> None:
    """A worker process: items in, results (or a Failure for a bug in `work`) out, until None;
    with `say_ready`, a None first, once `make_work` is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a crash is reported as a finding, not as a dump on stderr
    work = make_work(argument)
    if say_ready:
        connection.send(None)

    def loop() -> None:
        sys.setrecursionlimit(RECURSION_LIMIT)
        while True:
            try:
                item = connection.recv()
            except (EOFError, OSError):  # the parent is gone
                return
            if item is None:
                return
            try:
                connection.send(work(item))
            except Exception as error:  # a bug in `work`: this item fails, the worker serves on
                connection.send(Failure(False, f"{type(error).__name__}: {error}"))

    run_deep(loop)


def _death(process: multiprocessing.process.BaseProcess) -> str:
    process.join(_SHUTDOWN_GRACE)
    code = process.exitcode
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def map_isolated(
    make_work: Callable[[Argument], Callable[[Item], Result]],
    argument: Argument,
    items: Sequence[Item],
    *,
    jobs: int,
    timeout: float | None,
    done: Callable[[int], None] = lambda _count: None,
) -> list[Result | Failure]:
    """`make_work(argument)(item)` for every item, in `jobs` worker processes, in item order.

    `make_work` runs once in each worker (it and `argument` must pickle where processes are
    spawned); `timeout` bounds each item's seconds (None or infinite: no bound); `done(count)`
    is called in this process as results arrive.
    """
    limit = timeout if timeout is not None and math.isfinite(timeout) else None
    pool = _Pool(partial(_serve, make_work=make_work, argument=argument), items, jobs, limit, done)
    try:
        while len(pool.results) < len(items):
            pool.step()
    finally:
        _stop(pool.workers)
    return [pool.results[index] for index in range(len(items))]


class _Pool:
    """The parent's side: which worker runs which item since when, and what came back."""

    def __init__(
        self,
        serve: Callable[[Connection], None],
        items: Sequence[Any],
        jobs: int,
        limit: float | None,
        done: Callable[[int], None],
    ) -> None:
        self.context = _context()
        self.serve = serve
        self.items = items
        self.jobs = jobs
        self.limit = limit
        self.done = done
        self.results: dict[int, Any] = {}
        self.pending: deque[int] = deque(range(len(items)))
        self.workers: list[_Worker] = []

    def step(self) -> None:
        """Hand out work, wait for a result, a death or a deadline, and deal with it."""
        self._feed(time.monotonic())
        handles: list[Connection | int] = [w.connection for w in self.workers]
        handles += [w.process.sentinel for w in self.workers]
        ready = set(wait(handles, self._wait_for()))
        now = time.monotonic()
        for worker in list(self.workers):
            if worker.connection in ready or worker.process.sentinel in ready:
                self._receive(worker, now)
            if worker.process.sentinel in ready:
                self._retire(worker, Failure(False, _death(worker.process)))
            elif worker.queued and self.limit is not None and now - worker.started >= self.limit:
                worker.process.kill()
                worker.process.join()
                self._retire(worker, Failure(True, f"{self.limit:g} s"))

    def _wait_for(self) -> float | None:
        if self.limit is None:
            return None
        deadlines = [w.started + self.limit for w in self.workers if w.queued]
        return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None

    def _start(self) -> _Worker:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=self.serve, args=(theirs,), daemon=True, name="pyarch-lint-worker"
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _finish(self, index: int, outcome: object) -> None:
        self.results[index] = outcome
        self.done(len(self.results))

    def _feed(self, now: float) -> None:
        idle = sum(1 for worker in self.workers if not worker.queued)
        while len(self.workers) < self.jobs and len(self.pending) > idle:
            self.workers.append(self._start())
            idle += 1
        for worker in self.workers:
            while self.pending and len(worker.queued) < _QUEUED:
                index = self.pending.popleft()
                try:
                    worker.connection.send(self.items[index])
                except OSError:  # it died: its sentinel says so in this step
                    self.pending.appendleft(index)
                    break
                if not worker.queued:
                    worker.started = now
                worker.queued.append(index)

    def _receive(self, worker: _Worker, now: float) -> None:
        try:
            while worker.queued and worker.connection.poll():
                outcome = worker.connection.recv()
                self._finish(worker.queued.popleft(), outcome)
                worker.started = now
        except (EOFError, OSError):
            pass  # died mid-message: its sentinel says so

    def _retire(self, worker: _Worker, failure: Failure) -> None:
        """The worker is dead or killed: its running item failed, its queued one goes back."""
        self.workers.remove(worker)
        worker.connection.close()
        if worker.queued:
            self._finish(worker.queued.popleft(), failure)
        self.pending.extendleft(reversed(worker.queued))


def _stop(workers: Sequence[_Worker]) -> None:
    for worker in workers:
        if worker.queued:  # interrupted mid-run: nothing left worth waiting for
            worker.process.kill()
            continue
        with contextlib.suppress(OSError):
            worker.connection.send(None)
    deadline = time.monotonic() + _SHUTDOWN_GRACE
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


class WarmWorker(Generic[Item, Result]):
    """One long-lived worker process for items that come one at a time (the language server's
    edits): `make_work(argument)` runs once, so what it imports (LibCST) is paid once, not per
    item, and is not counted in any item's time. An item that kills the process or runs past
    its timeout comes back as a `Failure`, and the next item starts a fresh worker. Started
    with the platform's `spawn`, never `fork`: the process that owns it runs threads, and a
    fork copies whatever lock one of them holds. Callers in several threads take turns."""

    def __init__(
        self, make_work: Callable[[Argument], Callable[[Item], Result]], argument: Argument
    ) -> None:
        self._serve = partial(_serve, make_work=make_work, argument=argument, say_ready=True)
        self._worker: _Worker | None = None
        self._ready = False  # the worker said make_work is done
        self._turn = threading.Lock()

    def start(self) -> None:
        """Start the worker now rather than with the first item."""
        with self._turn:
            self._started()

    def _started(self) -> _Worker:
        if self._worker is None:
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=self._serve, args=(theirs,), daemon=True, name="pyarch-lint-worker"
            )
            process.start()
            theirs.close()
            self._worker = _Worker(process, ours)
            self._ready = False
        return self._worker

    def run(self, item: Item, timeout: float | None) -> Result | Failure:
        """`work(item)` in the worker; `timeout` bounds its seconds."""
        with self._turn:
            worker = self._started()
            if not self._ready:
                wait([worker.connection, worker.process.sentinel])
                try:
                    worker.connection.recv()  # None: ready
                except (EOFError, OSError):  # make_work failed: the process is gone
                    return self._lost(Failure(False, _death(worker.process)))
                self._ready = True
            try:
                worker.connection.send(item)
            except OSError:  # it died since the last item: its sentinel says how
                return self._lost(Failure(False, _death(worker.process)))
            limit = timeout if timeout is not None and math.isfinite(timeout) else None
            ready = wait([worker.connection, worker.process.sentinel], limit)
            if worker.connection in ready:
                with contextlib.suppress(EOFError, OSError):  # else died mid-message
                    outcome: Result | Failure = worker.connection.recv()
                    return outcome
            if worker.process.sentinel in ready or worker.connection in ready:
                return self._lost(Failure(False, _death(worker.process)))
            worker.process.kill()
            worker.process.join()
            return self._lost(Failure(True, f"{limit:g} s"))

    def _lost(self, failure: Failure) -> Failure:
        if self._worker is not None:
            self._worker.connection.close()
            self._worker = None
        return failure

    def close(self) -> None:
        with self._turn:
            if self._worker is not None:
                _stop([self._worker])
                self._worker = None
