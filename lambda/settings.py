"""Configuration from environment variables, validated once per container."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping

from records import field, frozen
from slack import webhook_url_problem
from text import safe_text

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from routing import Route

LANGUAGES = ("en", "ko")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
URL_VARIABLE = "SLACK_WEBHOOK_URL"
SSM_VARIABLE = "SLACK_WEBHOOK_SSM_PARAMETER"
ALLOWED_HOSTS_VARIABLE = "SLACK_WEBHOOK_ALLOWED_HOSTS"
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
GRAPH_JOIN_VARIABLE = "SLACK_GRAPH_JOIN_CHANNELS"
GRAPH_ACCOUNTS_VARIABLE = "SLACK_GRAPH_CROSS_ACCOUNT_IDS"

logger = logging.getLogger("alarm_to_slack")

ACCOUNT_NAMES_VARIABLE = "ACCOUNT_NAMES"
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
# A Slack token (xoxb-, xoxp-, xoxe-/xoxe., xapp-...) or a URL where an SSM parameter *name*
# belongs: the same rule as main.tf's secret_looking_name_pattern, so a value Terraform lets
# through is never refused here and the other way round. Such a "name" is never echoed: it may
# be the secret itself.
_SECRET_LOOKING_NAME = re.compile(r"xox[a-z][.-]|xapp-|https?://|hooks\.slack\.com", re.IGNORECASE)


class ConfigError(Exception):
    """The function's configuration is missing or invalid; the message says what to set."""


@frozen
class Settings:
    """Validated configuration. The webhook URL is a secret, so it is kept out of repr()."""

    webhook_url: str | None = field(default=None, repr=False)
    webhook_ssm_parameter: str | None = None
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    alarm_mention: str | None = None
    # ACCOUNT_NAMES as sorted (account ID, friendly name) pairs: a tuple keeps Settings hashable.
    account_names: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"
    tz: dt.tzinfo = field(default=dt.UTC, compare=False)
    language: str = "en"
    log_level: str = "INFO"
    digest_threshold: int = 3
    message_interval: float = 1.0
    # Extra hosts a webhook URL may point at (SLACK_WEBHOOK_ALLOWED_HOSTS), besides Slack's.
    webhook_allowed_hosts: frozenset[str] = frozenset()
    # Settings that were wrong and replaced by a default: shown in every message until fixed
    # and logged, because a display or tuning setting must never stop delivery.
    notes: tuple[str, ...] = ()
    # Slack app mode: set when bot_token_ssm_parameter is.
    bot_token_ssm_parameter: str | None = None
    channel_id: str | None = None
    routes: tuple[Route, ...] = ()
    reply_broadcast: bool = False
    state_table: str | None = None
    state_ttl_days: int = 30
    # Slack app mode: a channel's storm digest stays live (later alarms join its thread and
    # counts) this long after it was posted; Alertmanager's group_interval. 0: never join.
    group_interval_seconds: int = 300
    api_base_url: str = DEFAULT_API_BASE_URL
    # Metric graphs in Slack app mode (graph.py): a display setting, so a bad value never
    # stops delivery; it falls back to the default with a warning.
    graphs: bool = False
    graph_window_minutes: int = DEFAULT_GRAPH_WINDOW_MINUTES
    # Join a public channel (conversations.join) before the first graph upload there: sharing a
    # file needs membership, which chat:write.public does not give.
    graph_join_channels: bool = True
    # Other accounts whose metrics this function may draw (CloudWatch cross-account
    # observability), sorted; alarms of other accounts get a note instead of a graph.
    graph_cross_account_ids: tuple[str, ...] = ()

    @property
    def app_mode(self) -> bool:
        """True when posting with a bot token through the Web API (not a webhook)."""
        return self.bot_token_ssm_parameter is not None


def _get(environ: Mapping[str, str], name: str) -> str | None:
    # Terraform passes unset optional variables as "", so empty means unset.
    value = environ.get(name)
    if value is None:
        return None
    value = safe_text(value.strip())
    return value or None


def _shown(value: str) -> str:
    """A setting's value as it may appear in a note: quoted, and short."""
    return repr(value if len(value) <= 60 else value[:60] + "…")


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


def parse_account_names(raw: str | None, warnings: list[str]) -> tuple[tuple[str, str], ...]:
    """ACCOUNT_NAMES: a JSON object of 12-digit account ID -> friendly name.

    A display setting: a bad value never stops delivery. Unreadable JSON drops every name, a bad
    entry drops that entry; each adds a warning that names what was wrong.
    """
    if raw is None:
        return ()
    try:
        value = json.loads(raw)
    except ValueError as exc:
        warnings.append(
            f"{ACCOUNT_NAMES_VARIABLE} is not valid JSON ({exc}); expected an object such as "
            '{"111122223333": "prod"}; accounts are shown by ID'
        )
        return ()
    if not isinstance(value, dict):
        warnings.append(
            f"{ACCOUNT_NAMES_VARIABLE} must be a JSON object of account ID -> name, not "
            f"{type(value).__name__}; accounts are shown by ID"
        )
        return ()
    pairs = []
    for account, name in value.items():
        if not _ACCOUNT_ID.match(account):
            warnings.append(
                f"{ACCOUNT_NAMES_VARIABLE}: key {account!r} is not a 12-digit AWS account ID; "
                "ignored"
            )
        elif not isinstance(name, str) or not name.strip():
            warnings.append(
                f"{ACCOUNT_NAMES_VARIABLE}: the name of account {account} must be a non-empty "
                f"string, not {name!r}; shown by ID"
            )
        else:
            pairs.append((account, name.strip()))
    return tuple(sorted(pairs))


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate the environment.

    A missing or unusable webhook raises ConfigError with a clear message (nothing can be
    delivered without it). A wrong display setting (time zone, language, log level) never
    stops delivery: it falls back to its default, logs a warning and adds a note that every
    message shows until the setting is fixed.
    """
    url = _get(environ, URL_VARIABLE)
    parameter = _get(environ, SSM_VARIABLE)
    token_parameter = _get(environ, TOKEN_VARIABLE)
    for variable, name in ((SSM_VARIABLE, parameter), (TOKEN_VARIABLE, token_parameter)):
        if name and _SECRET_LOOKING_NAME.search(name):
            raise ConfigError(
                f"{variable} looks like a Slack token or a URL, not the name of an SSM parameter"
                " (the value is not shown): store the secret in a SecureString parameter and"
                " set its name, e.g. /alarm-to-slack/webhook-url"
            )
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
    allowed_hosts = frozenset(
        host.strip().lower()
        for host in (_get(environ, ALLOWED_HOSTS_VARIABLE) or "").split(",")
        if host.strip()
    )
    problem = webhook_url_problem(url, allowed_hosts) if url else None
    if problem is not None:
        # The value itself is a secret: never echo it.
        raise ConfigError(f"{URL_VARIABLE} {problem} (the value is not shown)")

    notes: list[str] = []
    language = (_get(environ, "MESSAGE_LANGUAGE") or "en").lower()
    if language not in LANGUAGES:
        notes.append(
            f"MESSAGE_LANGUAGE={_shown(language)} is not supported (use one of: "
            f"{', '.join(LANGUAGES)}); messages are in English"
        )
        language = "en"
    log_level = (_get(environ, "LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        notes.append(
            f"LOG_LEVEL={_shown(log_level)} is not one of: {', '.join(LOG_LEVELS)}; logging at INFO"
        )
        log_level = "INFO"
    timezone = _get(environ, "TIMEZONE") or "UTC"
    digest_threshold = _number(
        environ, "DIGEST_THRESHOLD", 3, bounds=(0, 1000), notes=notes, whole=True
    )
    interval = _number(environ, "SLACK_MESSAGE_INTERVAL_SECONDS", 1.0, bounds=(0, 60), notes=notes)
    app = _app_settings(environ, notes) if token_parameter else {}
    graphs = _graph_settings(environ, notes) if token_parameter else {}
    account_names = parse_account_names(_get(environ, ACCOUNT_NAMES_VARIABLE), notes)
    try:
        tz = resolve_timezone(timezone)
    except ConfigError:
        notes.append(
            f"TIMEZONE={_shown(timezone)} is not a known IANA time zone name (such as "
            "Asia/Seoul); times are shown in UTC"
        )
        timezone, tz = "UTC", dt.UTC
    for note in notes:
        logger.warning(
            json.dumps({"message": "configuration warning", "warning": note}, ensure_ascii=False)
        )

    return Settings(
        webhook_url=url,
        webhook_ssm_parameter=parameter,
        channel=_get(environ, "SLACK_CHANNEL"),
        username=_get(environ, "SLACK_USERNAME"),
        icon_emoji=_get(environ, "SLACK_ICON_EMOJI"),
        alarm_mention=_get(environ, "ALARM_MENTION"),
        account_names=account_names,
        timezone=timezone,
        tz=tz,
        language=language,
        log_level=log_level,
        digest_threshold=int(digest_threshold),
        message_interval=interval,
        webhook_allowed_hosts=allowed_hosts,
        notes=tuple(notes),
        bot_token_ssm_parameter=token_parameter,
        **app,
        **graphs,
    )


def _graph_settings(environ: Mapping[str, str], notes: list[str]) -> dict[str, Any]:
    """SLACK_GRAPHS, SLACK_GRAPH_WINDOW_MINUTES, SLACK_GRAPH_JOIN_CHANNELS and
    SLACK_GRAPH_CROSS_ACCOUNT_IDS (app mode only). A display setting never stops delivery: a bad
    value falls back (graphs off, the default window, joining on, the entry left out) with a
    note."""
    enabled = (_get(environ, GRAPHS_VARIABLE) or "false").lower()
    if enabled not in ("true", "false"):
        notes.append(f"{GRAPHS_VARIABLE}={_shown(enabled)} is not true or false; graphs are off")
        enabled = "false"
    low, high = GRAPH_WINDOW_RANGE
    window = _number(
        environ,
        GRAPH_WINDOW_VARIABLE,
        DEFAULT_GRAPH_WINDOW_MINUTES,
        bounds=(low, high),
        notes=notes,
        whole=True,
    )
    join = (_get(environ, GRAPH_JOIN_VARIABLE) or "true").lower()
    if join not in ("true", "false"):
        notes.append(
            f"{GRAPH_JOIN_VARIABLE}={_shown(join)} is not true or false; channels are joined"
        )
        join = "true"
    return {
        "graphs": enabled == "true",
        "graph_window_minutes": int(window),
        "graph_join_channels": join == "true",
        "graph_cross_account_ids": _graph_accounts(_get(environ, GRAPH_ACCOUNTS_VARIABLE), notes),
    }


def _graph_accounts(value: str | None, notes: list[str]) -> tuple[str, ...]:
    """SLACK_GRAPH_CROSS_ACCOUNT_IDS: comma-separated 12-digit IDs; a wrong entry is left out
    with a note (its alarms then get the note in Slack instead of a graph)."""
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    wrong = [entry for entry in entries if not _ACCOUNT_ID.match(entry)]
    if wrong:
        shown = ", ".join(_shown(entry) for entry in wrong[:5])
        notes.append(
            f"{GRAPH_ACCOUNTS_VARIABLE} holds entries that are not 12-digit account IDs "
            f"({shown}); they are ignored"
        )
    return tuple(sorted({entry for entry in entries if _ACCOUNT_ID.match(entry)}))


def _app_settings(environ: Mapping[str, str], notes: list[str]) -> dict[str, Any]:
    """The Slack app mode settings; routing is imported only here (webhook mode never pays).

    Without a usable channel nothing can be posted: ConfigError. Wrong routes, reply_broadcast
    or TTL fall back (everything to the default channel, no broadcast, 30 days) with a note,
    because they must never stop delivery.
    """
    from routing import RouteError, is_channel, parse_routes  # noqa: PLC0415

    channel_id = _get(environ, CHANNEL_ID_VARIABLE)
    if not channel_id:
        raise ConfigError(
            f"{CHANNEL_ID_VARIABLE} is required in Slack app mode: the channel ID (e.g. "
            "C0123456789) for alarms that no route matches"
        )
    if not is_channel(channel_id):
        raise ConfigError(
            f"{CHANNEL_ID_VARIABLE}={_shown(channel_id)} is not a channel ID such as C0123456789"
        )
    api_url = _get(environ, API_URL_VARIABLE) or DEFAULT_API_BASE_URL
    if not is_allowed_api_url(api_url):
        raise ConfigError(
            f"{API_URL_VARIABLE}={_shown(api_url)} must be {DEFAULT_API_BASE_URL} or a loopback "
            "http:// URL (a local fake Web API for tests)"
        )
    try:
        routes = parse_routes(_get(environ, ROUTES_VARIABLE))
    except RouteError as exc:
        notes.append(f"{ROUTES_VARIABLE}: {exc}; every alarm goes to {channel_id}")
        routes = ()
    broadcast = (_get(environ, "SLACK_REPLY_BROADCAST") or "false").lower()
    if broadcast not in ("true", "false"):
        notes.append(f"SLACK_REPLY_BROADCAST={_shown(broadcast)} is not true or false; using false")
    ttl = _number(environ, "SLACK_STATE_TTL_DAYS", 30, bounds=(1, 3650), notes=notes, whole=True)
    interval = _number(
        environ, "SLACK_GROUP_INTERVAL_SECONDS", 300, bounds=(0, 3600), notes=notes, whole=True
    )
    return {
        "channel_id": channel_id,
        "routes": routes,
        "reply_broadcast": broadcast == "true",
        "state_table": _get(environ, STATE_TABLE_VARIABLE),
        "state_ttl_days": int(ttl),
        "group_interval_seconds": int(interval),
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
    notes: list[str],
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
        notes.append(
            f"{name}={_shown(raw)} is not {kind} from {low:g} to {high:g}; using {default:g}"
        )
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
            f"could not read SSM parameter {name} ({SSM_VARIABLE}): {type(exc).__name__}: {exc}"
        ) from None
    value = str(((response or {}).get("Parameter") or {}).get("Value") or "").strip()
    problem = webhook_url_problem(value, settings.webhook_allowed_hosts)
    if problem is not None:
        raise ConfigError(
            f"SSM parameter {name} ({SSM_VARIABLE}) does not hold a usable webhook URL: it "
            f"{problem} (the value is not shown)"
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
            f"could not read SSM parameter {name} ({TOKEN_VARIABLE}): {type(exc).__name__}: {exc}"
        ) from None
    value = str(((response or {}).get("Parameter") or {}).get("Value") or "").strip()
    if not value.startswith(("xoxb-", "xoxp-")) or any(c.isspace() for c in value):
        raise ConfigError(
            f"SSM parameter {name} ({TOKEN_VARIABLE}) does not hold a Slack bot token "
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
