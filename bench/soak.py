"""The long fault soak: >= 2000 alarms through the real handler against a randomly failing Slack.

One invocation per event, as Lambda does. The handler runs through `handler.handle_event`, the
entry point's body with its dependencies explicit, so the client timeout can be short (the slow
faults answer after it) and retry waits are recorded instead of slept; every other line is the
production code path: parse, format, urllib POST, retry decisions, raise-if-any-failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from common import use_repo_paths

CLIENT_TIMEOUT = 0.25
SEED = 6
# The module's default lambda_maximum_retry_attempts.
LAMBDA_RETRIES = 2


@dataclass(frozen=True)
class SoakReport:
    """The soak's counts, plus what was injected and how long it took."""

    events: int
    delivered: int
    delivered_more_than_once: int
    raised: int
    delivered_by_lambda_retry: int
    in_failure_queue: int
    lambda_retries: int
    silently_lost: int
    lost_keys: tuple[str, ...]
    requests: int
    faults: dict[str, int]
    seconds: float


def run(events: int = 2000, seed: int = SEED, lambda_retries: int = LAMBDA_RETRIES) -> SoakReport:
    """Drive `events` alarms through the handler against FaultySlack; count every outcome.

    Raised events are then invoked again `lambda_retries` times, as Lambda's asynchronous
    retries would (without their minutes of delay); what still raises goes to the failure queue.
    """
    use_repo_paths()
    from handler import handle_event  # noqa: PLC0415
    from settings import load_settings  # noqa: PLC0415
    from slack import RetryPolicy  # noqa: PLC0415
    from support.faulty_slack import (  # noqa: PLC0415
        OK,
        FaultRates,
        FaultySlack,
        LambdaContext,
        run_soak,
        soak_events,
    )

    rates = FaultRates(
        http_500=0.04,
        http_502=0.03,
        http_503=0.03,
        rate_limited=0.04,
        slow=0.02,
        reset=0.04,
        invalid_payload=0.01,
    )
    policy = RetryPolicy(
        request_timeout=CLIENT_TIMEOUT, base_delay=0.001, max_delay=0.004, min_attempt_time=0.0
    )
    waits: list[float] = []
    # One log line per record is the handler's job; 2000 of them are noise in a benchmark.
    logging.disable(logging.CRITICAL)
    try:
        with FaultySlack(
            rates, seed=seed, slow_seconds=CLIENT_TIMEOUT * 4, permanent_invalid_payload=True
        ) as fake:
            settings = load_settings({"SLACK_WEBHOOK_URL": fake.url})

            def invoke(event: dict) -> object:
                return handle_event(
                    event, LambdaContext(), settings=settings, policy=policy, sleep=waits.append
                )

            result = run_soak(
                invoke, soak_events(events, seed=seed), fake, lambda_retries=lambda_retries
            )
    finally:
        logging.disable(logging.NOTSET)
    faults = {k: v for k, v in sorted(result.outcomes.items()) if k != OK}
    return SoakReport(
        events=result.events,
        delivered=result.delivered,
        delivered_more_than_once=result.delivered_more_than_once,
        raised=result.raised,
        delivered_by_lambda_retry=result.delivered_by_lambda_retry,
        in_failure_queue=result.in_failure_queue,
        lambda_retries=result.lambda_retries,
        silently_lost=result.silently_lost,
        lost_keys=tuple(result.lost_keys),
        requests=result.requests,
        faults=faults,
        seconds=result.seconds,
    )
