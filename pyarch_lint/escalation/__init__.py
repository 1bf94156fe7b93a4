"""Escalation: the files the deterministic rules flagged go to a Claude model for an
architectural critique. select -> read -> redact -> prompt -> (cache | budget | model) -> validate.

`anthropic` is imported only when a request is about to be made, so a deterministic run, a dry
run and a run served from the cache never load it. Nothing here changes a finding or the exit
code; `failed_required` is for the CLI to turn into exit 2 under `--llm-required`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from pyarch_lint.config import LlmSettings
from pyarch_lint.errors import LintError
from pyarch_lint.escalation import batch as batches
from pyarch_lint.escalation import cache
from pyarch_lint.escalation.context import Project, context_of, guidance_for
from pyarch_lint.escalation.prompt import (
    FilePrompt,
    build_prompt,
    decode_source,
    request_params,
    request_tokens,
)
from pyarch_lint.escalation.select import FlaggedFile, Selection, select_files
from pyarch_lint.findings import Critique, Finding, NotReviewed, Severity
from pyarch_lint.report import counted
from pyarch_lint.storage import Store

if TYPE_CHECKING:
    from pyarch_lint.escalation.client import Batch

__all__ = ["AuditError", "EscalationResult", "RunOptions", "run_audit", "run_escalation"]

_Pathed = TypeVar("_Pathed", Critique, NotReviewed)


@dataclass(frozen=True, slots=True)
class EscalationResult:
    critiques: tuple[Critique, ...]  # sorted by path; `cached` set on those from the cache
    not_reviewed: tuple[NotReviewed, ...]  # flagged files without a critique, with the reason
    escalated: int  # files that got a critique, from the model or its cache
    failed_required: str | None  # why `--llm-required` is not met (the CLI exits 2), else None
    request: str | None = None  # the dry run's request for `RunOptions.show`, as JSON


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How this run may escalate: from the environment and the command line, never the repo."""

    api_key: str | None  # from ANTHROPIC_API_KEY
    cache: Store | None  # None: --no-cache
    dry_run: bool = False  # --llm-dry-run: say what would be sent, send and write nothing
    required: bool = False  # --llm-required
    progress: bool = False  # a line per file as it finishes (stderr is a terminal)
    show: str | None = None  # a dry run gives the request for this file (display path)


def run_escalation(
    findings: Sequence[Finding],
    files: Mapping[str, Path],
    settings: LlmSettings,
    run: RunOptions,
    echo: Callable[[str], None],
    *,
    names: Mapping[str, str] | None = None,
    project: Project | None = None,
) -> EscalationResult:
    """Critique the flagged files. `files` maps each display path to the file to read; `names`
    each display path to its path from the project root, which the model and the cache see
    (so the folder pyarch-lint runs from changes neither); `project`, the project around them
    (without it, each file is sent alone)."""
    api_key, store, dry_run, required = run.api_key, run.cache, run.dry_run, run.required
    if settings.enabled is False:
        return _nothing("escalation is turned off (llm.enabled = false or --no-llm)", required)
    if not api_key and not dry_run:
        echo("llm: escalation skipped: ANTHROPIC_API_KEY is not set")
        return _nothing("ANTHROPIC_API_KEY is not set", required)
    started = time.monotonic()
    if store is not None and api_key and not dry_run:
        _collect_batches(store, settings, api_key, echo)
    selection = select_files(findings, Severity.parse(settings.min_severity), settings.max_files)
    prompts, not_reviewed = _prepare_all(selection, files, names, settings, project)
    keys = {p.path: cache.cache_key(request_params(p, settings, None)) for p in prompts}
    hits = _from_cache(store, prompts, keys, settings.model, echo)
    to_send, over_budget, spare = _within_budget(
        [p for p in prompts if p.path not in hits], settings
    )
    not_reviewed.extend(over_budget)
    if dry_run or not api_key:  # no key here means a dry run (checked above)
        _describe_dry_run(prompts, hits, to_send, not_reviewed, echo)
        shown = next((p for p in prompts if p.path == run.show), None)
        request = None
        if shown is not None:
            params = request_params(shown, settings, None)
            request = json.dumps(params, indent=2, ensure_ascii=False)
        return EscalationResult((), _by_path(not_reviewed), 0, None, request)
    batch = (
        _ask(to_send, settings, api_key, spare, progress=run.progress, echo=echo)
        if to_send
        else None
    )
    results = batch.results if batch is not None else ()
    fresh = [r for r in results if isinstance(r, Critique)]
    not_reviewed.extend(r for r in results if isinstance(r, NotReviewed))
    if batch is not None and batch.stopped is not None:
        echo(batch.stopped)
    if store is not None:
        _store(store, fresh, keys, echo)
    critiques = [*hits.values(), *fresh]
    if critiques or not_reviewed:
        seconds = time.monotonic() - started
        echo(_summary(to_send, len(hits), not_reviewed, batch, settings=settings, seconds=seconds))
    unmet = None
    if required and not_reviewed:
        unmet = (
            f"{counted(len(not_reviewed), 'flagged file')} not reviewed ({_reasons(not_reviewed)})"
        )
    return EscalationResult(_by_path(critiques), _by_path(not_reviewed), len(critiques), unmet)


def _prepare_all(
    selection: Selection,
    files: Mapping[str, Path],
    names: Mapping[str, str] | None,
    settings: LlmSettings,
    project: Project | None,
) -> tuple[list[FilePrompt], list[NotReviewed]]:
    """The requests for the chosen files, and the files not reviewed (skipped or unusable)."""
    prepared = [
        _prepare(flagged, files, names or {}, settings, project) for flagged in selection.chosen
    ]
    prompts = [p for p in prepared if isinstance(p, FilePrompt)]
    not_reviewed = [*selection.skipped, *(p for p in prepared if isinstance(p, NotReviewed))]
    return prompts, not_reviewed


def _collect_batches(
    store: Store, settings: LlmSettings, api_key: str, echo: Callable[[str], None]
) -> None:
    """An ordinary run first brings in what audit batches have finished, so they show cached."""
    state = batches.load(store, echo)
    if not state.batches:
        return
    from pyarch_lint.escalation.client import BatchError  # loads anthropic: only now that we ask

    try:
        batches.collect(store, state, settings, api_key, echo)
    except (BatchError, OSError) as error:
        echo(f"llm: audit batches not collected: {error}")


def _within_budget(
    prompts: Sequence[FilePrompt], settings: LlmSettings
) -> tuple[list[FilePrompt], list[NotReviewed], int]:
    """The prompts whose requests fit in llm.max-run-tokens, the most serious first (input and
    output estimated before sending: the output at its limit); the others; what is left over,
    for re-asks."""
    left = settings.max_run_tokens
    for index, prompt in enumerate(prompts):
        cost = request_tokens(prompt, settings, None)
        if cost > left:
            reason = (
                f"budget: llm.max-run-tokens = {settings.max_run_tokens:,} reached; less serious"
            )
            return (
                list(prompts[:index]),
                [NotReviewed(p.path, reason) for p in prompts[index:]],
                left,
            )
        left -= cost
    return list(prompts), [], left


def _nothing(why: str, required: bool) -> EscalationResult:
    return EscalationResult((), (), 0, why if required else None)


def _from_cache(
    store: Store | None,
    prompts: Sequence[FilePrompt],
    keys: Mapping[str, str],
    model: str,
    echo: Callable[[str], None],
) -> dict[str, Critique]:
    if store is None:
        return {}
    found = {p.path: cache.load(store, keys[p.path], p, model, echo) for p in prompts}
    return {path: critique for path, critique in found.items() if critique is not None}


def _prepare(
    flagged: FlaggedFile,
    files: Mapping[str, Path],
    names: Mapping[str, str],
    settings: LlmSettings,
    project: Project | None,
) -> FilePrompt | NotReviewed:
    location = files.get(flagged.path)
    if location is None:
        return NotReviewed(flagged.path, "unreadable: not among the linted files")
    try:
        data = location.read_bytes()
    except OSError as error:
        return NotReviewed(flagged.path, f"unreadable: {error.strerror or error}")
    name = names.get(flagged.path, flagged.path)
    if PurePath(name).is_absolute():  # outside the project: its name alone, never where it lies
        name = PurePath(name).name
    context = ""
    where = name
    if project is not None and flagged.path in project.locations:
        context = context_of(flagged.path, project, settings.context_tokens)
        where = project.relative(flagged.path)
    guidance = guidance_for(where, settings.guidance)
    return build_prompt(
        flagged, decode_source(data), settings, name, context=context, guidance=guidance
    )


def _ask(
    prompts: Sequence[FilePrompt],
    settings: LlmSettings,
    api_key: str,
    spare: int,
    *,
    progress: bool,
    echo: Callable[[str], None],
) -> Batch:
    from pyarch_lint.escalation import client  # loads anthropic: only now that we ask

    finished = 0

    def report(result: Critique | NotReviewed) -> None:
        nonlocal finished
        finished += 1
        if isinstance(result, Critique):
            what = f"reviewed, {counted(len(result.items), 'item')}"
        else:
            what = f"not reviewed: {result.reason}"
        echo(f"llm: [{finished}/{len(prompts)}] {result.path}: {what}")

    if progress:
        echo(f"llm: asking {settings.model} about {counted(len(prompts), 'file')}")
    return client.review(prompts, settings, api_key, spare, report if progress else None)


def _store(
    store: Store,
    critiques: Sequence[Critique],
    keys: Mapping[str, str],
    echo: Callable[[str], None],
) -> None:
    try:
        for critique in critiques:
            cache.store(store, keys[critique.path], critique)
    except OSError as error:
        echo(f"llm: critique cache not written ({error}); results are unaffected")


def _describe_dry_run(
    prompts: Sequence[FilePrompt],
    hits: Mapping[str, Critique],
    to_send: Sequence[FilePrompt],
    not_reviewed: Sequence[NotReviewed],
    echo: Callable[[str], None],
) -> None:
    total = 0
    sending = {prompt.path for prompt in to_send}
    for prompt in prompts:
        if prompt.path in hits:
            echo(f"llm dry run: {prompt.path}: cached, no request")
            continue
        if prompt.path not in sending:
            continue  # past the budget: listed with the files not sent
        total += prompt.tokens
        extra = f", {counted(prompt.redactions, 'secret')} redacted" if prompt.redactions else ""
        cut = ", cut to the flagged code" if prompt.note else ""
        echo(f"llm dry run: would send {prompt.path} (~{prompt.tokens:,} input tokens{extra}{cut})")
    for skipped in not_reviewed:
        echo(f"llm dry run: would not send {skipped.path}: {skipped.reason}")
    sent = counted(len(to_send), "file")
    echo(f"llm dry run: {sent}, ~{total:,} input tokens estimated; nothing was sent")


def _summary(
    asked: Sequence[FilePrompt],
    cached: int,
    not_reviewed: Sequence[NotReviewed],
    batch: Batch | None,
    *,
    settings: LlmSettings,
    seconds: float,
) -> str:
    reasons = f" ({_reasons(not_reviewed)})" if not_reviewed else ""
    files = batch.sent if batch is not None else 0
    parts = [f"llm: {files} sent, {cached} cached, {len(not_reviewed)} not reviewed{reasons}"]
    if batch is not None:
        usage = batch.usage
        parts.append(
            f"tokens: {usage.input_tokens:,} input, {usage.output_tokens:,} output, "
            f"{usage.cache_creation_tokens:,} cache-write, {usage.cache_read_tokens:,} cache-read"
        )
    estimated = batch.estimated if batch is not None else 0
    parts.append(f"budget: ~{estimated:,} of {settings.max_run_tokens:,} tokens")
    redactions = sum(p.redactions for p in asked)
    if redactions:
        parts.append(f"{counted(redactions, 'secret')} redacted")
    parts.append(f"{seconds:.1f} s")
    return "; ".join(parts)


def _reasons(not_reviewed: Sequence[NotReviewed]) -> str:
    """`deadline: 2, api error: 1`: reasons are `kind: detail`, counted by kind."""
    kinds = Counter(n.reason.split(":", 1)[0] for n in not_reviewed)
    return ", ".join(f"{kind}: {count}" for kind, count in kinds.most_common())


def _by_path(values: Sequence[_Pathed]) -> tuple[_Pathed, ...]:
    return tuple(sorted(values, key=lambda v: v.path))


# -- audit: the Message Batches API ------------------------------------------------------------


class AuditError(LintError):
    """`audit` cannot do what was asked (exit 2)."""


def run_audit(
    findings: Sequence[Finding],
    files: Mapping[str, Path],
    settings: LlmSettings,
    run: RunOptions,
    echo: Callable[[str], None],
    *,
    submit: bool,
    names: Mapping[str, str] | None = None,
    project: Project | None = None,
) -> None:
    """`audit --submit` (`submit`): every flagged file not in the critique cache nor in a
    batch already, within llm.max-run-tokens, as one batch. `audit --collect`: the ended
    batches' critiques into the cache, then the failures that may be sent again as a new batch.
    The requests are an ordinary run's, for every flagged file (llm.max-files is for
    interactive runs). AuditError when it cannot run or the API refuses."""
    from pyarch_lint.escalation.client import BatchError  # loads anthropic: an audit asks

    api_key, store = run.api_key, run.cache
    if settings.enabled is False:
        raise AuditError("audit: escalation is turned off (llm.enabled = false)")
    if not api_key:
        raise AuditError("audit: ANTHROPIC_API_KEY is not set")
    if store is None:
        raise AuditError(
            "audit: batches are kept in the cache folder: it cannot run with --no-cache"
        )
    try:
        state = batches.load(store, echo)
        if not submit:
            state = batches.collect(store, state, settings, api_key, echo)
        _submit(
            findings,
            files,
            settings=settings,
            store=store,
            api_key=api_key,
            state=state,
            echo=echo,
            submit=submit,
            names=names,
            project=project,
        )
    except BatchError as error:
        raise AuditError(f"audit: {error}") from None
    except OSError as error:
        raise AuditError(f"audit: the cache folder cannot keep the batches: {error}") from None


def _submit(
    findings: Sequence[Finding],
    files: Mapping[str, Path],
    *,
    settings: LlmSettings,
    store: Store,
    api_key: str,
    state: batches.State,
    echo: Callable[[str], None],
    submit: bool,
    names: Mapping[str, str] | None,
    project: Project | None,
) -> None:
    """Submit the flagged files' requests that are due (all that are neither cached nor pending
    when `submit`, else only the failures that may be sent again)."""
    from pyarch_lint.escalation import client

    threshold = Severity.parse(settings.min_severity)
    selection = select_files(findings, threshold, max(len(findings), 1))
    prompts, not_reviewed = _prepare_all(selection, files, names, settings, project)
    keys = {p.path: cache.cache_key(request_params(p, settings, None)) for p in prompts}
    hits = _from_cache(store, prompts, keys, settings.model, echo)
    pending = state.pending()
    due: list[tuple[FilePrompt, batches.Failed | None]] = []
    for prompt in prompts:
        key = keys[prompt.path]
        failure = state.failed.get(key)
        if prompt.path in hits or key in pending or (failure is None and not submit):
            continue
        if failure is not None and not batches.retryable(state, key):
            not_reviewed.append(NotReviewed(prompt.path, f"{failure.reason} (not sent again)"))
            continue
        due.append((prompt, failure))
    left = settings.max_run_tokens
    requests: list[tuple[str, dict[str, Any]]] = []
    submitted: list[batches.Request] = []
    for index, (prompt, failure) in enumerate(due):
        reask = failure.reask if failure is not None else None
        cost = request_tokens(prompt, settings, reask)
        if cost > left:  # as an ordinary run: the most serious first, the rest not sent
            reason = f"budget: llm.max-run-tokens = {settings.max_run_tokens:,} reached"
            not_reviewed.extend(NotReviewed(p.path, reason) for p, _failure in due[index:])
            break
        left -= cost
        key = keys[prompt.path]
        requests.append((key, request_params(prompt, settings, reask)))
        attempt = failure.attempt + 1 if failure is not None else 1
        submitted.append(batches.request_of(prompt, key, attempt))
    what = "submitted" if submit else "re-queued"
    by_key = {request.key: request for request in submitted}
    for chunk in batches.chunks(requests):
        batch_id = client.create_batch(chunk, settings, api_key)
        sent = tuple(by_key[key] for key, _params in chunk)
        state = batches.without(state, (request.key for request in sent))
        state = batches.State(
            (*state.batches, batches.Submitted(batch_id, settings.model, sent)), state.failed
        )
        batches.save(store, state)  # at once: an interrupted audit knows what it sent
        echo(f"llm: audit: batch {batch_id} {what}: {counted(len(chunk), 'file')}")
    if requests:
        spent = settings.max_run_tokens - left
        echo(f"llm: audit: ~{spent:,} of {settings.max_run_tokens:,} tokens estimated")
    waiting = sum(len(b.requests) for b in state.batches) - len(requests)
    parts = [f"llm: audit: {counted(len(requests), 'file')} {what}", f"{len(hits)} cached"]
    if waiting:
        parts.append(f"{waiting} waiting in earlier batches")
    if not_reviewed:
        parts.append(f"{len(not_reviewed)} not sent ({_reasons(not_reviewed)})")
    echo(", ".join(parts))
