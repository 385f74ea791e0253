"""Configuration from environment variables, validated once per container."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from routing import Route

LANGUAGES = ("en", "ko")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
URL_VARIABLE = "SLACK_WEBHOOK_URL"
SSM_VARIABLE = "SLACK_WEBHOOK_SSM_PARAMETER"
# Slack app mode (bot token, Web API, state in DynamoDB).
TOKEN_VARIABLE = "SLACK_BOT_TOKEN_SSM_PARAMETER"  # noqa: S105 - a variable name, not a token
CHANNEL_ID_VARIABLE = "SLACK_CHANNEL_ID"
ROUTES_VARIABLE = "SLACK_ROUTES"
STATE_TABLE_VARIABLE = "SLACK_STATE_TABLE"
API_URL_VARIABLE = "SLACK_API_BASE_URL"
DEFAULT_API_BASE_URL = "https://slack.com/api/"
GRAPHS_VARIABLE = "SLACK_GRAPHS"
GRAPH_WINDOW_VARIABLE = "SLACK_GRAPH_WINDOW_MINUTES"
DEFAULT_GRAPH_WINDOW_MINUTES = 180
GRAPH_WINDOW_RANGE = (10, 10080)  # 10 minutes to 7 days


class ConfigError(Exception):
    """The function's configuration is missing or invalid; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    """Validated configuration. The webhook URL is a secret, so it is kept out of repr()."""

    webhook_url: str | None = field(default=None, repr=False)
    webhook_ssm_parameter: str | None = None
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    alarm_mention: str | None = None
    timezone: str = "UTC"
    tz: dt.tzinfo = field(default=dt.UTC, compare=False)
    language: str = "en"
    log_level: str = "INFO"
    digest_threshold: int = 3
    message_interval: float = 1.0
    # Settings that were invalid and replaced by their defaults: logged, never fatal.
    warnings: tuple[str, ...] = ()
    # Slack app mode: set when bot_token_ssm_parameter is.
    bot_token_ssm_parameter: str | None = None
    channel_id: str | None = None
    routes: tuple[Route, ...] = ()
    reply_broadcast: bool = False
    state_table: str | None = None
    state_ttl_days: int = 30
    api_base_url: str = DEFAULT_API_BASE_URL
    # Metric graphs in Slack app mode (graph.py): a display setting, so a bad value never
    # stops delivery; it falls back to the default with a warning.
    graphs: bool = False
    graph_window_minutes: int = DEFAULT_GRAPH_WINDOW_MINUTES

    @property
    def app_mode(self) -> bool:
        """True when posting with a bot token through the Web API (not a webhook)."""
        return self.bot_token_ssm_parameter is not None


def _get(environ: Mapping[str, str], name: str) -> str | None:
    # Terraform passes unset optional variables as "", so empty means unset.
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _is_http_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest)


def resolve_timezone(name: str) -> dt.tzinfo:
    """Return the tzinfo for an IANA zone name, or raise ConfigError.

    The python3.12+ Lambda runtime (Amazon Linux 2023 minimal) has no system tz database, so
    zoneinfo can fail there; python-dateutil, which the runtime ships, carries its own copy.
    """
    if name.upper() in ("UTC", "ETC/UTC"):
        return dt.UTC
    try:
        # Deferred: zoneinfo costs cold-start time that UTC users should not pay.
        import zoneinfo  # noqa: PLC0415

        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    try:
        # Only the bundled IANA database, not dateutil.tz.gettz: gettz also accepts POSIX TZ
        # strings such as "Foo3", which would turn a typo into a silent wrong offset.
        from dateutil.zoneinfo import get_zonefile_instance  # noqa: PLC0415

        zone = get_zonefile_instance().get(name)
    except ImportError:
        zone = None
    if zone is not None:
        return zone
    raise ConfigError(
        f"TIMEZONE={name!r} is not a known IANA time zone name; use a name such as "
        "'UTC' or 'Asia/Seoul'"
    )


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate the environment; raise ConfigError with a clear message on bad input."""
    url = _get(environ, URL_VARIABLE)
    parameter = _get(environ, SSM_VARIABLE)
    token_parameter = _get(environ, TOKEN_VARIABLE)
    if url and parameter:
        raise ConfigError(
            f"both {URL_VARIABLE} and {SSM_VARIABLE} are set; set exactly one of them"
        )
    if token_parameter and (url or parameter):
        raise ConfigError(
            f"{TOKEN_VARIABLE} (Slack app mode) and a webhook ({URL_VARIABLE} or "
            f"{SSM_VARIABLE}) are both set; set exactly one of them"
        )
    if not url and not parameter and not token_parameter:
        raise ConfigError(
            f"no Slack webhook configured: set {URL_VARIABLE} to the webhook URL or "
            f"{SSM_VARIABLE} to the name of an SSM SecureString parameter that holds it "
            f"(or, for Slack app mode, {TOKEN_VARIABLE} to the parameter holding the bot token)"
        )
    if url and not _is_http_url(url):
        # The value itself is a secret: never echo it.
        raise ConfigError(f"{URL_VARIABLE} must be an https:// URL (the value is not shown)")

    language = (_get(environ, "MESSAGE_LANGUAGE") or "en").lower()
    if language not in LANGUAGES:
        raise ConfigError(
            f"MESSAGE_LANGUAGE={language!r} is not supported; use one of: {', '.join(LANGUAGES)}"
        )
    log_level = (_get(environ, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={log_level!r} is not one of: {', '.join(LOG_LEVELS)}")
    timezone = _get(environ, "TIMEZONE") or "UTC"
    warnings: list[str] = []
    digest_threshold = _number(
        environ, "DIGEST_THRESHOLD", 3, bounds=(0, 1000), warnings=warnings, whole=True
    )
    interval = _number(
        environ, "SLACK_MESSAGE_INTERVAL_SECONDS", 1.0, bounds=(0, 60), warnings=warnings
    )

    app = _app_settings(environ) if token_parameter else {}

    return Settings(
        webhook_url=url,
        webhook_ssm_parameter=parameter,
        channel=_get(environ, "SLACK_CHANNEL"),
        username=_get(environ, "SLACK_USERNAME"),
        icon_emoji=_get(environ, "SLACK_ICON_EMOJI"),
        alarm_mention=_get(environ, "ALARM_MENTION"),
        timezone=timezone,
        tz=resolve_timezone(timezone),
        language=language,
        log_level=log_level,
        digest_threshold=int(digest_threshold),
        message_interval=interval,
        warnings=tuple(warnings),
        bot_token_ssm_parameter=token_parameter,
        **app,
        **(_graph_settings(environ) if token_parameter else {}),
    )


def _graph_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """SLACK_GRAPHS and SLACK_GRAPH_WINDOW_MINUTES (app mode only). A display setting never
    stops delivery: a bad value is logged and replaced by the default (graphs off)."""
    import logging  # noqa: PLC0415 - loaded by the handler already

    log = logging.getLogger("alarm_to_slack")
    enabled = (_get(environ, GRAPHS_VARIABLE) or "false").lower()
    if enabled not in ("true", "false"):
        log.warning("%s=%r is not true or false; graphs are off", GRAPHS_VARIABLE, enabled)
        enabled = "false"
    window = _get(environ, GRAPH_WINDOW_VARIABLE) or str(DEFAULT_GRAPH_WINDOW_MINUTES)
    low, high = GRAPH_WINDOW_RANGE
    if not window.isdigit() or not low <= int(window) <= high:
        log.warning(
            "%s=%r is not a whole number of minutes from %d to %d; using %d",
            GRAPH_WINDOW_VARIABLE,
            window,
            low,
            high,
            DEFAULT_GRAPH_WINDOW_MINUTES,
        )
        window = str(DEFAULT_GRAPH_WINDOW_MINUTES)
    return {"graphs": enabled == "true", "graph_window_minutes": int(window)}


def _app_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The Slack app mode settings; routing is imported only here (webhook mode never pays)."""
    from routing import RouteError, is_channel, parse_routes  # noqa: PLC0415

    channel_id = _get(environ, CHANNEL_ID_VARIABLE)
    if not channel_id:
        raise ConfigError(
            f"{CHANNEL_ID_VARIABLE} is required in Slack app mode: the channel ID (e.g. "
            "C0123456789) for alarms that no route matches"
        )
    if not is_channel(channel_id):
        raise ConfigError(
            f"{CHANNEL_ID_VARIABLE}={channel_id!r} is not a channel ID such as C0123456789"
        )
    try:
        routes = parse_routes(_get(environ, ROUTES_VARIABLE))
    except RouteError as exc:
        raise ConfigError(f"{ROUTES_VARIABLE}: {exc}") from None
    broadcast = (_get(environ, "SLACK_REPLY_BROADCAST") or "false").lower()
    if broadcast not in ("true", "false"):
        raise ConfigError(f"SLACK_REPLY_BROADCAST={broadcast!r} must be true or false")
    ttl = _get(environ, "SLACK_STATE_TTL_DAYS") or "30"
    if not ttl.isdigit() or not 1 <= int(ttl) <= 3650:
        raise ConfigError(f"SLACK_STATE_TTL_DAYS={ttl!r} must be a whole number of days, 1-3650")
    api_url = _get(environ, API_URL_VARIABLE) or DEFAULT_API_BASE_URL
    if not is_allowed_api_url(api_url):
        raise ConfigError(
            f"{API_URL_VARIABLE}={api_url!r} must be {DEFAULT_API_BASE_URL} or a loopback "
            "http:// URL (a local fake Web API for tests)"
        )
    return {
        "channel_id": channel_id,
        "routes": routes,
        "reply_broadcast": broadcast == "true",
        "state_table": _get(environ, STATE_TABLE_VARIABLE),
        "state_ttl_days": int(ttl),
        "api_base_url": api_url,
    }


def is_allowed_api_url(url: str) -> bool:
    """Slack's own https API, or a loopback http URL (a fake Web API in tests and `make run`)."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme == "https":
        return host == "slack.com"
    return parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1")


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    bounds: tuple[float, float],
    warnings: list[str],
    whole: bool = False,
) -> float:
    """A numeric tuning setting; a bad value falls back to the default with a warning, because
    how alerts are grouped or paced must never decide whether they are sent."""
    low, high = bounds
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (low <= value <= high) or (whole and not value.is_integer()):
        kind = "a whole number" if whole else "a number"
        warnings.append(f"{name}={raw!r} is not {kind} from {low:g} to {high:g}; using {default:g}")
        return default
    return value


_ssm_cache: dict[str, str] = {}


def _default_ssm_client() -> Any:  # noqa: ANN401 - a boto3 client has no importable type
    # boto3 is imported only here, so the webhook-URL path never pays for it.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "ssm", config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 3})
    )


def resolve_webhook_url(
    settings: Settings, *, ssm_client_factory: Callable[[], Any] | None = None
) -> str:
    """Return the webhook URL: from the settings, or from SSM (decrypted, cached per container)."""
    if settings.webhook_url:
        return settings.webhook_url
    name = settings.webhook_ssm_parameter
    if not name:
        raise ConfigError(f"set {URL_VARIABLE} or {SSM_VARIABLE}")
    cached = _ssm_cache.get(name)
    if cached is not None:
        return cached
    client = (ssm_client_factory or _default_ssm_client)()
    try:
        response = client.get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        # botocore's messages name the parameter and the error code, never the value.
        raise ConfigError(
            f"could not read SSM parameter {name!r} ({SSM_VARIABLE}): {type(exc).__name__}: {exc}"
        ) from None
    value = str(((response or {}).get("Parameter") or {}).get("Value") or "").strip()
    if not _is_http_url(value):
        raise ConfigError(
            f"SSM parameter {name!r} ({SSM_VARIABLE}) does not hold an https:// webhook URL "
            "(the value is not shown)"
        )
    _ssm_cache[name] = value
    return value


def resolve_bot_token(
    settings: Settings, *, ssm_client_factory: Callable[[], Any] | None = None
) -> str:
    """The Slack bot token from its SSM SecureString (decrypted, cached per container)."""
    name = settings.bot_token_ssm_parameter
    if not name:
        raise ConfigError(f"set {TOKEN_VARIABLE} for Slack app mode")
    cached = _ssm_cache.get(name)
    if cached is not None:
        return cached
    client = (ssm_client_factory or _default_ssm_client)()
    try:
        response = client.get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise ConfigError(
            f"could not read SSM parameter {name!r} ({TOKEN_VARIABLE}): {type(exc).__name__}: {exc}"
        ) from None
    value = str(((response or {}).get("Parameter") or {}).get("Value") or "").strip()
    if not value.startswith(("xoxb-", "xoxp-")) or any(c.isspace() for c in value):
        raise ConfigError(
            f"SSM parameter {name!r} ({TOKEN_VARIABLE}) does not hold a Slack bot token "
            "(xoxb-...; the value is not shown)"
        )
    _ssm_cache[name] = value
    return value


def forget_ssm_value(name: str | None) -> None:
    """Drop one cached value, so a token fixed in SSM is read again on the next invocation."""
    if name:
        _ssm_cache.pop(name, None)


def clear_ssm_cache() -> None:
    """Forget cached SSM values (tests; a new container does this implicitly)."""
    _ssm_cache.clear()
