"""A Messages API server on 127.0.0.1 for the escalation tests.

It speaks just enough of the API for the real `anthropic` SDK: POST /v1/messages answered with
JSON messages (tool_use / text content, stop_reason, usage) or with error bodies in the API's
shape. Every request is recorded (path, headers, decoded JSON body). Answers come from a scripted
queue, in arrival order; when the queue is empty, `default` answers (a valid critique by
default). An answer may be a callable of the request body, for tests that run requests
concurrently and so cannot rely on arrival order.

The Message Batches endpoints too: POST /v1/messages/batches answers each request of the batch
from the same queue as it arrives (a 200 answer is a `succeeded` result, any other status an
`errored` one with its error body, `expired()` and `canceled()` those results); the batch ends
after `batch_polls` retrievals (0: at once), and GET .../results then gives the results as
JSONL, in reverse order (the API promises no order).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOOL_NAME = "record_critique"


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP answer."""

    status: int
    body: Any  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to outlast a client timeout)


Responder = Answer | Callable[[dict[str, Any]], Answer]


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes

    @property
    def user_text(self) -> str:
        """All text of the user turns, as sent."""
        parts: list[str] = []
        for message in self.body.get("messages", []):
            content = message["content"]
            if isinstance(content, str):
                parts.append(content)
            else:
                parts.extend(block.get("text", "") for block in content)
        return "\n".join(parts)


def usage(
    input_tokens: int = 1200, output_tokens: int = 300, cache_read: int = 0, cache_creation: int = 0
) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_creation,
    }


def message(
    content: list[dict[str, Any]],
    stop_reason: str = "tool_use",
    model: str = "claude-test",
    tokens: dict[str, int] | None = None,
) -> Answer:
    return Answer(
        200,
        {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": tokens if tokens is not None else usage(),
        },
    )


def item(line: int = 1, end_line: int | None = None, **overrides: Any) -> dict[str, Any]:
    """One critique item as the model would write it."""
    value: dict[str, Any] = {
        "line": line,
        "end_line": end_line if end_line is not None else line,
        "severity": "warning",
        "principle": "Errors should never pass silently",
        "problem": "The handler hides every failure.",
        "suggestion": "Catch the exceptions you can recover from.",
        "example": None,
    }
    value.update(overrides)
    return value


def critique(
    summary: str = "A loader that swallows its errors.",
    items: list[dict[str, Any]] | None = None,
    stop_reason: str = "tool_use",
    tokens: dict[str, int] | None = None,
    tool_input: Any = None,
    **file_level: Any,
) -> Answer:
    """A forced tool call carrying a critique (or any `tool_input`, for malformed answers).
    `file_level`: `trade_offs`, `testing`, `monitoring`, sent only when given (an answer in the
    shape before they existed has none)."""
    payload = tool_input
    if payload is None:
        payload = {"summary": summary, "items": items or [], **file_level}
    block = {"type": "tool_use", "id": "toolu_test", "name": TOOL_NAME, "input": payload}
    return message([block], stop_reason=stop_reason, tokens=tokens)


def text_only(text: str = "Looks fine to me.", stop_reason: str = "end_turn") -> Answer:
    return message([{"type": "text", "text": text}], stop_reason=stop_reason)


def error(status: int, kind: str, retry_after: float | None = None) -> Answer:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    body = {"type": "error", "error": {"type": kind, "message": f"scripted {kind}"}}
    return Answer(status, body, headers)


def expired() -> Answer:
    """A batch request the batch did not get to before it expired (batches only)."""
    return Answer(0, {"type": "expired"})


def canceled() -> Answer:
    """A batch request canceled before it was processed (batches only)."""
    return Answer(0, {"type": "canceled"})


def overloaded() -> Answer:
    # A tiny retry-after keeps the SDK's own retries fast; the real API may send none.
    return error(529, "overloaded_error", retry_after=0.01)


@dataclass
class Batch:
    """A message batch the server holds: its results by custom_id, in the order asked."""

    id: str
    results: dict[str, dict[str, Any]]
    polls_left: int  # retrievals before it ends

    def counts(self) -> dict[str, int]:
        ended = self.polls_left <= 0
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        for result in self.results.values():
            counts[result["type"] if ended else "processing"] += 1
        return counts


class MessagesServer:
    """Start with `with MessagesServer() as server:`; point the SDK at `server.url`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.batches: dict[str, Batch] = {}
        self.batch_polls = 0  # retrievals of a new batch before it ends
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests answered at once
        self.answered = 0  # requests answered so far
        self.default: Responder = critique(items=[item(1)])
        self._queue: deque[Responder] = deque()
        self._lock = threading.Lock()
        self._http = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval: shutting down waits for one poll.
        serve = functools.partial(self._http.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *answers: Responder) -> None:
        with self._lock:
            self._queue.extend(answers)

    def next_answer(self, body: dict[str, Any]) -> Answer:
        with self._lock:
            responder = self._queue.popleft() if self._queue else self.default
        return responder(body) if callable(responder) else responder

    def create_batch(self, body: dict[str, Any]) -> Answer:
        results: dict[str, dict[str, Any]] = {}
        for request in body.get("requests", []):
            answer = self.next_answer(request["params"])
            if answer.status == 0:
                results[request["custom_id"]] = answer.body
            elif answer.status == 200:
                results[request["custom_id"]] = {"type": "succeeded", "message": answer.body}
            else:
                results[request["custom_id"]] = {"type": "errored", "error": answer.body}
        with self._lock:
            batch = Batch(f"msgbatch_test{len(self.batches) + 1:04d}", results, self.batch_polls)
            self.batches[batch.id] = batch
        return Answer(200, self._batch_object(batch))

    def retrieve_batch(self, batch_id: str) -> Answer:
        batch = self.batches.get(batch_id)
        if batch is None:
            return error(404, "not_found_error")
        with self._lock:
            batch.polls_left -= 1
        return Answer(200, self._batch_object(batch))

    def batch_results(self, batch_id: str) -> Answer:
        batch = self.batches.get(batch_id)
        if batch is None or batch.polls_left > 0:
            return error(404, "not_found_error")
        lines = [
            json.dumps({"custom_id": custom_id, "result": result})
            for custom_id, result in reversed(batch.results.items())
        ]
        return Answer(200, "".join(f"{line}\n" for line in lines).encode())

    def _batch_object(self, batch: Batch) -> dict[str, Any]:
        ended = batch.polls_left <= 0
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": batch.counts(),
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2026-01-02T00:00:00Z",
            "ended_at": "2026-01-01T01:00:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.answered += 1

    def __enter__(self) -> MessagesServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (its timeout passed, or it closed) is no error here."""


def _handler_for(server: MessagesServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            body = json.loads(raw) if raw else {}
            server.record(Recorded(self.path, dict(self.headers.items()), body, raw))
            if self.path == "/v1/messages/batches":
                self._send(server.create_batch(body))
                return
            if self.path != "/v1/messages":
                self._send(error(404, "not_found_error"))
                return
            server.enter()
            try:
                self._send(server.next_answer(body))
            finally:
                server.leave()

        def do_GET(self) -> None:
            server.record(Recorded(self.path, dict(self.headers.items()), {}, b""))
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            if parts[:3] == ["v1", "messages", "batches"] and len(parts) == 4:
                self._send(server.retrieve_batch(parts[3]))
            elif parts[:3] == ["v1", "messages", "batches"] and parts[4:] == ["results"]:
                self._send(server.batch_results(parts[3]))
            else:
                self._send(error(404, "not_found_error"))

        def _send(self, answer: Answer) -> None:
            if answer.delay:
                time.sleep(answer.delay)
            data = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body)
            payload = data if isinstance(data, bytes) else data.encode()
            try:
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("request-id", "req_test")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout passed): nothing left to answer

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    return Handler
