"""Audits through the Message Batches API: what was submitted, kept under the cache folder, and
the results brought into the critique cache.

A batch's requests are exactly the requests an ordinary run would send (same redaction, prompt,
context and guidance), each under its critique cache key as `custom_id`; so a result stored
under that key is what the next ordinary run finds in the cache. What is outstanding lives in
one signed entry of the cache folder (`batches/state.json`): each batch's id, the model asked
and, per request, the file and what its answer is checked against (the lines it was shown);
and the requests whose result was no usable critique, with their attempt and why, to re-queue.
It is written after each step (a batch created, a batch's results stored), so an audit
interrupted at any point resumes where it was: collecting a batch twice stores the same
critiques twice. An entry that does not verify or does not parse is ignored with a warning:
a state planted in the repository cannot make a run store critiques of its choosing.

`client` talks to the API; nothing here imports `anthropic`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyarch_lint.config import LlmSettings
from pyarch_lint.escalation import cache
from pyarch_lint.escalation.prompt import FilePrompt
from pyarch_lint.escalation.validate import Unusable, read_answer
from pyarch_lint.findings import Critique
from pyarch_lint.report import counted
from pyarch_lint.storage import Store

STATE = "batches/state.json"
MAX_ATTEMPTS = 2  # as an ordinary run: the first request and one more (a re-ask or a resend)
_FORMAT = 1
_STATE_LIMIT = 64 * 1024 * 1024  # bytes: some 300,000 outstanding requests
# Errors that sending the same request again cannot mend.
_PERMANENT = frozenset({"invalid_request_error", "authentication_error", "permission_error"})


@dataclass(frozen=True, slots=True)
class Request:
    """One file's request in a batch: its cache key (the custom_id) and what its answer is
    checked against."""

    key: str
    path: str  # as shown when it was submitted
    line_count: int
    visible: tuple[tuple[int, int], ...]
    note: str | None
    attempt: int  # 1, or 2 for a re-queued one


@dataclass(frozen=True, slots=True)
class Submitted:
    id: str
    model: str
    requests: tuple[Request, ...]


@dataclass(frozen=True, slots=True)
class Failed:
    """A request whose result was no critique: re-queued while attempts are left."""

    attempt: int  # the attempts made
    reason: str  # `kind: detail`, as a file not reviewed gives it
    reask: str | None  # why the answer was unusable, for the re-ask; None: send it as it was
    retry: bool  # False: sending it again cannot help (a malformed request, a canceled batch)


@dataclass(frozen=True, slots=True)
class State:
    batches: tuple[Submitted, ...] = ()
    failed: Mapping[str, Failed] = field(default_factory=dict)  # by key

    def pending(self) -> set[str]:
        """The keys of requests in a batch not yet collected."""
        return {request.key for batch in self.batches for request in batch.requests}


def request_of(prompt: FilePrompt, key: str, attempt: int) -> Request:
    return Request(key, prompt.path, prompt.line_count, prompt.visible, prompt.note, attempt)


# -- the state ---------------------------------------------------------------------------------


def load(store: Store, warn: Callable[[str], None]) -> State:
    """The outstanding batches and failures (none when there is no valid state)."""
    try:
        payload = store.read(STATE, _STATE_LIMIT)
        if payload is None:
            return State()
        state = _parse(json.loads(payload))
    except OSError as error:
        warn(f"llm: audit state {store.path(STATE)} not read: {error.strerror or error}")
        return State()
    except (ValueError, RecursionError):
        state = None
    if state is None:
        warn(f"llm: ignoring invalid audit state {store.path(STATE)}")
        return State()
    return state


def save(store: Store, state: State) -> None:
    """Write the state (OSError when the cache folder cannot take it)."""
    document = {
        "format": _FORMAT,
        "batches": [
            {
                "id": batch.id,
                "model": batch.model,
                "requests": [
                    [r.key, r.path, r.line_count, [list(v) for v in r.visible], r.note, r.attempt]
                    for r in batch.requests
                ],
            }
            for batch in state.batches
        ],
        "failed": {
            key: [f.attempt, f.reason, f.reask, f.retry] for key, f in sorted(state.failed.items())
        },
    }
    store.write(STATE, json.dumps(document, separators=(",", ":")).encode("utf-8"))


class _Invalid(Exception):
    pass


def _parse(data: Any) -> State | None:
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        return None
    batches, failed = data.get("batches"), data.get("failed")
    if not isinstance(batches, list) or not isinstance(failed, dict):
        return None
    try:
        return State(
            tuple(_batch(batch) for batch in batches),
            {_text(key): _failed(value) for key, value in failed.items()},
        )
    except _Invalid:
        return None


def _batch(data: Any) -> Submitted:
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        raise _Invalid
    return Submitted(
        _text(data.get("id")), _text(data.get("model")), tuple(map(_request, data["requests"]))
    )


def _request(data: Any) -> Request:
    if not isinstance(data, list) or len(data) != 6:
        raise _Invalid
    key, path, line_count, visible, note, attempt = data
    if not isinstance(visible, list) or not all(
        isinstance(v, list) and len(v) == 2 and all(_count(n) for n in v) for v in visible
    ):
        raise _Invalid
    if not (_count(line_count) and _count(attempt)) or not (note is None or isinstance(note, str)):
        raise _Invalid
    return Request(
        _text(key), _text(path), line_count, tuple((a, b) for a, b in visible), note, attempt
    )


def _failed(data: Any) -> Failed:
    if not isinstance(data, list) or len(data) != 4:
        raise _Invalid
    attempt, reason, reask, retry = data
    if not _count(attempt) or not isinstance(retry, bool):
        raise _Invalid
    return Failed(attempt, _text(reason), None if reask is None else _text(reask), retry)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid
    return value


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# -- results -----------------------------------------------------------------------------------


def collect(
    store: Store,
    state: State,
    settings: LlmSettings,
    api_key: str,
    echo: Callable[[str], None],
) -> State:
    """Bring the results of every ended batch into the critique cache, recording the failures;
    the state is saved after each batch, and what is left returned. BatchError when the API
    cannot be asked."""
    from pyarch_lint.escalation import client  # loads anthropic: only now that we ask

    lines: list[str] = []
    for batch in state.batches:
        status = client.batch_status(batch.id, settings, api_key)
        if not status.ended:
            done = sum(v for k, v in status.counts.items() if k != "processing")
            lines.append(
                f"batch {batch.id}: in progress, {done} of {len(batch.requests)} requests done"
            )
            continue
        results = client.batch_results(batch.id, settings, api_key)
        critiques, failures = _outcomes(batch, results)
        for key, critique in critiques.items():
            cache.store(store, key, critique)
        kept = tuple(b for b in state.batches if b.id != batch.id)
        unsettled = {k: v for k, v in state.failed.items() if k not in critiques}
        state = State(kept, {**unsettled, **failures})
        save(store, state)
        lines.append(_ended(batch, len(critiques), failures.values()))
    for line in lines:
        echo(f"llm: audit: {line}")
    return state


def _outcomes(
    batch: Submitted, results: Iterable[tuple[str, object]]
) -> tuple[dict[str, Critique], dict[str, Failed]]:
    """Each request's critique, or its failure; a request the results do not mention failed."""
    requests = {request.key: request for request in batch.requests}
    critiques: dict[str, Critique] = {}
    failures: dict[str, Failed] = {}
    for key, result in results:
        request = requests.get(key)
        if request is None or key in critiques or key in failures:
            continue  # not ours, or said twice: the first word stands
        outcome = _outcome(request, result, batch.model)
        if isinstance(outcome, Critique):
            critiques[key] = outcome
        else:
            failures[key] = outcome
    for key, request in requests.items():
        if key not in critiques and key not in failures:
            failures[key] = Failed(request.attempt, "api error: no result for it", None, True)
    return critiques, failures


def _outcome(request: Request, result: object, model: str) -> Critique | Failed:
    data = result if isinstance(result, dict) else {}
    kind = data.get("type")
    attempt = request.attempt
    if kind == "succeeded":
        # What the answer is checked against: the lines the request showed (its text is sent).
        prompt = FilePrompt(
            request.path, "", request.line_count, request.visible, request.note, 0, 0
        )
        answer = read_answer(data.get("message"), prompt, model)
        if isinstance(answer, Unusable):
            return Failed(attempt, f"invalid answer: {answer.reason}", answer.reason, True)
        return answer
    if kind == "errored":
        error = data.get("error")
        inner = error.get("error") if isinstance(error, dict) else None
        name = inner.get("type") if isinstance(inner, dict) else None
        name = name if isinstance(name, str) and name.replace("_", "").isalpha() else "unknown"
        return Failed(attempt, f"api error: {name[:60]}", None, name not in _PERMANENT)
    if kind == "expired":
        return Failed(attempt, "expired: the batch ended before it was processed", None, True)
    if kind == "canceled":
        return Failed(attempt, "canceled: the batch was canceled", None, False)
    return Failed(attempt, "api error: a result of unknown type", None, True)


def _ended(batch: Submitted, reviewed: int, failures: Iterable[Failed]) -> str:
    by_kind: dict[str, int] = {}
    for failure in failures:
        kind = failure.reason.split(":", 1)[0]
        by_kind[kind] = by_kind.get(kind, 0) + 1
    text = f"batch {batch.id}: ended, {counted(reviewed, 'critique')} stored in the cache"
    if by_kind:
        text += "; not reviewed: " + ", ".join(f"{k}: {n}" for k, n in sorted(by_kind.items()))
    if by_kind.get("expired"):
        text += f" ({counted(by_kind['expired'], 'request')} expired with the batch)"
    return text


def retryable(state: State, key: str) -> bool:
    """May the request of `key`, which failed, be sent again?"""
    failure = state.failed.get(key)
    return failure is not None and failure.retry and failure.attempt < MAX_ATTEMPTS


def chunks(
    requests: Sequence[tuple[str, dict[str, Any]]],
) -> Iterator[Sequence[tuple[str, dict[str, Any]]]]:
    """`requests` cut into batches the API accepts (at most 100,000 requests and 256 MB each),
    in order; usually one."""
    start = size = 0
    for index, (key, params) in enumerate(requests):
        length = len(key) + len(json.dumps(params)) + _REQUEST_OVERHEAD
        if index > start and (index - start >= _BATCH_REQUESTS or size + length > _BATCH_BYTES):
            yield requests[start:index]
            start, size = index, 0
        size += length
    if start < len(requests):
        yield requests[start:]


_BATCH_REQUESTS = 100_000
_BATCH_BYTES = 200 * 1024 * 1024  # under the API's 256 MB, leaving room for the JSON around
_REQUEST_OVERHEAD = 64  # bytes of `{"custom_id": ..., "params": ...}` around each request


def without(state: State, keys: Iterable[str]) -> State:
    """`state` with the failures of `keys` forgotten (they are being sent again)."""
    gone = set(keys)
    return State(state.batches, {k: v for k, v in state.failed.items() if k not in gone})
