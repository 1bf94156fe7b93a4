"""`pyarch-lint audit` through the Message Batches API: the CLI, the real SDK, the loopback
server's batch endpoints (tests/llm_server.py), and the critique cache ordinary runs read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import llm_env
from llm_server import (
    MessagesServer,
    canceled,
    critique,
    error,
    expired,
    item,
    text_only,
)

from pyarch_lint.cli import main
from pyarch_lint.escalation.batch import chunks

TREE = Path(__file__).parent / "fixtures" / "escalation" / "tree"
KEY = "sk-ant-api03-AUDITTESTKEY-never-to-be-seen-00000000000"
FLAGGED = ["credentials.py", "injection.py", "loader.py"]
STATE = Path(".pyarch_lint_cache") / "batches" / "state.json"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("clean.py", *FLAGGED):
        shutil.copy(TREE / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text("[tool.pyarch-lint.llm]\ntimeout = 10\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(server: MessagesServer, args: list[str], key: str | None) -> Result:
    return CliRunner().invoke(main, args, env=llm_env(server, key), catch_exceptions=False)


def run(server: MessagesServer, *args: str) -> Result:
    return invoke(server, ["--jobs", "1", *args], KEY)


def audit(server: MessagesServer, *args: str, key: str | None = KEY) -> Result:
    return invoke(server, ["audit", "--jobs", "1", *args], key)


def batches_created(server: MessagesServer) -> list[list[str]]:
    """The custom_ids of each batch created, in order."""
    return [
        [request["custom_id"] for request in r.body["requests"]]
        for r in server.requests
        if r.path == "/v1/messages/batches"
    ]


def messages_sent(server: MessagesServer) -> int:
    return sum(r.path == "/v1/messages" for r in server.requests)


def critiques(result: Result) -> dict[str, bool]:
    """Path -> cached, of the critiques of a JSON report."""
    return {c["path"]: c["cached"] for c in json.loads(result.stdout)["critiques"]}


def test_submit_then_collect_then_an_ordinary_run_asks_nothing_and_shows_all_cached(
    server, project
):
    submitted = audit(server, "--submit", ".")
    assert submitted.exit_code == 0, submitted.output
    assert [len(ids) for ids in batches_created(server)] == [3]
    assert "batch msgbatch_test0001 submitted: 3 files" in submitted.stderr
    assert messages_sent(server) == 0

    collected = audit(server, "--collect", ".")
    assert collected.exit_code == 0, collected.output
    assert "batch msgbatch_test0001: ended, 3 critiques stored in the cache" in collected.stderr

    ordinary = run(server, "--format", "json", ".")
    assert messages_sent(server) == 0
    assert critiques(ordinary) == dict.fromkeys(FLAGGED, True)
    assert len(batches_created(server)) == 1  # nothing was left to send again


def test_a_batch_request_is_the_request_an_ordinary_run_sends(server, project):
    audit(server, "--submit", ".")
    (batch,) = [r for r in server.requests if r.path == "/v1/messages/batches"]
    by_path = {
        request["params"]["messages"][0]["content"][0]["text"].split("\n")[0]: request["params"]
        for request in batch.body["requests"]
    }
    run(server, "--no-cache", "--format", "json", ".")
    for message in (r for r in server.requests if r.path == "/v1/messages"):
        assert by_path[message.user_text.split("\n")[0]] == message.body


def test_an_ordinary_run_collects_ended_batches_first(server, project):
    audit(server, "--submit", ".")
    ordinary = run(server, "--format", "json", ".")
    assert messages_sent(server) == 0
    assert critiques(ordinary) == dict.fromkeys(FLAGGED, True)
    assert "ended, 3 critiques stored in the cache" in ordinary.stderr


def test_only_the_failures_of_a_partly_failed_batch_are_sent_again(server, project):
    # Answers in the order of the requests: the most serious files first.
    server.script(critique(items=[item(1)]), error(500, "api_error"), text_only())
    audit(server, "--submit", ".")
    [first] = batches_created(server)

    collected = audit(server, "--collect", ".")
    assert "not reviewed: api error: 1, invalid answer: 1" in collected.stderr
    assert "batch msgbatch_test0002 re-queued: 2 files" in collected.stderr
    [_, again] = batches_created(server)
    assert sorted(again) == sorted(first[1:])
    reask = next(
        r["params"]["messages"][0]["content"]
        for r in server.requests[-1].body["requests"]
        if r["custom_id"] == first[2]
    )
    assert "could not be used" in reask[-1]["text"]  # the unusable answer's re-ask

    audit(server, "--collect", ".")
    ordinary = run(server, "--format", "json", ".")
    assert messages_sent(server) == 0
    assert critiques(ordinary) == dict.fromkeys(FLAGGED, True)


def test_a_request_that_fails_twice_is_not_sent_a_third_time(server, project):
    server.default = error(500, "api_error")
    audit(server, "--submit", ".")
    audit(server, "--collect", ".")
    last = audit(server, "--collect", ".")
    assert len(batches_created(server)) == 2
    assert "0 files re-queued" in last.stderr
    assert "not sent (api error: 3)" in last.stderr


def test_expired_and_canceled_requests_are_reported_and_expired_ones_sent_again(server, project):
    server.script(expired(), canceled(), critique(items=[item(1)]))
    audit(server, "--submit", ".")
    [first] = batches_created(server)
    collected = audit(server, "--collect", ".")
    assert "canceled: 1, expired: 1 (1 request expired with the batch)" in collected.stderr
    assert batches_created(server)[1] == [first[0]]


def test_a_batch_still_in_progress_is_kept_and_collected_later(server, project):
    server.batch_polls = 2
    audit(server, "--submit", ".")
    waiting = audit(server, "--collect", ".")
    assert "batch msgbatch_test0001: in progress, 0 of 3 requests done" in waiting.stderr
    assert "3 waiting in earlier batches" in waiting.stderr
    assert audit(server, "--submit", ".").exit_code == 0
    assert len(batches_created(server)) == 1  # what waits is not sent twice

    audit(server, "--collect", ".")
    assert critiques(run(server, "--format", "json", ".")) == dict.fromkeys(FLAGGED, True)
    assert messages_sent(server) == 0


def test_an_interrupted_collect_resumes(server, project):
    audit(server, "--submit", ".")
    server.batch_results = lambda _id: error(500, "api_error")  # the results cannot be read
    failed = audit(server, "--collect", ".")
    assert failed.exit_code == 2
    assert "pyarch-lint: error: audit: api error: HTTP 500 api_error" in failed.stderr
    del server.batch_results  # they can again

    assert audit(server, "--collect", ".").exit_code == 0
    assert critiques(run(server, "--format", "json", ".")) == dict.fromkeys(FLAGGED, True)


def test_a_state_not_signed_with_the_users_key_is_ignored(server, project):
    audit(server, "--submit", ".")
    state = project / STATE
    signature, payload = state.read_bytes().split(b"\n", 1)
    state.write_bytes(b"0" * len(signature) + b"\n" + payload)

    collected = audit(server, "--collect", "-v", ".")
    assert "ignoring cache entry" in collected.stderr
    assert "0 cached" in collected.stderr
    assert [r.path for r in server.requests].count("/v1/messages/batches/msgbatch_test0001") == 0


def test_the_spend_ceiling_holds_for_a_batch(server, project):
    submitted = audit(server, "--submit", "--llm-max-run-tokens", "12000", ".")
    assert submitted.exit_code == 0
    [ids] = batches_created(server)
    assert len(ids) == 1
    assert "2 not sent (budget: 2)" in submitted.stderr


def test_audit_needs_a_key_and_an_action(server, project):
    no_key = audit(server, "--submit", ".", key=None)
    assert no_key.exit_code == 2
    assert "ANTHROPIC_API_KEY is not set" in no_key.stderr
    no_action = audit(server, ".")
    assert no_action.exit_code == 2
    assert "--submit or --collect" in no_action.stderr
    assert server.requests == []


def test_more_requests_than_one_batch_takes_are_cut_into_batches_in_order():
    requests = [(f"k{n}", {"n": n}) for n in range(100_001)]
    parts = list(chunks(requests))
    assert [len(part) for part in parts] == [100_000, 1]
    assert [key for part in parts for key, _ in part] == [key for key, _ in requests]
    assert list(chunks([])) == []
