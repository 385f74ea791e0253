"""The fake Web API's files.* and conversations.join rules: the ones graphs meet in real Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from support.app_mode import SharedClock
from support.fake_slack_api import (
    DEFAULT_TOKEN,
    FILES_RATE_TIERS,
    UPLOAD_URL_LIFETIME_SECONDS,
    Answer,
    FakeSlackApi,
)

CHANNEL = "C0ALERTS01"
AUTH = f"Bearer {DEFAULT_TOKEN}"
ALL_SCOPES = frozenset({"chat:write", "chat:write.public", "files:write", "channels:join"})


@pytest.fixture
def clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def fake(clock: SharedClock) -> Iterator[FakeSlackApi]:
    # answer() and the upload handler are driven directly; the server only lends its port to
    # the upload URLs.
    with FakeSlackApi(channels={CHANNEL: "alerts"}, scopes=ALL_SCOPES, clock=clock) as server:
        yield server


def call(fake: FakeSlackApi, method: str, **arguments: str) -> Answer:
    """One form-encoded call with the right token (every value a string, as Slack reads it)."""
    return fake.answer(method, AUTH, arguments, form=True)


def uploaded(fake: FakeSlackApi, content: bytes = b"png-bytes") -> str:
    """A file whose bytes were POSTed to its upload URL; its id."""
    started = call(fake, "files.getUploadURLExternal", filename="g.png", length=str(len(content)))
    assert started.body["ok"], started.body
    file_id = started.body["file_id"]
    assert fake._receive_upload(file_id, content).status == 200
    return file_id


def complete(fake: FakeSlackApi, file_id: str, channel: str = CHANNEL) -> Answer:
    files = json.dumps([{"id": file_id, "title": "g"}])
    return call(fake, "files.completeUploadExternal", files=files, channel_id=channel)


# --- membership: chat:write.public is not enough for files --------------------------------------


def test_completing_an_upload_needs_membership_even_with_chat_write_public(
    fake: FakeSlackApi,
) -> None:
    fake.set_channel(CHANNEL, member=False)
    posted = call(fake, "chat.postMessage", channel=CHANNEL, text="ALARM")
    assert posted.body["ok"]  # chat:write.public lets the text in
    answer = complete(fake, uploaded(fake))
    assert answer.body == {"ok": False, "error": "not_in_channel"}
    assert [m.text for m in fake.messages(CHANNEL)] == ["ALARM"]


def test_an_unknown_channel_is_invalid_channel_for_files(fake: FakeSlackApi) -> None:
    assert complete(fake, uploaded(fake), channel="C0NOWHERE1").body["error"] == "invalid_channel"


# --- conversations.join ---------------------------------------------------------------------------


def test_joining_makes_the_app_a_member_and_the_upload_then_lands(fake: FakeSlackApi) -> None:
    fake.set_channel(CHANNEL, member=False)
    joined = call(fake, "conversations.join", channel=CHANNEL)
    assert joined.body["ok"]
    assert "warning" not in joined.body
    assert joined.body["channel"]["is_member"] is True
    assert complete(fake, uploaded(fake)).body["ok"]
    again = call(fake, "conversations.join", channel=CHANNEL)
    assert (again.body["ok"], again.body["warning"]) == (True, "already_in_channel")


def test_joining_needs_the_channels_join_scope(clock: SharedClock) -> None:
    scopes = ALL_SCOPES - {"channels:join"}
    fake = FakeSlackApi(channels={CHANNEL: "alerts"}, scopes=scopes, clock=clock)
    fake.set_channel(CHANNEL, member=False)
    answer = call(fake, "conversations.join", channel=CHANNEL)
    assert (answer.body["error"], answer.body["needed"]) == ("missing_scope", "channels:join")
    assert fake.channels[CHANNEL].member is False


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"private": True}, "method_not_supported_for_channel_type"),
        ({"archived": True}, "is_archived"),
    ],
)
def test_private_and_archived_channels_cannot_be_joined(
    fake: FakeSlackApi, change: dict[str, bool], error: str
) -> None:
    fake.set_channel(CHANNEL, member=False, **change)
    assert call(fake, "conversations.join", channel=CHANNEL).body == {"ok": False, "error": error}
    assert fake.channels[CHANNEL].member is False


def test_joining_an_unknown_channel_is_channel_not_found(fake: FakeSlackApi) -> None:
    assert call(fake, "conversations.join", channel="C0NOWHERE1").body["error"] == (
        "channel_not_found"
    )


# --- files.completeUploadExternal: once per file ------------------------------------------------


def test_an_upload_can_be_completed_only_once(fake: FakeSlackApi) -> None:
    file_id = uploaded(fake)
    assert complete(fake, file_id).body["ok"]
    assert complete(fake, file_id).body == {"ok": False, "error": "file_not_found"}
    (message,) = fake.messages(CHANNEL)
    assert message.content["files"][0]["id"] == file_id


def test_a_refused_completion_uses_up_the_file(fake: FakeSlackApi) -> None:
    fake.set_channel(CHANNEL, member=False)
    file_id = uploaded(fake)
    assert complete(fake, file_id).body["error"] == "not_in_channel"
    assert call(fake, "conversations.join", channel=CHANNEL).body["ok"]
    assert complete(fake, file_id).body["error"] == "file_not_found"
    assert fake.messages(CHANNEL) == []


# --- the upload URL -------------------------------------------------------------------------------


def test_an_upload_url_takes_the_bytes_once(fake: FakeSlackApi) -> None:
    file_id = uploaded(fake, b"first")
    assert fake._receive_upload(file_id, b"again").status == 404
    assert fake.files[file_id].content == b"first"


def test_an_upload_url_expires(fake: FakeSlackApi, clock: SharedClock) -> None:
    started = call(fake, "files.getUploadURLExternal", filename="g.png", length="5")
    clock.sleep(UPLOAD_URL_LIFETIME_SECONDS + 1)
    assert fake._receive_upload(started.body["file_id"], b"12345").status == 404
    assert complete(fake, started.body["file_id"]).body["error"] == "file_not_found"


# --- rate tiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("files.getUploadURLExternal", {"filename": "g.png", "length": "5"}),
        ("conversations.join", {"channel": CHANNEL}),
    ],
)
def test_each_method_has_its_tier_per_minute(
    fake: FakeSlackApi, clock: SharedClock, method: str, arguments: dict[str, str]
) -> None:
    limit = FILES_RATE_TIERS[method]
    assert limit == {"files.getUploadURLExternal": 100, "conversations.join": 50}[method]
    for _ in range(limit):
        assert call(fake, method, **arguments).body["ok"]
        clock.sleep(0.1)
    refused = call(fake, method, **arguments)
    assert (refused.status, refused.body["error"]) == (429, "ratelimited")
    wait = int(dict(refused.headers)["Retry-After"])
    assert 1 <= wait <= 60
    clock.sleep(wait)
    assert call(fake, method, **arguments).body["ok"]


def test_completions_are_rate_limited_at_tier_4(fake: FakeSlackApi, clock: SharedClock) -> None:
    assert FILES_RATE_TIERS["files.completeUploadExternal"] == 100
    for _ in range(100):
        complete(fake, "F0000000000")  # refused (no such file), but still counted
    answer = complete(fake, uploaded(fake))
    assert (answer.status, answer.body["error"]) == (429, "ratelimited")
