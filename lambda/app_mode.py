"""Slack app mode's stage of the handler: claim, route, group, post or update, record, graphs.

handler.py imports this module only in Slack app mode, so a webhook-mode cold start never
compiles it (tests/test_cold_imports.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from delivery import Pacer
from grouping import plan_notifications
from routing import channel_for
from settings import ConfigError, forget_ssm_value, resolve_bot_token
from slack_api import SlackApi
from slack_app import SlackApp, busy_results, claim_records, deliver_notifications, finish_records

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from alarm import Received
    from delivery import Sent
    from settings import Settings
    from slack import RetryPolicy
    from state import StateStore

_state_store: StateStore | None = None


def deliver_app_mode(
    received: list[Received],
    settings: Settings,
    *,
    deadline: float,
    state: StateStore | None,
    bot_token: str | None,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    context: object = None,
    wall_clock: Callable[[], float] = time.time,
) -> list[Sent]:
    """Slack app mode: skip records delivered before, route, group, and post or update through
    the Web API; the results as delivery.deliver gives them, so the handler reports alike."""
    global _state_store  # noqa: PLW0603 - one DynamoDB client per container

    if state is None:
        if not settings.state_table:
            raise ConfigError("SLACK_STATE_TABLE is required in Slack app mode")
        if _state_store is None:
            from state import DynamoStore  # noqa: PLC0415

            _state_store = DynamoStore(settings.state_table, ttl_days=settings.state_ttl_days)
        state = _state_store
    token = bot_token or resolve_bot_token(settings)
    api = SlackApi(token, base_url=settings.api_base_url, policy=policy, sleep=sleep, clock=clock)
    app = SlackApp(
        api,
        state,
        settings,
        pacer=Pacer(settings.message_interval, sleep=sleep, clock=clock),
        on_token_error=lambda: forget_ssm_value(settings.bot_token_ssm_parameter),
        wall_clock=wall_clock,
    )
    # A record is held for this invocation's lifetime: if it dies, a redelivery may try again.
    fresh, busy = claim_records(received, state, lease_seconds=max(1.0, deadline - clock()) + 5)
    default = settings.channel_id or ""
    notifications = plan_notifications(
        fresh,
        digest_threshold=settings.digest_threshold,
        destination=lambda alarm: channel_for(alarm, settings.routes, default),
    )
    graphs = None
    if settings.graphs:
        from graph import GraphCollector  # noqa: PLC0415 - app mode with graphs only

        graphs = GraphCollector(app)
    results = deliver_notifications(notifications, graphs or app, deadline=deadline)
    finish_records(results, state, recorded=app.recorded)
    if graphs is not None:
        # After every text was posted and recorded: a graph never delays or fails an alert.
        from graph import function_account  # noqa: PLC0415

        graphs.post(
            tz=settings.tz,
            window_seconds=settings.graph_window_minutes * 60,
            deadline=deadline,
            home_account=function_account(context),
        )
    return results + busy_results(busy)


def forget_state_store() -> None:
    """Forget the container's DynamoDB store, as a new container would (tests, local runs)."""
    global _state_store  # noqa: PLW0603
    _state_store = None
