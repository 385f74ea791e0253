"""Routing: ordered routes, first match wins, every set field must match; bad routes named."""

from __future__ import annotations

import json
import re

import pytest

from alarm import Alarm
from routing import RouteError, channel_for, parse_routes

DEFAULT = "C0DEFAULT1"


def alarm(
    name: str, state: str = "ALARM", account: str = "111111111111", region: str = "eu-west-1"
):
    return Alarm(kind="alarm", source="sns", name=name, state=state, account=account, region=region)


def routes(*entries: dict) -> tuple:
    return parse_routes(json.dumps(list(entries)))


def test_first_matching_route_wins_and_unmatched_alarms_go_to_the_default() -> None:
    table = routes(
        {"channel_id": "C0DB000001", "alarm_name_prefix": "prod/db-"},
        {"channel_id": "C0PROD0001", "alarm_name_prefix": "prod/"},
    )
    assert channel_for(alarm("prod/db-primary"), table, DEFAULT) == "C0DB000001"
    assert channel_for(alarm("prod/web"), table, DEFAULT) == "C0PROD0001"
    assert channel_for(alarm("staging/web"), table, DEFAULT) == DEFAULT
    assert channel_for(alarm("prod/web"), (), DEFAULT) == DEFAULT


def test_a_prefix_matches_only_at_the_start_of_the_name() -> None:
    table = routes({"channel_id": "C0PROD0001", "alarm_name_prefix": "prod/"})
    assert channel_for(alarm("prod/web"), table, DEFAULT) == "C0PROD0001"
    assert channel_for(alarm("staging/prod/web"), table, DEFAULT) == DEFAULT
    assert channel_for(alarm("prod"), table, DEFAULT) == DEFAULT


def test_a_regex_is_searched_anywhere_and_read_as_terraform_reads_it() -> None:
    table = routes({"channel_id": "C0DB000001", "alarm_name_regex": r"db-\d+$"})
    assert channel_for(alarm("prod/db-12"), table, DEFAULT) == "C0DB000001"
    assert channel_for(alarm("prod/db-12/cpu"), table, DEFAULT) == DEFAULT
    # RE2's \d is ASCII; Python's re would take these Arabic-Indic digits.
    assert channel_for(alarm("prod/db-\u0661\u0662"), table, DEFAULT) == DEFAULT


def test_a_backtracking_regex_on_the_longest_name_is_one_pass() -> None:
    # Python's re needs seconds for this on 28 characters, and 4x more per 2 more.
    (route,) = routes({"channel_id": "C0DB000001", "alarm_name_regex": "^([a-z0-9]+-?)*-db$"})
    name = "a" * 254 + "!"
    assert channel_for(alarm(name), (route,), DEFAULT) == DEFAULT
    _, steps = route.alarm_name_regex.search_counting(name)
    assert steps <= (len(name) + 1) * len(route.alarm_name_regex.program)


def test_regex_state_account_and_region_must_all_match() -> None:
    table = routes(
        {
            "channel_id": "C0PAGE0001",
            "alarm_name_regex": "(latency|5xx)$",
            "states": ["ALARM"],
            "accounts": ["111111111111"],
            "regions": ["eu-west-1", "eu-central-1"],
        }
    )
    assert channel_for(alarm("api-latency"), table, DEFAULT) == "C0PAGE0001"
    assert channel_for(alarm("api-latency", region="eu-central-1"), table, DEFAULT) == "C0PAGE0001"
    assert channel_for(alarm("api-latency", state="OK"), table, DEFAULT) == DEFAULT
    assert channel_for(alarm("api-latency", account="222222222222"), table, DEFAULT) == DEFAULT
    assert channel_for(alarm("api-latency", region="us-east-1"), table, DEFAULT) == DEFAULT
    assert channel_for(alarm("api-latency-x"), table, DEFAULT) == DEFAULT


def test_exact_names_from_terraform_and_null_fields_are_absent() -> None:
    table = routes(
        {
            "channel_id": "C0EXACT001",
            "alarm_names": ["alerts/web/cpu"],
            "alarm_name_prefix": None,
            "alarm_name_regex": None,
            "states": None,
            "accounts": None,
            "regions": None,
        }
    )
    assert channel_for(alarm("alerts/web/cpu"), table, DEFAULT) == "C0EXACT001"
    assert channel_for(alarm("alerts/web/cpu2"), table, DEFAULT) == DEFAULT


def test_an_alarm_without_name_matches_only_routes_without_name_rules() -> None:
    table = routes(
        {"channel_id": "C0PREFIX01", "alarm_name_prefix": "X"},
        {"channel_id": "C0REGEX001", "alarm_name_regex": "."},
        {"channel_id": "C0ALL00001"},
    )
    assert channel_for(Alarm(kind="text", source="sns", text="hi"), table, DEFAULT) == "C0ALL00001"


def test_null_fields_even_unknown_ones_are_absent() -> None:
    # Terraform writes every attribute of the object type; a null one says nothing.
    (route,) = routes({"channel_id": "C0NULL0001", "future_field": None, "states": None})
    assert route.states is None
    assert channel_for(alarm("anything"), (route,), DEFAULT) == "C0NULL0001"


def test_a_route_that_is_not_a_list_is_refused_with_the_whole_message() -> None:
    with pytest.raises(RouteError) as raised:
        parse_routes("{}")
    assert str(raised.value) == "must be a JSON list of route objects"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "must be a JSON list"),
        ("[1", "not valid JSON"),
        ('[{"channel_id": "C0OK000001"}, {"alarm_name_prefix": "x"}]', "route 1: channel_id None"),
        ('[{"channel_id": "has space"}]', "route 0: channel_id 'has space'"),
        (
            '[{"channel_id": "C0OK000001", "alarm_name_regex": "("}]',
            "route 0: alarm_name_regex '('",
        ),
        (
            '[{"channel_id": "C0OK000001"},'
            ' {"channel_id": "C0OK000002", "alarm_name_regex": "a\\\\z"}]',
            "route 1: alarm_name_regex 'a\\\\z' is invalid: uses syntax outside the subset",
        ),
        ('[{"channel_id": "C0OK000001", "states": "ALARM"}]', "route 0: states must be"),
        (
            '[{"channel_id": "C0OK000001", "states": ["ALARM", 1]}]',
            "route 0: states must be a non-empty list of strings",
        ),
        (
            '[{"channel_id": "C0OK000001", "alarm_names": []}]',
            "route 0: alarm_names must be a non-empty list of strings",
        ),
        (
            '[{"channel_id": "C0OK000001", "accounts": "111111111111"}]',
            "route 0: accounts must be a non-empty list of strings",
        ),
        (
            '[{"channel_id": "C0OK000001", "regions": [null]}]',
            "route 0: regions must be a non-empty list of strings",
        ),
        (
            '[{"channel_id": "C0OK000001", "alarm_name_regex": 5}]',
            "route 0: alarm_name_regex must be a non-empty string",
        ),
        (
            '[{"channel_id": "C0OK000001", "alarm_name_regex": ""}]',
            "route 0: alarm_name_regex must be a non-empty string",
        ),
        (
            '[{"channel_id": "C0OK000001", "prefix": "x", "match": "y"}]',
            "route 0: unknown key(s) match, prefix",
        ),
        ('[{"channel_id": "C0OK000001", "prefix": "x"}]', "route 0: unknown key(s) prefix"),
        ('[{"channel_id": "C0OK000001", "alarm_name_prefix": ""}]', "route 0: alarm_name_prefix"),
        ('["C0OK000001"]', "route 0: must be an object"),
    ],
)
def test_bad_routes_are_rejected_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(RouteError, match=re.escape(message)):
        parse_routes(text)


def test_no_routes() -> None:
    assert parse_routes(None) == ()
    assert parse_routes("  ") == ()
    assert parse_routes("[]") == ()
