"""CallsQuery: every parameter validated at construction, with an error saying what is allowed."""

from __future__ import annotations

import pytest

from stuut_pipeline.stuut_api import CallsQuery, InvalidParameterError

from ..api_page import query_parameter_options


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"limit": 0}, ["limit=0", "between 1 and 200"]),
        ({"limit": 201}, ["limit=201", "between 1 and 200"]),
        ({"limit": -5}, ["limit=-5"]),
        ({"limit": 2.5}, ["limit must be an integer", "2.5"]),
        ({"limit": False}, ["limit must be an integer", "False"]),
        ({"limit": None}, ["limit must be an integer", "None"]),
        ({"sentiment": ("happy",)}, ["sentiment=['happy']", "positive, negative, neutral"]),
        ({"sentiment": "positive,negative"}, ["sentiment=['positive,negative']"]),
        ({"classification": ("refund",)}, ["classification=['refund']", "payment_inquiry"]),
        ({"classification": ("other", "Other")}, ["classification=['Other']"]),
        ({"direction": "Inbound"}, ["direction='Inbound'", "inbound, outbound"]),
        ({"invoice": ""}, ["invoice", "inv_abc123", "''"]),
        ({"partner": "   "}, ["partner", "ptn_abc123"]),
        ({"workflow": "w" * 257}, ["workflow", "at most 256", "otwfl_abc123"]),
        ({"workflow": 12}, ["workflow", "12"]),
    ],
)
def test_each_invalid_parameter_is_refused_with_a_clear_error(kwargs, words) -> None:
    with pytest.raises(InvalidParameterError) as info:
        CallsQuery(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_every_documented_option_and_the_limit_bounds_are_accepted() -> None:
    for name in ("sentiment", "classification"):
        options = query_parameter_options(name)
        assert getattr(CallsQuery(**{name: options}), name) == options
    for direction in query_parameter_options("direction"):
        assert CallsQuery(direction=direction).direction == direction
    assert CallsQuery(limit=1).limit == 1 and CallsQuery(limit=200).limit == 200
    assert CallsQuery().limit == 50  # the page's default
    assert CallsQuery(workflow="w" * 256).workflow == "w" * 256


def test_a_single_string_is_one_value_and_lists_become_tuples() -> None:
    assert CallsQuery(sentiment="negative").sentiment == ("negative",)
    assert CallsQuery(classification=["complaint"]).classification == ("complaint",)


@pytest.mark.parametrize("page", [-1, True, "0", 1.0])
def test_invalid_pages_are_refused(page) -> None:
    with pytest.raises(InvalidParameterError, match="page must be an integer >= 0"):
        CallsQuery().params(page)


def test_params_and_describe() -> None:
    query = CallsQuery(limit=5, sentiment=("positive", "unknown"), workflow="otwfl_1")
    assert query.params(3) == [
        ("page", 3),
        ("limit", 5),
        ("sentiment", "positive"),
        ("sentiment", "unknown"),
        ("workflow", "otwfl_1"),
    ]
    assert query.describe() == "sentiment=positive sentiment=unknown workflow=otwfl_1"
    assert CallsQuery().describe() == "all calls"
