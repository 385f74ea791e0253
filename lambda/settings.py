"""Configuration from environment variables, validated once per container."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# typing costs cold-start time and is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LANGUAGES = ("en", "ko")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
URL_VARIABLE = "SLACK_WEBHOOK_URL"
SSM_VARIABLE = "SLACK_WEBHOOK_SSM_PARAMETER"
ACCOUNT_NAMES_VARIABLE = "ACCOUNT_NAMES"
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


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
    # ACCOUNT_NAMES as sorted (account ID, friendly name) pairs: a tuple keeps Settings hashable.
    account_names: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"
    tz: dt.tzinfo = field(default=dt.UTC, compare=False)
    language: str = "en"
    log_level: str = "INFO"
    digest_threshold: int = 3
    message_interval: float = 1.0
    # Settings that were invalid and replaced by their defaults: logged, never fatal.
    warnings: tuple[str, ...] = ()


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
    """Read and validate the environment; raise ConfigError with a clear message on bad input."""
    url = _get(environ, URL_VARIABLE)
    parameter = _get(environ, SSM_VARIABLE)
    if url and parameter:
        raise ConfigError(
            f"both {URL_VARIABLE} and {SSM_VARIABLE} are set; set exactly one of them"
        )
    if not url and not parameter:
        raise ConfigError(
            f"no Slack webhook configured: set {URL_VARIABLE} to the webhook URL or "
            f"{SSM_VARIABLE} to the name of an SSM SecureString parameter that holds it"
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

    return Settings(
        webhook_url=url,
        webhook_ssm_parameter=parameter,
        channel=_get(environ, "SLACK_CHANNEL"),
        username=_get(environ, "SLACK_USERNAME"),
        icon_emoji=_get(environ, "SLACK_ICON_EMOJI"),
        alarm_mention=_get(environ, "ALARM_MENTION"),
        account_names=parse_account_names(_get(environ, ACCOUNT_NAMES_VARIABLE), warnings),
        timezone=timezone,
        tz=resolve_timezone(timezone),
        language=language,
        log_level=log_level,
        digest_threshold=int(digest_threshold),
        message_interval=interval,
        warnings=tuple(warnings),
    )


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


def clear_ssm_cache() -> None:
    """Forget cached SSM values (tests; a new container does this implicitly)."""
    _ssm_cache.clear()
