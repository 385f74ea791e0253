"""Formatting shared by both renderers (message.py, digest.py): Slack's limits and escaping,
text cut to what Slack accepts, times, numbers, console links, and the rendered MessagePart.

Pure functions of their arguments, imported by the renderers and by Slack app mode; nothing here
renders a whole message.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from alarm import parse_alarm_arn, parse_timestamp
from records import frozen

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from alarm import Alarm
    from grouping import Entry
    from settings import Settings

# Slack Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS_LIMIT = 10
BLOCKS_LIMIT = 50
BUTTON_URL_LIMIT = 3000
FALLBACK_TEXT_LIMIT = 3000
ELLIPSIS = "…"
# Slack refuses a message whose blocks hold too many characters in all (msg_blocks_too_long):
# "12,000 text characters with a buffer for block containers" (Slack staff, slackapi/bolt-js
# #2509), refusals reported as low as 11,341 (bolt-js#2867). Both renderers keep each message's
# blocks within this budget, counted by block_chars; the margin covers Slack's own counting.
MESSAGE_BUDGET = 10_000

STATE_STYLES = {
    "ALARM": (":rotating_light:", "#E01E5A"),
    "OK": (":white_check_mark:", "#2EB67D"),
    "INSUFFICIENT_DATA": (":grey_question:", "#9E9E9E"),
}
NEUTRAL_STYLE = (":information_source:", "#439FE0")
TEXT_STYLE = (":incoming_envelope:", "#439FE0")

CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


# --- text -------------------------------------------------------------------------------------


def escape(value: str) -> str:
    """Escape Slack's control characters so event text cannot mention, link or format."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utf16_len(value: str) -> int:
    """Length as Slack counts it (UTF-16 code units); never raises, whatever the text holds."""
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def truncate(value: str, limit: int) -> str:
    """Cut to at most `limit` characters (as Slack counts them, UTF-16) ending in an ellipsis.

    A cut never splits an HTML entity such as &amp;, so escaped text stays valid.
    """
    if len(value) <= limit // 2 or utf16_len(value) <= limit:
        return value
    cut = value[: limit - 1]
    while utf16_len(cut) > limit - 1:
        cut = cut[:-1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def block_chars(value: object, key: str | None = None) -> int:
    """Characters in blocks as the budget counts them: every string (texts, URLs, ids) but the
    `type` and `style` names, in UTF-16 code units, as sent (`&amp;` counts 5)."""
    if isinstance(value, str):
        return 0 if key in ("type", "style") else utf16_len(value)
    if isinstance(value, dict):
        return sum(block_chars(v, k) for k, v in value.items())
    if isinstance(value, list):
        return sum(block_chars(v, key) for v in value)
    return 0


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A Block Kit plain_text object (emoji on), cut to `limit`."""
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int) -> dict[str, Any]:
    """A Block Kit mrkdwn text object, cut to `limit`."""
    return {"type": "mrkdwn", "text": truncate(text, limit)}


# --- values -----------------------------------------------------------------------------------


def format_timestamp(value: str | None, tz: dt.tzinfo) -> str | None:
    """`YYYY-MM-DD HH:MM:SS ZONE` in the configured zone; unparseable input comes back verbatim."""
    if value is None:
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        return value
    try:
        local = parsed.astimezone(tz)
    except (ValueError, OverflowError):
        return value
    zone = local.tzname() or ""
    if not zone or zone[0] in "+-" or (zone.upper() == "UTC" and local.utcoffset()):
        offset = local.utcoffset() or dt.timedelta(0)
        sign = "-" if offset < dt.timedelta(0) else "+"
        total = abs(int(offset.total_seconds())) // 60
        zone = f"UTC{sign}{total // 60:02d}:{total % 60:02d}" if total else "UTC"
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def console_url(alarm: Alarm, *, short: bool = False) -> str | None:
    """The alarm's page in the CloudWatch console, from its ARN; None without a valid ARN.

    short=True always uses the classic /cloudwatch/home form on the partition's global host,
    about 40 characters shorter: digests link hundreds of names within Slack's size limit.
    """
    arn = parse_alarm_arn(alarm.arn)
    if arn is None:
        return None
    host = CONSOLE_HOSTS.get(arn.partition)
    if host is None:
        return None
    name = quote(arn.name, safe="")
    if arn.partition == "aws" and not short:
        url = (
            f"https://{arn.region}.{host}/cloudwatch/deeplink.js"
            f"?region={arn.region}#alarmsV2:alarm/{name}"
        )
    else:
        # The deeplink.js form is documented for the commercial partition; the classic
        # /cloudwatch/home form works in every partition.
        url = f"https://{host}/cloudwatch/home?region={arn.region}#alarmsV2:alarm/{name}"
    return url if len(url) <= BUTTON_URL_LIMIT else None


def number_text(value: str | None) -> str | None:
    """A number as CloudWatch users read it: 80.0 -> 80; anything else verbatim."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return value


def account_label(account: str | None, settings: Settings) -> str | None:
    """How an account is shown: "prod (111122223333)" when ACCOUNT_NAMES names it, else its ID."""
    name = dict(settings.account_names).get(account) if account else None
    return f"{name} ({account})" if name else account


# --- shared blocks and payload parts --------------------------------------------------------


def notes_block(notes: tuple[str, ...], limit: int = SECTION_TEXT_LIMIT) -> dict[str, Any]:
    """The configuration notes (settings that fell back to a default), shown under the alarm,
    cut to `limit` characters (at most a section's 3,000)."""
    text = "\n".join(f":warning: alarm-to-slack configuration: {escape(n)}" for n in notes)
    return {"type": "context", "elements": [mrkdwn(text, min(limit, SECTION_TEXT_LIMIT))]}


def apply_overrides(payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Add the channel, username and icon overrides to a webhook payload (legacy webhooks only:
    Slack-app webhooks ignore them, as docs/slack-message.md says)."""
    if settings.channel:
        payload["channel"] = settings.channel
    if settings.username:
        payload["username"] = settings.username
    if settings.icon_emoji:
        payload["icon_emoji"] = settings.icon_emoji
    return payload


@frozen
class MessagePart:
    """One Slack message and the entries it names (acknowledged when Slack accepts it)."""

    payload: dict[str, Any]
    entries: tuple[Entry, ...]
