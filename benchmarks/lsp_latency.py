"""How long an editor waits for pyarch-lint's diagnostics as you type.

    python benchmarks/lsp_latency.py [--edits 50] [--lines 500]

Starts `pyarch-lint server` the way an editor does (a subprocess over stdio, pygls's own
client), opens a generated Python file of about 500 lines (classes, async handlers, error
handling, with findings of several rules), then makes 50 edits one after the other, each an
incremental change of one line such as typing produces, and times each from the moment the
`didChange` is sent to the `publishDiagnostics` for that version. Reports the median and the
95th percentile; and, as other work on the machine shows in the waits, the load average
around the run and the CPU time the server and its worker spent per edit (Linux: from /proc),
which no load changes.

Targets (2 cores): median <= 100 ms, p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from lsp_client import editor  # the tests' client, on the path just above
from lsprotocol import types as lsp

TARGET_MEDIAN = 0.100
TARGET_P95 = 0.150
TYPED = " + 0"

MODULE_HEAD = '''\
"""A generated service module: what a mid-sized file of an asyncio application looks like."""

from __future__ import annotations

import asyncio
import os
import json
import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)
'''

UNIT = """

@dataclass(frozen=True)
class Record{n}:
    key: str
    value: int
    tags: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{{self.key}}={{self.value}} ({{', '.join(self.tags)}})"


def parse_{n}(raw: str) -> Record{n}:
    data = json.loads(raw)
    try:
        return Record{n}(data["key"], int(data["value"]), tuple(data.get("tags", ())))
    except (KeyError, ValueError):
        log.warning("bad record %r", raw)
        raise


async def fetch_{n}(queue: asyncio.Queue[str], limit: int) -> list[Record{n}]:
    found = []
    for _ in range(limit):
        raw = await queue.get()
        if raw:
            if raw.startswith("{{"):
                found.append(parse_{n}(raw))
            else:
                time.sleep(0.01)
    return found


def summarize_{n}(records, threshold=0):
    total = 0
    for record in records:
        try:
            total += record.value
        except Exception:
            pass
    return total if total > threshold else 0
"""


def generated_module(lines: int) -> str:
    text = MODULE_HEAD
    n = 0
    while text.count("\n") < lines:
        text += UNIT.format(n=n)
        n += 1
    return text


def descendants_cpu() -> float | None:
    """CPU seconds used so far by this process's descendants (the server and its worker);
    None where /proc cannot say."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    if not parents:
        return None
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        grew = bool(found)
        mine |= found
    return sum(used[pid] for pid in mine if pid != os.getpid())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(
    folder: Path, text: str, edits: int
) -> tuple[float, list[float], int, float | None]:
    path = folder / "service.py"
    path.write_text(text, encoding="utf-8")
    async with editor(folder) as session:
        started = time.perf_counter()
        uri = session.open(path)
        arrived, diagnostics = await session.diagnostics(uri)
        first = arrived - started
        lines = text.splitlines()
        targets = [i for i, line in enumerate(lines) if "total += record.value" in line]
        waits = []
        cpu_before = descendants_cpu()
        for index in range(edits):  # type " + 0" at the end of a line, then delete it
            line = targets[(index // 2) % len(targets)]
            end = len(lines[line])
            typed = index % 2 == 0
            start = end if typed else end - len(TYPED)
            place = lsp.Range(
                start=lsp.Position(line=line, character=start),
                end=lsp.Position(line=line, character=end),
            )
            sent = time.perf_counter()
            version = session.edit(uri, place, TYPED if typed else "")
            arrived, diagnostics = await session.diagnostics(uri, version)
            waits.append(arrived - sent)
            lines[line] = lines[line] + TYPED if typed else lines[line][:start]
        cpu_after = descendants_cpu()
        cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
        return first, waits, len(diagnostics), cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--lines", type=int, default=500)
    options = parser.parse_args()
    text = generated_module(options.lines)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pyarch-lint-lsp-") as folder:
        Path(folder, "pyproject.toml").write_text("[tool.pyarch-lint]\n", encoding="utf-8")
        first, waits, findings, cpu = asyncio.run(measure(Path(folder), text, options.edits))
    median, p95 = statistics.median(waits), percentile(waits, 0.95)
    print(f"load average: {before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"file: {text.count(chr(10))} lines, {findings} diagnostics; {len(waits)} edits")
    print(f"didOpen -> first diagnostics: {first * 1000:.0f} ms (the worker warming up)")
    print(
        f"didChange -> publishDiagnostics: median {median * 1000:.0f} ms "
        f"(target {TARGET_MEDIAN * 1000:.0f}), p95 {p95 * 1000:.0f} ms "
        f"(target {TARGET_P95 * 1000:.0f}), min {min(waits) * 1000:.0f}, "
        f"max {max(waits) * 1000:.0f}"
    )
    if cpu is not None:
        print(f"CPU of the server and its worker: {cpu / len(waits) * 1000:.0f} ms per edit")
    return 0 if median <= TARGET_MEDIAN and p95 <= TARGET_P95 else 1


if __name__ == "__main__":
    sys.exit(main())
