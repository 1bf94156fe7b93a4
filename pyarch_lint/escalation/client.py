"""The only module that talks to the model, and the only one that imports `anthropic`.

`AsyncAnthropic` with at most `llm.concurrency` requests in flight, the first one alone (its
answer has written the prompt cache that every later request then reads), `llm.timeout` per
attempt,
the SDK's own retries (429, 529, 5xx, timeouts and connection errors, honouring retry-after; no
second retry layer here), and `llm.deadline` for the whole batch. A 401 or 403 stops everything at
once: every later request would be refused too. Endpoint and key: `ANTHROPIC_BASE_URL` is read by
the SDK; the key is passed in by the caller, who read it from the environment.

Also the Message Batches API, for `audit` (see `batch`): create a batch, retrieve its status,
read its results line by line. Answers are read raw and checked as plain data here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic

from pyarch_lint.config import LlmSettings
from pyarch_lint.escalation.prompt import FilePrompt, request_params, request_tokens
from pyarch_lint.escalation.validate import Unusable, read_answer
from pyarch_lint.findings import Critique, NotReviewed

# The SDK's default, stated so the reasons we print can say how often it tried.
MAX_RETRIES = 2

_ERROR_TYPE = re.compile(r"[a-z_]{1,60}")
_UNAUTHORISED = "unauthorised: escalation stopped when the API refused the key"


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_creation_tokens + other.cache_creation_tokens,
        )


@dataclass(frozen=True, slots=True)
class Batch:
    """What came back: one result per file asked about, in the order asked."""

    results: tuple[Critique | NotReviewed, ...]
    sent: int  # files a request was made for (the others waited for a slot until the end)
    usage: Usage
    stopped: str | None  # one line saying why escalation stopped early (401/403), else None
    estimated: int  # tokens the requests made may spend, estimated before sending each


@dataclass(frozen=True, slots=True)
class _Outcome:
    result: Critique | NotReviewed
    usage: Usage


@dataclass(slots=True)
class _Spend:
    """Tokens estimated for the requests made, and those left for re-asks (each file's first
    request was admitted within llm.max-run-tokens before the batch began)."""

    estimated: int
    spare: int


@dataclass(frozen=True, slots=True)
class _Shared:
    """What the requests of one batch share."""

    slots: asyncio.Semaphore  # at most llm.concurrency requests in flight
    refused: asyncio.Event  # set by the first 401/403, so no waiting request is sent
    primed: asyncio.Event  # set once the first request is answered: the prompt cache is written
    sent: set[str]  # the files a request was made for
    spend: _Spend


class _Refused(Exception):
    """The API refused our credentials: stop the whole batch."""


def review(
    prompts: Sequence[FilePrompt],
    settings: LlmSettings,
    api_key: str,
    spare: int,
    on_result: Callable[[Critique | NotReviewed], None] | None,
) -> Batch:
    """Ask the model about every prompt, re-asking only within `spare` tokens; `on_result`, if
    given, hears of each file as it finishes."""
    return asyncio.run(_review(prompts, settings, api_key, spare, on_result))


async def _review(
    prompts: Sequence[FilePrompt],
    settings: LlmSettings,
    api_key: str,
    spare: int,
    on_result: Callable[[Critique | NotReviewed], None] | None,
) -> Batch:
    client = anthropic.AsyncAnthropic(
        api_key=api_key, timeout=settings.timeout, max_retries=MAX_RETRIES
    )
    shared = _Shared(
        asyncio.Semaphore(settings.concurrency),
        asyncio.Event(),
        asyncio.Event(),
        set(),
        _Spend(0, spare),
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.deadline
    results: dict[str, Critique | NotReviewed] = {}
    usage = Usage()
    stopped: str | None = None
    async with client:
        tasks = {
            asyncio.create_task(_review_one(client, shared, p, settings, first=n == 0)): p
            for n, p in enumerate(prompts)
        }
        pending = set(tasks)
        while pending and stopped is None and loop.time() < deadline:
            done, pending = await asyncio.wait(
                pending, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                try:
                    outcome = task.result()
                except _Refused as refusal:
                    stopped = str(refusal)
                    continue
                results[tasks[task].path] = outcome.result
                usage += outcome.usage
                if on_result is not None:
                    on_result(outcome.result)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if stopped is not None:
        reason = _UNAUTHORISED
    else:
        reason = f"deadline: llm.deadline = {settings.deadline:g}s passed"
    ordered = tuple(results.get(p.path, NotReviewed(p.path, reason)) for p in prompts)
    return Batch(ordered, len(shared.sent), usage, stopped, shared.spend.estimated)


async def _review_one(
    client: anthropic.AsyncAnthropic,
    shared: _Shared,
    prompt: FilePrompt,
    settings: LlmSettings,
    *,
    first: bool,
) -> _Outcome:
    """One file: a request, and one re-ask at most when the answer holds no critique."""
    usage = Usage()
    reask: str | None = None
    if not first:
        await shared.primed.wait()
    async with shared.slots:
        if shared.refused.is_set():
            return _Outcome(NotReviewed(prompt.path, _UNAUTHORISED), usage)
        shared.sent.add(prompt.path)
        for _ in range(2):
            params = request_params(prompt, settings, reask)
            cost = request_tokens(prompt, settings, reask)
            if reask is not None:
                if cost > shared.spend.spare:
                    why = f"invalid answer: {reask}; llm.max-run-tokens leaves no room to re-ask"
                    return _Outcome(NotReviewed(prompt.path, why), usage)
                shared.spend.spare -= cost
            shared.spend.estimated += cost
            try:
                message, spent = await _send(client, params)
            except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as error:
                shared.refused.set()
                raise _Refused(
                    f"llm: escalation stopped: the API refused the key (HTTP {error.status_code}"
                    f"{_error_type(error)}); check ANTHROPIC_API_KEY"
                ) from error
            except anthropic.APIError as error:
                return _Outcome(NotReviewed(prompt.path, _failure(error, settings)), usage)
            finally:
                shared.primed.set()  # answered (or failed): the others need not wait any more
            usage += spent
            answer = read_answer(message, prompt, settings.model)
            if not isinstance(answer, Unusable):
                return _Outcome(answer, usage)
            reask = answer.reason
    return _Outcome(NotReviewed(prompt.path, f"invalid answer: {reask}, twice"), usage)


async def _send(client: anthropic.AsyncAnthropic, params: dict[str, Any]) -> tuple[Any, Usage]:
    """The decoded response body (None when it is not JSON) and the tokens it reports.

    Read raw rather than as SDK models: the answer is untrusted and gets validated as plain
    data, whatever shape it arrives in."""
    response = await client.messages.with_raw_response.create(**params)
    try:
        message = json.loads(await response.read())
    except ValueError:
        return None, Usage()
    return message, _usage(message)


def _usage(message: object) -> Usage:
    raw = message.get("usage") if isinstance(message, dict) else None
    if not isinstance(raw, dict):
        return Usage()

    def count(name: str) -> int:
        value = raw.get(name)
        return value if isinstance(value, int) and value >= 0 else 0

    return Usage(
        count("input_tokens"),
        count("output_tokens"),
        count("cache_read_input_tokens"),
        count("cache_creation_input_tokens"),
    )


def _failure(error: anthropic.APIError, settings: LlmSettings) -> str:
    """Why a file was not reviewed, once the SDK has given up on it."""
    retried = f"after {MAX_RETRIES} retries"
    if isinstance(error, anthropic.APITimeoutError):
        return f"timeout: no answer within llm.timeout = {settings.timeout:g}s, {retried}"
    if isinstance(error, anthropic.APIConnectionError):
        return f"connection error: the API could not be reached, {retried}"
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code
        again = f", {retried}" if status in (408, 409, 429) or status >= 500 else ""
        return f"api error: HTTP {status}{_error_type(error)}{again}"
    return f"api error: {type(error).__name__}"


def _error_type(error: anthropic.APIStatusError) -> str:
    """The API's error type (`overloaded_error`), when it is one: never free server text."""
    kind = error.type
    return f" {kind}" if isinstance(kind, str) and _ERROR_TYPE.fullmatch(kind) else ""


# -- the Message Batches API -------------------------------------------------------------------

_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")  # it goes into a URL: nothing else is accepted
_RESULT_LINE_LIMIT = 16 * 1024 * 1024  # characters of one result; a critique is far smaller


class BatchError(Exception):
    """The Batches API did not do what was asked; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class BatchStatus:
    ended: bool  # processing_status is "ended": every result is in
    counts: Mapping[str, int]  # request_counts: processing, succeeded, errored, canceled, expired


def create_batch(
    requests: Sequence[tuple[str, dict[str, Any]]], settings: LlmSettings, api_key: str
) -> str:
    """Submit one batch of (custom_id, Messages API request) pairs; its id."""
    # The SDK's typed request is the same JSON; `Any`, as `review` passes its params.
    body: Any = [{"custom_id": custom_id, "params": params} for custom_id, params in requests]
    with _client(settings, api_key) as client:
        data = _json(
            lambda: client.messages.batches.with_raw_response.create(requests=body), settings
        )
    batch_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(batch_id, str) or not _BATCH_ID.fullmatch(batch_id):
        raise BatchError("the API's answer to the new batch holds no usable batch id")
    return batch_id


def batch_status(batch_id: str, settings: LlmSettings, api_key: str) -> BatchStatus:
    with _client(settings, api_key) as client:
        data = _json(lambda: client.messages.batches.with_raw_response.retrieve(batch_id), settings)
    if not isinstance(data, dict):
        raise BatchError(f"batch {batch_id}: the API's answer is not a batch")
    raw = data.get("request_counts")
    counts = {
        name: value
        for name, value in (raw.items() if isinstance(raw, dict) else ())
        if isinstance(name, str) and isinstance(value, int) and not isinstance(value, bool)
    }
    return BatchStatus(data.get("processing_status") == "ended", counts)


def batch_results(
    batch_id: str, settings: LlmSettings, api_key: str
) -> Iterator[tuple[str, object]]:
    """(custom_id, result) for each line of an ended batch's results, as they stream in; a
    line that is no result is skipped."""
    with (
        _client(settings, api_key) as client,
        _translated(settings),
        client.messages.batches.with_streaming_response.results(batch_id) as response,
    ):
        for line in response.iter_lines():
            if not line.strip() or len(line) > _RESULT_LINE_LIMIT:
                continue
            try:
                data = json.loads(line)
            except (ValueError, RecursionError):
                continue
            custom_id = data.get("custom_id") if isinstance(data, dict) else None
            if isinstance(custom_id, str):
                yield custom_id, data.get("result")


def _client(settings: LlmSettings, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=api_key, timeout=settings.timeout, max_retries=MAX_RETRIES)


def _json(call: Callable[[], Any], settings: LlmSettings) -> object:
    """The decoded body of a raw SDK call (None when it is not JSON)."""
    with _translated(settings):
        response = call()
        try:
            return json.loads(response.read())
        except ValueError:
            return None


@contextlib.contextmanager
def _translated(settings: LlmSettings) -> Iterator[None]:
    """SDK errors become BatchError, with the reason `review` would give for a file."""
    try:
        yield
    except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as error:
        raise BatchError(
            f"the API refused the key (HTTP {error.status_code}{_error_type(error)}); "
            "check ANTHROPIC_API_KEY"
        ) from error
    except anthropic.APIError as error:
        raise BatchError(_failure(error, settings)) from error
    except anthropic.AnthropicError as error:  # no results_url: the batch has not ended
        raise BatchError(f"the API gave no results ({type(error).__name__})") from error
