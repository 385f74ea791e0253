"""botocore's JSON data (service models, endpoints) loaded once per test process, not per session.

botocore caches what a Loader reads on that Loader only, and every botocore Session has its own.
Under moto's mock_aws, boto3.DEFAULT_SESSION is reset, so each boto3.client() call, the handler's
included, starts a new Session and decodes endpoints.json and the service's model again (about
0.1 s of CPU each); a moto server builds a new Loader for every service model it reads and walks
botocore's whole data directory each time. share_loaded_data() makes the Loader methods that
read files share one cache across all Loaders of the process. Their results are the same values
botocore already shares between the clients of one Session (a Loader hands out the same model
object every time), so nothing a client sees changes: only how often the files are read.

Test-only: tests/conftest.py calls it in every test process, support/moto_server.py in the moto
server. The Lambda handler never imports it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

# The Loader methods whose result depends only on the search paths and the arguments. Each is
# already an instance_cache of botocore's, so botocore itself never expects a fresh value.
SHARED_METHODS = (
    "list_available_services",
    "determine_latest_version",
    "list_api_versions",
    "load_service_model",
    "load_data_with_path",
)

_MARK = "_alarm_to_slack_shared_data"
_LOCK = threading.Lock()


def _shared(method: Callable[..., Any], name: str, cache: dict[Any, Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (name, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        try:
            outcome, value = cache[key]
        except KeyError:
            try:
                outcome, value = "value", method(self, *args, **kwargs)
            except Exception as error:  # DataNotFoundError, UnknownServiceError: answered alike
                outcome, value = "error", error
            cache[key] = (outcome, value)
        if outcome == "error":
            raise value
        return value

    return wrapper


def share_loaded_data() -> None:
    """Make every botocore Loader of this process share what the others already loaded."""
    from botocore import loaders  # noqa: PLC0415 - dev dependency, imported by the caller's use

    with _LOCK:
        if getattr(loaders.Loader, _MARK, False):
            return
        cache: dict[Any, Any] = {}
        for name in SHARED_METHODS:
            setattr(loaders.Loader, name, _shared(getattr(loaders.Loader, name), name, cache))
        setattr(loaders.Loader, _MARK, True)
