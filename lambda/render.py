"""The Slack messages of one notification: a lone alarm's message or a storm digest.

The one place that picks a renderer (message.py for one alarm, digest.py for many) and the
plain-text last resort when a renderer fails on some input. The digest renderer is imported
only when a digest is rendered, so a lone webhook alert does not pay for it at cold start.
"""

from __future__ import annotations

import logging

from formatting import MessagePart, apply_overrides
from message import format_fallback, format_message, format_plain

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from grouping import Entry, Notification
    from settings import Settings

logger = logging.getLogger("alarm_to_slack")


def render_notification(notification: Notification, settings: Settings) -> list[MessagePart]:
    """The Slack messages of one notification. Never raises: a rendering bug on some input
    falls back to plain text, because a dropped alert is worse than an ugly one."""
    entries = notification.entries
    if notification.kind == "digest":
        import digest  # noqa: PLC0415 - storms only

        try:
            return digest.format_digest(entries, settings)
        except Exception:
            logger.exception(
                "could not format a digest of %d alarms; sending plain text", len(entries)
            )
            return digest.plain_digest(entries, settings)
    (entry,) = entries
    try:
        payload = format_message(entry.alarm, settings, states=entry.states)
    except Exception:
        logger.exception("could not format %s; sending a plain fallback", entry.alarm.event_kind)
        payload = format_fallback(entry.alarm, settings)
    return [MessagePart(payload, entries)]


def plain_fallback(entries: tuple[Entry, ...], settings: Settings) -> list[MessagePart]:
    """The entries as text-only messages (no blocks, no attachments), for when Slack refused
    their Block Kit message (invalid_blocks, msg_blocks_too_long, invalid_attachments): one
    alarm's state, name and reason, or a plain digest split over as many messages as it needs.
    A pure function, shared by webhook delivery and Slack app mode."""
    if len(entries) == 1:
        (entry,) = entries
        return [MessagePart(format_plain(entry.alarm, settings), entries)]
    import digest  # noqa: PLC0415 - storms only

    return [
        MessagePart(apply_overrides(part.payload, settings), part.entries)
        for part in digest.plain_digest(entries, settings)
    ]
