"""records.frozen: the immutable records of the webhook path behave as frozen dataclasses do."""

from __future__ import annotations

import datetime as dt

import pytest

from records import FrozenRecordError, field, frozen, is_record, replace


@frozen
class Point:
    """A test record."""

    x: int
    y: int = 0
    label: str = field(default="", compare=False)
    hidden: str | None = field(default=None, repr=False)
    zone: dt.tzinfo = field(default=dt.UTC, compare=False)


def test_fields_take_positional_and_keyword_arguments_with_defaults() -> None:
    p = Point(1, y=2)
    assert (p.x, p.y, p.label, p.hidden, p.zone) == (1, 2, "", None, dt.UTC)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=3)  # type: ignore[call-arg]


def test_a_record_cannot_be_changed() -> None:
    p = Point(1)
    with pytest.raises(FrozenRecordError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y
    assert p.x == 1


def test_equality_and_hash_use_the_compared_fields_of_the_same_class() -> None:
    assert Point(1, 2, label="a") == Point(1, 2, label="b")
    assert hash(Point(1, 2, label="a")) == hash(Point(1, 2, label="b"))
    assert Point(1, 2) != Point(1, 3)
    assert len({Point(1, 2), Point(1, 2), Point(2, 2)}) == 2

    @frozen
    class Other:
        x: int
        y: int = 0

    assert Point(1, 2) != Other(1, 2)


def test_repr_leaves_out_fields_marked_repr_false() -> None:
    text = repr(Point(1, hidden="https://hooks.slack.com/services/T/B/x"))
    assert text.startswith("Point(x=1, y=0, label=''")
    assert "hooks.slack.com" not in text


def test_replace_copies_with_changes_and_names_unknown_fields() -> None:
    p = Point(1, 2, label="a")
    q = replace(p, y=5)
    assert (q.x, q.y, q.label) == (1, 5, "a")
    assert p.y == 2
    with pytest.raises(TypeError, match="nope"):
        replace(p, nope=1)
    assert is_record(p)
    assert not is_record(object())


def test_a_field_without_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="'b'"):

        @frozen
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_webhook_path_settings_hide_the_webhook_url_from_repr() -> None:
    from settings import load_settings  # noqa: PLC0415

    url = "https://hooks.slack.com/services/T0/B0/records-secret"
    settings = load_settings({"SLACK_WEBHOOK_URL": url})
    assert settings.webhook_url == url
    assert "records-secret" not in repr(settings)
