"""App-mode chaos: storms through the inbox, run as Lambda runs them, v0.2 beside this release.

Each scenario runs once per version, the two versions at the same time (so both see the same
load on a shared machine), each in its own world: its own fake Slack Web API, DynamoDB table,
queue and clock.

- Lambda: tests/support/lambda_runtime.py. Every invocation runs `handler.lambda_handler` in a
  worker process (one per container, reused while warm), SIGKILLed at the timeout (30 s, the
  module's `lambda_timeout`) unless the scenario says "not killed" (then the handler still sees a
  30 s deadline in its context but runs to its end: how far past the timeout it would go).
- Inbox: the module's event source mapping defaults: batch size 1000, 20 s batching window,
  maximum concurrency 2, ReportBatchItemFailures; visibility timeout 6 x timeout + window (200 s)
  and maxReceiveCount 5, then the failure queue (the dead-letter queue).
- Time: a virtual clock. Whenever no invocation runs, the runner skips to the next event (a
  window closing, a message visible again, the next batch of a storm) instead of waiting; while
  an invocation runs, time is real. The workers' time.time (DynamoDB leases and TTLs) and the
  fake Slack's rate limits (1 message per second per channel; Tier 3 for chat.update once the
  fake enforces it) run on that clock, so a skipped 200 s visibility timeout lets a lease expire
  and Slack's limits refill exactly as the real wait would. The 10-minute storm is therefore
  played in full virtual time, without scaling anything down.
- DynamoDB: the real DynamoStore (v0.2's and this release's own code) against a moto server on
  127.0.0.1, every request delayed by the scenario's latency in the worker's botocore
  (`before-send`), retries included. The bot token comes from moto's SSM, as in AWS.
- Slack: tests/support/fake_slack_api.py, counted as the channel shows it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from common import BUILD_DIR, LAMBDA_DIR, use_repo_paths

TIMEOUT_SECONDS = 30.0  # the module's default lambda_timeout
BATCH_SIZE = 1000  # inbox_batch_size
BATCHING_WINDOW = 20.0  # group_wait_seconds
MAXIMUM_CONCURRENCY = 2  # inbox_maximum_concurrency
MAX_RECEIVE_COUNT = 5  # inbox_max_receive_count
CHANNEL = "C0ALERTS01"
TOKEN_PARAMETER = "/alarm-to-slack/chaos/bot-token"  # noqa: S105 - a parameter name
# Slack's documented refusal for a message whose blocks hold too much text (shared notes: a
# digest part over ~12,000 characters in blocks); the fake answers one digest part with it.
REFUSAL = "msg_blocks_too_long"
LOG_DIR = BUILD_DIR / "chaos"
# Scenarios with DynamoDB latency run two at a time (four worlds; they mostly sleep), which keeps
# the section near 10 minutes on 2 shared cores instead of 16.
LANES = 2
_SPAWN_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Phase:
    """Alarm messages sent to the inbox: `batches` of bodies, `every` seconds apart, starting
    `after` seconds after the previous phase drained."""

    batches: tuple[tuple[dict[str, Any], ...], ...]
    every: float = 0.0
    after: float = 0.0


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One chaos scenario: what arrives, the DynamoDB latency, kill at the timeout or not."""

    title: str
    phases: tuple[Phase, ...]
    latency: float
    kill: bool = True
    refuse_second_part: bool = False


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one version left behind in one scenario."""

    version: str
    invocations: int
    killed: int
    longest: float
    timeout: float
    top_level: int
    duplicates: int
    not_shown: int
    replies: int
    updates: int
    rate_limited: int
    dead_lettered: int
    dynamodb_calls: int
    errors: int
    virtual_seconds: float


def _alarms(count: int, start: int = 0) -> list[dict[str, Any]]:
    use_repo_paths()
    from support.storm import storm_messages  # noqa: PLC0415

    return storm_messages(start + count, ok_share=0.0)[start:]


def _oks(alarms: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    use_repo_paths()
    import datetime as dt  # noqa: PLC0415

    from support.storm import METRICS, START, alarm_message  # noqa: PLC0415

    later = START + dt.timedelta(minutes=5)
    return [
        alarm_message(
            alarm["AlarmName"],
            state="OK",
            old_state="ALARM",
            when=later + dt.timedelta(seconds=index % 60),
            metric=next(m for m in METRICS if m[1] == alarm["Trigger"]["MetricName"]),
        )
        for index, alarm in enumerate(alarms)
    ]


def scenarios(quick: bool = False) -> list[Scenario]:
    """Issue 20 point 9's scenarios (smaller with `quick`)."""
    records = 200 if quick else 1000
    refused = 100 if quick else 200
    resolving = 60 if quick else 300
    storm_batches, storm_size = (6, 20) if quick else (30, 20)
    latencies = (0.0, 0.020) if quick else (0.0, 0.008, 0.020)
    found: list[Scenario] = []
    storm = _alarms(records)
    for latency in latencies:
        for kill in (True, False):
            killed = "killed at the timeout" if kill else "not killed"
            found.append(
                Scenario(
                    f"{records:,} records in one batch, {latency * 1000:g} ms per DynamoDB call,"
                    f" {killed}",
                    (Phase((tuple(storm),)),),
                    latency,
                    kill,
                )
            )
    found.append(
        Scenario(
            f"{refused} records in one batch, digest part 2 refused once ({REFUSAL}), 8 ms",
            (Phase((tuple(_alarms(refused)),)),),
            0.008,
            refuse_second_part=True,
        )
    )
    alarms = _alarms(resolving)
    found.append(
        Scenario(
            f"Resolving storm: {resolving} ALARMs, then their {resolving} OKs 5 min later, 8 ms",
            (Phase((tuple(alarms),)), Phase((tuple(_oks(alarms)),), after=300.0)),
            0.008,
        )
    )
    total = storm_batches * storm_size
    batches = tuple(
        tuple(_alarms(storm_size, start=index * storm_size)) for index in range(storm_batches)
    )
    found.append(
        Scenario(
            f"{storm_batches * 20 / 60:g}-minute storm: {total} alarms in {storm_batches} batches"
            " 20 s apart, 8 ms",
            (Phase(batches, every=20.0),),
            0.008,
        )
    )
    return found


def _refuse_second_top_level_post(slack: Any) -> None:  # noqa: ANN401 - a FakeSlackApi
    """Answer the top-level chat.postMessage after the first accepted one with REFUSAL, once."""
    from support.fake_slack_api import Answer  # noqa: PLC0415

    post = slack.methods["chat.postMessage"]
    accepted = [0]
    refused = [False]

    def refusing(arguments: dict[str, Any]) -> Any:  # noqa: ANN401
        top_level = not arguments.get("thread_ts")
        if top_level and accepted[0] >= 1 and not refused[0]:
            refused[0] = True
            return Answer({"ok": False, "error": REFUSAL})
        answer = post(arguments)
        if top_level and answer.body.get("ok"):
            accepted[0] += 1
        return answer

    slack.methods["chat.postMessage"] = refusing


def _shown_in(message: Any) -> str:  # noqa: ANN401 - a fake_slack_api.Message
    return json.dumps(message.content, ensure_ascii=False)


def _phase_counts(
    names: Sequence[str], top_level: Sequence[Any], threads: Sequence[Any]
) -> tuple[int, int]:
    """(alarms shown at top level more than once, alarms shown nowhere) within one phase."""
    top_texts = [_shown_in(m) for m in top_level if "files" not in m.content]
    all_texts = top_texts + [_shown_in(m) for m in threads]
    duplicates = sum(1 for name in names if sum(name in text for text in top_texts) > 1)
    not_shown = sum(1 for name in names if not any(name in text for text in all_texts))
    return duplicates, not_shown


def run_one(
    version: str,
    code_dir: Path,
    scenario: Scenario,
    moto: Any,  # noqa: ANN401 - a support.moto_server.MotoServer
    *,
    timeout: float = TIMEOUT_SECONDS,
) -> Outcome:
    """One scenario against one version's lambda/ directory."""
    use_repo_paths()
    from support.fake_slack_api import DEFAULT_TOKEN, FakeSlackApi  # noqa: PLC0415
    from support.lambda_runtime import (  # noqa: PLC0415
        TIMEOUT,
        Arrival,
        EventSourceMapping,
        FunctionConfig,
        LambdaFunction,
        SqsQueue,
        VirtualClock,
    )
    from support.storm import sns_envelope  # noqa: PLC0415

    table = f"chaos-{uuid.uuid4().hex[:12]}"
    moto.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    moto.client("ssm").put_parameter(
        Name=TOKEN_PARAMETER, Value=DEFAULT_TOKEN, Type="SecureString", Overwrite=True
    )
    clock = VirtualClock()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in f"{scenario.title}-{version}")[:90]
    log_path = LOG_DIR / f"{slug}.log"
    log_path.unlink(missing_ok=True)
    with FakeSlackApi(clock=clock.monotonic) as slack:
        if scenario.refuse_second_part:
            _refuse_second_top_level_post(slack)
        environment = {
            **moto.env(),
            "SLACK_BOT_TOKEN_SSM_PARAMETER": TOKEN_PARAMETER,
            "SLACK_CHANNEL_ID": CHANNEL,
            "SLACK_STATE_TABLE": table,
            "SLACK_API_BASE_URL": slack.base_url,
            # The module's defaults, as main.tf passes them.
            "TIMEZONE": "UTC",
            "MESSAGE_LANGUAGE": "en",
            "LOG_LEVEL": "INFO",
            "DIGEST_THRESHOLD": "3",
            "SLACK_MESSAGE_INTERVAL_SECONDS": "1",
            "SLACK_REPLY_BROADCAST": "false",
            "SLACK_STATE_TTL_DAYS": "30",
            "SLACK_GROUP_INTERVAL_SECONDS": "300",
            "SLACK_GRAPHS": "true",
            "SLACK_GRAPH_WINDOW_MINUTES": "180",
            "SLACK_GRAPH_JOIN_CHANNELS": "true",
        }
        config = FunctionConfig(
            code_dir,
            environment,
            timeout=timeout,
            kill_at_timeout=scenario.kill,
            dynamodb_latency=scenario.latency,
            log_path=log_path,
        )
        queue = SqsQueue(
            clock,
            visibility_timeout=6 * timeout + BATCHING_WINDOW,
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        duplicates = not_shown = 0
        with LambdaFunction(config, clock) as function:
            mapping = EventSourceMapping(
                queue,
                function,
                batch_size=BATCH_SIZE,
                batching_window=BATCHING_WINDOW,
                maximum_concurrency=MAXIMUM_CONCURRENCY,
            )
            for phase in scenario.phases:
                seen_top = len(slack.messages(CHANNEL))
                seen_replies = {m.ts: len(m.replies) for m in slack.messages(CHANNEL)}
                start = clock.monotonic() + phase.after
                arrivals = [
                    Arrival(start + index * phase.every, sns_envelope(body))
                    for index, batch in enumerate(phase.batches)
                    for body in batch
                ]
                mapping.run(arrivals)
                messages = slack.messages(CHANNEL)
                replies = [
                    reply for m in messages for reply in m.replies[seen_replies.get(m.ts, 0) :]
                ]
                names = [body["AlarmName"] for batch in phase.batches for body in batch]
                dup, missing = _phase_counts(names, messages[seen_top:], replies)
                duplicates, not_shown = duplicates + dup, not_shown + missing
        messages = slack.messages(CHANNEL)
        calls = list(slack.calls)
        runs = mapping.runs
        return Outcome(
            version=version,
            invocations=len(runs),
            killed=sum(1 for r in runs if r.invocation.outcome == TIMEOUT),
            longest=max((r.invocation.seconds for r in runs), default=0.0),
            timeout=timeout,
            top_level=len(messages),
            duplicates=duplicates,
            not_shown=not_shown,
            replies=sum(len(m.replies) for m in messages),
            updates=sum(1 for c in calls if c.method == "chat.update" and c.answer.get("ok")),
            rate_limited=sum(1 for c in calls if c.status == 429),
            dead_lettered=len(queue.dead_letters),
            dynamodb_calls=sum(r.invocation.dynamodb_calls for r in runs),
            errors=sum(1 for r in runs if r.invocation.outcome not in ("ok", TIMEOUT)),
            virtual_seconds=clock.offset,
        )


def cell(outcome: Outcome) -> str:
    """The table cell for one version's outcome."""
    if outcome.killed:
        duration = (
            f"killed at {outcome.timeout:g} s {outcome.killed} of {outcome.invocations} times"
        )
    else:
        over = " (over)" if outcome.longest > outcome.timeout else ""
        duration = (
            f"longest {outcome.longest:.1f} s of {outcome.timeout:g}{over},"
            f" {outcome.invocations} invocation{'s' if outcome.invocations != 1 else ''}"
        )
    errors = f", {outcome.errors} failed" if outcome.errors else ""
    return (
        f"{duration}{errors} · {outcome.top_level} top-level · {outcome.duplicates} dup ·"
        f" {outcome.not_shown} not shown · {outcome.replies} replies · {outcome.updates}"
        f" updates · {outcome.rate_limited} x 429 · {outcome.dead_lettered} dead-lettered"
    )


def _pair(scenario: Scenario, versions: Sequence[tuple[str, Path]]) -> list[Outcome] | str:
    """One scenario for every version at the same time (side by side on the same machine), on
    a moto server of its own (a crash costs one scenario, and moto's memory is returned after
    each); the error text instead when the scenario could not be measured."""
    use_repo_paths()
    from support import moto_server  # noqa: PLC0415

    class ChaosMotoServer(moto_server.MotoServer):
        """The shared moto server started through bench/moto_chaos.py (see its docstring)."""

        def _spawn(self, port: int) -> None:
            with _SPAWN_LOCK:
                self._spawn_patched(port)

        def _spawn_patched(self, port: int) -> None:
            command = moto_server._moto_command
            moto_server._moto_command = lambda _fill_gaps: [  # type: ignore[assignment]
                sys.executable,
                str(Path(__file__).resolve().parent / "moto_chaos.py"),
                "serve",
            ]
            try:
                super()._spawn(port)
            finally:
                moto_server._moto_command = command

    try:
        with ChaosMotoServer() as moto, ThreadPoolExecutor(len(versions)) as pool:
            futures = [
                pool.submit(run_one, version, code_dir, scenario, moto)
                for version, code_dir in versions
            ]
            return [future.result() for future in futures]
    except Exception as exc:  # one broken scenario must not hide the others
        return f"{type(exc).__name__}: {exc}"[:160]


def _expected_seconds(scenario: Scenario) -> float:
    """A rough cost, to start the longest scenarios first: DynamoDB latency x records x
    receives (a run that overruns the timeout is received up to five times)."""
    records = sum(len(batch) for phase in scenario.phases for batch in phase.batches)
    return records * (scenario.latency + 0.01) * (1 if scenario.kill else 2)


def run_all(
    versions: Sequence[tuple[str, Path]],
    quick: bool,
    on_done: Callable[[Scenario, list[Outcome] | str], None],
    *,
    lanes: int = LANES,
) -> list[tuple[Scenario, list[Outcome] | str]]:
    """Every scenario, the versions side by side. Scenarios without DynamoDB latency
    (CPU-bound, and near the timeout) run alone first; the others `lanes` at a time, longest
    first. `on_done` hears of each as it ends; the result is in order (outcomes, or the error
    text of a scenario that could not be measured)."""
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    found = scenarios(quick)
    done: dict[int, list[Outcome] | str] = {}
    for scenario in (s for s in found if not s.latency):
        done[id(scenario)] = _pair(scenario, versions)
        on_done(scenario, done[id(scenario)])
    shared = sorted((s for s in found if s.latency), key=_expected_seconds, reverse=True)
    with ThreadPoolExecutor(lanes) as pool:
        futures = {pool.submit(_pair, s, versions): s for s in shared}
        for future in as_completed(futures):
            scenario = futures[future]
            done[id(scenario)] = future.result()
            on_done(scenario, done[id(scenario)])
    return [(scenario, done[id(scenario)]) for scenario in found]


def this_release() -> tuple[str, Path]:
    """The working tree's lambda/."""
    return ("this release", LAMBDA_DIR)


NOTE = (
    "Chaos (Slack app mode): each version's lambda/ (v0.2: commit b5d6cbc, from git history)"
    " runs as Lambda runs it (tests/support/lambda_runtime.py): every invocation in a worker"
    " process, one per container and reused while warm, SIGKILLed at the"
    f" {TIMEOUT_SECONDS:g} s timeout unless the row says 'not killed' (then the handler still"
    " sees the 30 s deadline in its context but runs to its end). The inbox is played with the"
    f" module's defaults: batch size {BATCH_SIZE}, {BATCHING_WINDOW:g} s batching window,"
    f" maximum concurrency {MAXIMUM_CONCURRENCY}, visibility timeout"
    f" {6 * TIMEOUT_SECONDS + BATCHING_WINDOW:g} s, {MAX_RECEIVE_COUNT} receives, then the"
    " failure queue. Waits while nothing runs are skipped on a virtual clock that the workers'"
    " time.time (DynamoDB leases) and the fake Slack's rate limits share; invocations run in"
    " real time. DynamoDB: each version's own DynamoStore against moto on loopback, every"
    " request delayed in botocore by the row's latency. Slack: the fake Web API (1 message/s"
    " per channel; Tier 3 for chat.update). The module's defaults otherwise (main.tf's"
    " environment: digest threshold 3, group interval 300 s, graphs on). The two"
    " versions of a scenario run at the same time, so they share the machine's load alike; the"
    " 0 ms rows run alone (they are CPU-bound and near the timeout, so they move with the"
    " machine's load), the others two scenarios at a time. 'killed ... N of"
    " M times': N of the M invocations were killed at the timeout; 'longest': the longest"
    " invocation; 'dup': alarms shown at top level more than once for the same state change;"
    " 'not shown': alarms named in no message, top level or thread; 'updates': chat.update"
    " calls Slack accepted; 'x 429': calls Slack answered with 429; 'dead-lettered': records"
    " left in the failure queue."
)
