"""Which Slack channel an alarm goes to (app mode): ordered routes, first match wins; pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from name_pattern import NamePattern, PatternError

from alarm import Alarm

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ROUTE_KEYS = frozenset(
    {"channel_id", "alarm_names", "alarm_name_prefix", "alarm_name_regex", "states",
     "accounts", "regions"}
)  # fmt: skip
_CHANNEL = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class RouteError(ValueError):
    """A route in the configuration is invalid; the message names the route and the key."""


@dataclass(frozen=True)
class Route:
    """One routing rule. Every match field that is set must match (AND); unset fields match all.

    alarm_names: exact names (what Terraform writes for `alarms`/`ec2_instances` entries that
    name a channel); alarm_name_prefix (the name starts with it); alarm_name_regex (found
    anywhere in the name, as RE2 reads it, in linear time: name_pattern.py); states, accounts,
    regions: lists of accepted values.
    """

    channel_id: str
    alarm_names: frozenset[str] | None = None
    alarm_name_prefix: str | None = None
    alarm_name_regex: NamePattern | None = None
    states: frozenset[str] | None = None
    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    def matches(self, alarm: Alarm) -> bool:
        name = alarm.name or ""
        checks = (
            self.alarm_names is None or name in self.alarm_names,
            self.alarm_name_prefix is None or name.startswith(self.alarm_name_prefix),
            self.alarm_name_regex is None or self.alarm_name_regex.search(name),
            self.states is None or (alarm.state or "") in self.states,
            self.accounts is None or (alarm.account or "") in self.accounts,
            self.regions is None or (alarm.region or "") in self.regions,
        )
        return all(checks)


def channel_for(alarm: Alarm, routes: tuple[Route, ...], default: str) -> str:
    """The channel of the first route that matches the alarm, else the default channel."""
    for route in routes:
        if route.matches(alarm):
            return route.channel_id
    return default


def is_channel(value: object) -> bool:
    """A channel ID (C0123456789) or name (#alerts) as chat.postMessage accepts it."""
    return isinstance(value, str) and _CHANNEL.match(value) is not None


def _strings(where: str, key: str, value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RouteError(f"{where}: {key} must be a non-empty list of strings")
    return frozenset(value)


def _route(index: int, entry: object) -> Route:
    where = f"route {index}"
    if not isinstance(entry, dict):
        raise RouteError(f"{where}: must be an object with channel_id and match fields")
    unknown = sorted(set(entry) - ROUTE_KEYS)
    if unknown:
        raise RouteError(f"{where}: unknown key(s) {', '.join(unknown)}")
    channel = entry.get("channel_id")
    if not is_channel(channel):
        raise RouteError(f"{where}: channel_id {channel!r} is not a channel ID such as C0123456789")
    prefix = entry.get("alarm_name_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        raise RouteError(f"{where}: alarm_name_prefix must be a non-empty string")
    pattern = entry.get("alarm_name_regex")
    compiled = None
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise RouteError(f"{where}: alarm_name_regex must be a non-empty string")
        try:
            compiled = NamePattern(pattern)
        except PatternError as exc:
            raise RouteError(f"{where}: alarm_name_regex {pattern!r} is invalid: {exc}") from None
    return Route(
        channel_id=channel,
        alarm_names=_strings(where, "alarm_names", entry.get("alarm_names")),
        alarm_name_prefix=prefix,
        alarm_name_regex=compiled,
        states=_strings(where, "states", entry.get("states")),
        accounts=_strings(where, "accounts", entry.get("accounts")),
        regions=_strings(where, "regions", entry.get("regions")),
    )


def parse_routes(text: str | None) -> tuple[Route, ...]:
    """Routes from their JSON form (a list of objects); raise RouteError naming a bad entry.

    Null match fields are the same as absent ones (Terraform writes every optional attribute).
    """
    if text is None or not text.strip():
        return ()
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise RouteError(f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise RouteError("must be a JSON list of route objects")
    cleaned = [
        {k: v for k, v in entry.items() if v is not None} if isinstance(entry, dict) else entry
        for entry in data
    ]
    return tuple(_route(index, entry) for index, entry in enumerate(cleaned))
