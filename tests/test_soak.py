"""Short fault soak: ~200 alarms through the real handler against a Slack that fails at random.

One invocation per event, as Lambda does. An invocation that raises is handed to Lambda's
retries and failure queue, so an alarm is silently lost only when it was neither delivered nor
raised; there must be none. Retry waits go through the handler's injectable `sleep` (recorded,
not slept) and the client timeout is short, so the soak runs in a few seconds. `make bench` runs
the long version and prints the figures; nothing here is timed.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from handler import handle_event
from settings import load_settings
from slack import RetryPolicy
from support.faulty_slack import (
    OK,
    FaultRates,
    FaultySlack,
    LambdaContext,
    SoakResult,
    run_soak,
    soak_events,
)

EVENTS = 200
SEED = 20261125
RATES = FaultRates(
    http_500=0.05,
    http_502=0.04,
    http_503=0.04,
    rate_limited=0.05,
    slow=0.03,
    reset=0.05,
    invalid_payload=0.03,
)
RETRY_AFTER_SECONDS = 7.0
# Long enough that a prompt loopback answer never times out even when `make test` keeps both
# cores busy with Terraform (load ~10 on 2 cores: 0.75 s was not enough, a late "ok" broke the
# accounting), short enough to keep the soak quick: the client waits this long only on the ~3 %
# of answers the fake delays on purpose.
CLIENT_TIMEOUT = 2.0
POLICY = RetryPolicy(
    max_attempts=4,
    request_timeout=CLIENT_TIMEOUT,
    base_delay=0.001,
    max_delay=0.004,
    max_retry_after=20.0,
    min_attempt_time=0.0,
)


@dataclass(frozen=True)
class Soak:
    result: SoakResult
    attempts_by_key: dict[str, list[str]]
    sleeps: list[float]


@pytest.fixture(scope="module")
def soak() -> Soak:
    sleeps: list[float] = []
    fake = FaultySlack(
        RATES, seed=SEED, slow_seconds=CLIENT_TIMEOUT + 1.5, retry_after=f"{RETRY_AFTER_SECONDS:g}"
    )
    with fake:
        settings = load_settings({"SLACK_WEBHOOK_URL": fake.url})

        def invoke(event: dict) -> object:
            return handle_event(
                event, LambdaContext(), settings=settings, policy=POLICY, sleep=sleeps.append
            )

        result = run_soak(invoke, soak_events(EVENTS, seed=SEED), fake)
        attempts_by_key: dict[str, list[str]] = {}
        for attempt in fake.attempts:
            attempts_by_key.setdefault(attempt.key or "", []).append(attempt.outcome)
    return Soak(result, attempts_by_key, sleeps)


def test_no_alarm_is_silently_lost(soak: Soak) -> None:
    assert soak.result.events == EVENTS
    assert soak.result.lost_keys == []


def test_every_configured_fault_was_injected(soak: Soak) -> None:
    outcomes = soak.result.outcomes
    for kind, _rate in RATES.items():
        assert outcomes[kind] > 0, f"fault {kind} never injected: {outcomes}"
    assert soak.result.faults >= 0.15 * soak.result.requests
    # Retries happened: more requests than events, and some alarms failed for good.
    assert soak.result.requests > EVENTS
    assert soak.result.raised > 0


def test_every_request_carried_exactly_one_alarm_as_valid_json(soak: Soak) -> None:
    assert soak.result.unattributed == 0
    assert soak.result.outcomes["not_json"] == 0
    assert set(soak.attempts_by_key) == set(soak.result.keys)


def test_raised_invocations_are_exactly_those_never_acknowledged(soak: Soak) -> None:
    keys = set(soak.result.keys)
    assert soak.result.raised_keys == keys - soak.result.acknowledged_keys
    never_posted = {key for key in keys if soak.result.deliveries[key] == 0}
    assert never_posted <= soak.result.raised_keys


def test_raised_but_posted_alarms_only_reached_slack_through_a_late_answer(soak: Soak) -> None:
    # Slack posted these but answered after the client timeout: the handler cannot know, and
    # raising (so Lambda retries: a duplicate, not a loss) is the right call.
    raised_but_posted = {k for k in soak.result.raised_keys if soak.result.deliveries[k] > 0}
    for key in raised_but_posted:
        assert "slow" in soak.attempts_by_key[key]
        assert OK not in soak.attempts_by_key[key]


def test_an_alarm_that_slack_posted_but_answered_too_late_for_is_raised() -> None:
    # The case above made certain (the random soak rarely draws four late answers in a row):
    # every answer comes after the client timeout, so Slack posted each alarm and the handler
    # never saw an "ok". It must raise, so Lambda retries (a duplicate, not a loss).
    policy = RetryPolicy(max_attempts=2, request_timeout=0.3, base_delay=0.001, max_delay=0.001)
    with FaultySlack(FaultRates(slow=1.0), seed=SEED, slow_seconds=1.0) as fake:
        settings = load_settings({"SLACK_WEBHOOK_URL": fake.url})

        def invoke(event: dict) -> object:
            return handle_event(event, LambdaContext(), settings=settings, policy=policy)

        result = run_soak(invoke, soak_events(3, seed=SEED), fake)
        attempts = {key: fake.attempts_for(key) for key in result.keys}
    raised_but_posted = {k for k in result.raised_keys if result.deliveries[k] > 0}
    assert raised_but_posted == set(result.keys)
    assert result.lost_keys == []
    for key in raised_but_posted:
        assert attempts[key] == ["slow", "slow"]
        assert result.deliveries[key] == 2


def test_duplicates_come_only_from_late_answers(soak: Soak) -> None:
    duplicated = [key for key in soak.result.keys if soak.result.deliveries[key] > 1]
    assert duplicated  # the soak drew late answers: the check below has cases to check
    for key in duplicated:
        assert "slow" in soak.attempts_by_key[key]


def test_permanent_errors_are_not_retried_inline(soak: Soak) -> None:
    refused = [o for o in soak.attempts_by_key.values() if "invalid_payload" in o]
    assert refused  # the soak drew permanent errors: the check below has cases to check
    for outcomes in refused:
        assert outcomes[-1] == "invalid_payload"
        assert outcomes.count("invalid_payload") == 1


def test_retries_stop_at_the_policy_limit(soak: Soak) -> None:
    assert max(len(outcomes) for outcomes in soak.attempts_by_key.values()) <= POLICY.max_attempts
    retried = [o for o in soak.attempts_by_key.values() if len(o) > 1]
    assert retried


def test_429_is_retried_after_the_retry_after_it_names(soak: Soak) -> None:
    # Backoff alone never waits more than max_delay, so every wait of Retry-After length
    # answers a 429 that still had an attempt left after it.
    expected = sum(
        1
        for outcomes in soak.attempts_by_key.values()
        for index, outcome in enumerate(outcomes)
        if outcome == "rate_limited" and index < POLICY.max_attempts - 1
    )
    assert expected > 0
    assert sum(1 for s in soak.sleeps if s >= RETRY_AFTER_SECONDS) == expected
    assert all(s <= POLICY.max_delay for s in soak.sleeps if s < RETRY_AFTER_SECONDS)


def test_lambda_retries_deliver_or_queue_every_raised_alarm() -> None:
    # One HTTP attempt per invocation, half of them failing: Lambda's two retries deliver
    # most raised alarms, and the rest are exactly the ones the failure queue keeps.
    policy = RetryPolicy(max_attempts=1, request_timeout=CLIENT_TIMEOUT, min_attempt_time=0.0)
    with FaultySlack(FaultRates(http_503=0.5), seed=SEED) as fake:
        settings = load_settings({"SLACK_WEBHOOK_URL": fake.url})

        def invoke(event: dict) -> object:
            return handle_event(event, LambdaContext(), settings=settings, policy=policy)

        result = run_soak(invoke, soak_events(60, seed=SEED), fake, lambda_retries=2)
        attempts = {key: fake.attempts_for(key) for key in result.keys}
    assert result.lost_keys == []
    assert result.delivered_by_lambda_retry > 0
    assert result.in_failure_queue > 0
    assert result.failure_queue_keys <= result.raised_keys
    for key in result.keys:
        if key in result.failure_queue_keys:
            assert attempts[key] == ["http_503"] * 3
            assert result.deliveries[key] == 0
        else:
            assert attempts[key][-1] == OK
            assert result.deliveries[key] == 1


# -- the fake itself ------------------------------------------------------------------------
def _post(url: str, body: bytes, timeout: float = 2.0) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("http_500", 500, "upstream error"),
        ("http_502", 502, "upstream error"),
        ("http_503", 503, "upstream error"),
        ("invalid_payload", 400, "invalid_payload"),
    ],
)
def test_fake_answers_http_faults_and_posts_nothing(kind: str, status: int, text: str) -> None:
    with FaultySlack(FaultRates(**{kind: 1.0})) as fake:
        assert _post(fake.url, b'{"text": "soak-00001"}')[:2] == (status, text)
        assert fake.delivered("soak-00001") == 0
        assert fake.attempts_for("soak-00001") == [kind]


def test_fake_rate_limits_with_retry_after() -> None:
    with FaultySlack(FaultRates(rate_limited=1.0), retry_after="3") as fake:
        status, text, headers = _post(fake.url, b'{"text": "soak-00001"}')
    assert (status, text, headers["Retry-After"]) == (429, "rate_limited", "3")


def test_fake_resets_the_connection() -> None:
    with FaultySlack(FaultRates(reset=1.0)) as fake:
        with pytest.raises((ConnectionResetError, urllib.error.URLError)):
            _post(fake.url, b'{"text": "soak-00001"}')
        assert fake.delivered("soak-00001") == 0


def test_fake_slow_answer_times_out_but_the_message_is_posted() -> None:
    with FaultySlack(FaultRates(slow=1.0), slow_seconds=5.0) as fake:
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            _post(fake.url, b'{"text": "soak-00001"}', timeout=0.2)
        assert fake.delivered("soak-00001") == 1


def test_fake_counts_deliveries_per_alarm_and_rejects_non_json() -> None:
    with FaultySlack() as fake:
        for _ in range(2):
            assert _post(fake.url, json.dumps({"text": "soak-00007"}).encode())[:2] == (200, "ok")
        assert _post(fake.url, b"not json soak-00008")[0] == 400
        assert fake.delivered("soak-00007") == 2
        assert fake.delivered("soak-00008") == 0
        assert fake.outcome_counts() == {"ok": 2, "not_json": 1}


def test_fake_keeps_rejecting_an_alarm_once_its_payload_was_invalid() -> None:
    rates = FaultRates(invalid_payload=0.5)
    with FaultySlack(rates, seed=3, permanent_invalid_payload=True) as fake:
        for index in range(20):
            body = json.dumps({"text": f"soak-{index:05d}"}).encode()
            for _ in range(3):
                _post(fake.url, body)
        outcomes = [fake.attempts_for(f"soak-{index:05d}") for index in range(20)]
    rejected = [o for o in outcomes if "invalid_payload" in o]
    assert rejected
    for attempts in rejected:
        first = attempts.index("invalid_payload")
        assert attempts[first:] == ["invalid_payload"] * (3 - first)


def test_fake_draws_the_same_faults_for_the_same_seed() -> None:
    rates = FaultRates(http_500=0.3, reset=0.2)
    draws = []
    for _ in range(2):
        with FaultySlack(rates, seed=7) as fake:
            draws.append([fake._draw() for _ in range(50)])
    assert draws[0] == draws[1]
    assert {"http_500", "reset", "ok"} == set(draws[0])
