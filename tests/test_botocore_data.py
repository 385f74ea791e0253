"""support/botocore_data.py: botocore's data files read once per process, with the same answers."""

from __future__ import annotations

import os
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader

from support import moto_server
from support.botocore_data import SHARED_METHODS, share_loaded_data


def _fresh_loader() -> Any:
    return botocore.session.Session().get_component("data_loader")


def test_loaders_of_different_sessions_hand_out_the_model_read_once() -> None:
    share_loaded_data()  # conftest did already; a second call must change nothing
    first, second = _fresh_loader(), _fresh_loader()

    assert first is not second
    model = first.load_service_model("sqs", "service-2")
    assert second.load_service_model("sqs", "service-2") is model
    assert model["metadata"]["endpointPrefix"] == "sqs"
    assert second.load_data("endpoints") is first.load_data("endpoints")


def test_the_shared_answers_are_botocores_own(monkeypatch: pytest.MonkeyPatch) -> None:
    share_loaded_data()
    loader = _fresh_loader()
    unwrapped = {name: getattr(Loader, name).__wrapped__ for name in SHARED_METHODS}

    # Each method is wrapped once: the wrapped one is botocore's own per-Loader cache.
    for name, original in unwrapped.items():
        assert getattr(original, "__qualname__", "").startswith("instance_cache"), name

    own = unwrapped["load_service_model"](_fresh_loader(), "sns", "service-2")
    assert loader.load_service_model("sns", "service-2") == own
    assert loader.list_available_services("service-2") == unwrapped["list_available_services"](
        _fresh_loader(), "service-2"
    )


def test_a_missing_file_or_service_still_raises_every_time() -> None:
    share_loaded_data()
    for _ in range(2):
        with pytest.raises(DataNotFoundError):
            _fresh_loader().load_data("no-such-data-file")
        with pytest.raises(UnknownServiceError):
            _fresh_loader().load_service_model("no-such-service", "service-2")


def test_the_moto_server_lists_its_backends_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends  # noqa: PLC0415

    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    listed = tuple(backends.list_of_moto_modules())
    moto_server._read_models_once()

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(os, "listdir", no_listing)
    assert tuple(backends.list_of_moto_modules()) == listed
    assert {"sqs", "sns", "awslambda"} <= set(backends.list_of_moto_modules())
