"""A Messages API server on 127.0.0.1 for the escalation tests.

It speaks just enough of the API for the real `anthropic` SDK: POST /v1/messages answered with
JSON messages (tool_use / text content, stop_reason, usage) or with error bodies in the API's
shape. Every request is recorded (path, headers, decoded JSON body). Answers come from a scripted
queue, in arrival order; when the queue is empty, `default` answers (a valid critique by
default). An answer may be a callable of the request body, for tests that run requests
concurrently and so cannot rely on arrival order.
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


def overloaded() -> Answer:
    # A tiny retry-after keeps the SDK's own retries fast; the real API may send none.
    return error(529, "overloaded_error", retry_after=0.01)


class MessagesServer:
    """Start with `with MessagesServer() as server:`; point the SDK at `server.url`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
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
            if self.path != "/v1/messages":
                self._send(error(404, "not_found_error"))
                return
            server.enter()
            try:
                self._send(server.next_answer(body))
            finally:
                server.leave()

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
