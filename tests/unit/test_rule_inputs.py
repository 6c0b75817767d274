"""What a rule or a list entry must be before anything is stored: each kind's values in the one form the engine
matches, each bad field named, and an expression refused with the checker's position."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopwatch.domain.severity import Severity
from shopwatch.errors import ValidationFailed
from shopwatch.rules.definitions import Decision, ListKind, RuleMode
from shopwatch.rules.list_values import normalise_value
from shopwatch.rules.service import InvalidExpression, ItemDraft, RuleDraft, check_draft, check_items, slug
from tests.builders import T0

GOOD = RuleDraft("Big order", "", "tx.amount > 500.0", RuleMode.SHADOW, severity=Severity.MEDIUM)


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        (ListKind.EMAIL, " Fraud@Example.COM ", "fraud@example.com"),
        (ListKind.IP, "203.0.113.7", "203.0.113.7"),
        (ListKind.IP, "2001:DB8:0:0::1", "2001:db8::1"),
        (ListKind.IP, "203.0.113.0/24", "203.0.113.0/24"),
        (ListKind.IP, "2001:db8::/32", "2001:db8::/32"),
        (ListKind.IP, "203.0.113.7/32", "203.0.113.7"),
        (ListKind.CARD_BIN, "411111", "411111"),
        (ListKind.CARD_BIN, "41111111", "41111111"),
        (ListKind.COUNTRY, "gb", "GB"),
        (ListKind.COUNTRY, "Germany", "DE"),
        (ListKind.DEVICE, "dev 42/α", "dev 42/α"),
        (ListKind.CUSTOMER, "C-1", "C-1"),
        (ListKind.CARD_FINGERPRINT, "fp_9a8b7c", "fp_9a8b7c"),
    ],
)
def test_a_value_is_stored_in_the_form_its_kind_is_matched_in(kind, given, stored):
    assert normalise_value(kind, given) == stored


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        (ListKind.EMAIL, "no-at-sign"),
        (ListKind.EMAIL, "two@@example.com"),
        (ListKind.EMAIL, "in side@example.com"),
        (ListKind.IP, "203.0.113.256"),
        (ListKind.IP, "203.0.113.7/24"),  # host bits set: the network is 203.0.113.0/24
        (ListKind.IP, "fe80::1%eth0"),
        (ListKind.IP, "example.com"),
        (ListKind.CARD_BIN, "41111"),
        (ListKind.CARD_BIN, "411111111"),
        (ListKind.CARD_BIN, "4111a1"),
        (ListKind.COUNTRY, "XX"),
        (ListKind.COUNTRY, "Atlantis"),
        (ListKind.DEVICE, ""),
        (ListKind.DEVICE, "   "),
        (ListKind.DEVICE, "x" * 129),
        (ListKind.DEVICE, "dev\n1"),
        (ListKind.CUSTOMER, "a\u202eb"),
        (ListKind.CUSTOMER, ".."),
        (ListKind.CARD_FINGERPRINT, "4111 1111 1111 1111"),
    ],
)
def test_a_value_not_of_its_kind_is_refused_saying_what_the_kind_takes(kind, given):
    with pytest.raises(ValueError, match="must be"):
        normalise_value(kind, given)


def test_every_bad_entry_is_named_by_its_index_and_field():
    drafts = [
        ItemDraft("fraud@example.com", "chargebacks"),
        ItemDraft("not an email", "x"),
        ItemDraft("ok@example.com", " "),
        ItemDraft("late@example.com", "x", T0 - timedelta(seconds=1)),
    ]
    with pytest.raises(ValidationFailed) as refused:
        check_items(ListKind.EMAIL, drafts, "ana", T0)
    assert [d["field"] for d in refused.value.details] == ["items.1.value", "items.2.reason", "items.3.expires_at"]


def test_two_entries_that_normalise_to_one_value_are_refused():
    drafts = [ItemDraft("Fraud@example.com", "a"), ItemDraft("fraud@EXAMPLE.com", "b")]
    with pytest.raises(ValidationFailed) as refused:
        check_items(ListKind.EMAIL, drafts, "ana", T0)
    assert refused.value.details == [{"field": "items.1.value", "message": "repeats item 0 (fraud@example.com)"}]


def test_good_entries_are_normalised_and_recorded_under_who_added_them():
    (entry,) = check_items(ListKind.IP, [ItemDraft("2001:DB8::1", "proxy", T0 + timedelta(days=1))], "ana", T0)
    assert (entry.value, entry.reason, entry.added_by, entry.added_at) == ("2001:db8::1", "proxy", "ana", T0)
    assert entry.expires_at == T0 + timedelta(days=1)


def test_a_rule_without_an_outcome_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        check_draft(RuleDraft("No outcome", "", "tx.amount > 1.0", RuleMode.SHADOW))
    assert refused.value.details[0]["field"] == "severity"


def test_a_rule_may_not_decide_allow():
    with pytest.raises(ValidationFailed) as refused:
        check_draft(RuleDraft("Allow", "", "true", RuleMode.SHADOW, decision=Decision.ALLOW))
    assert refused.value.details[0]["field"] == "decision"


@pytest.mark.parametrize("name", ["", "   ", "two\nlines", "x" * 129])
def test_a_rule_name_is_one_line_that_says_something(name):
    with pytest.raises(ValidationFailed):
        check_draft(RuleDraft(name, "", "true", RuleMode.SHADOW, score=10))


def test_an_expression_the_checker_refuses_is_an_invalid_expression_with_its_position():
    with pytest.raises(InvalidExpression) as refused:
        check_draft(RuleDraft("Broken", "", "tx.amount >", RuleMode.SHADOW, score=10))
    assert refused.value.status == 400 and refused.value.code == "invalid_expression"
    (problem, *_) = refused.value.details["problems"]
    assert problem["line"] == 1 and problem["column"] is not None


def test_a_valid_rule_passes():
    check_draft(GOOD)


@pytest.mark.parametrize(
    ("name", "rule_id"),
    [("Big first order", "big-first-order"), ("  Über €500!! ", "ber-500"), ("!!!", "rule"), ("x" * 80, "x" * 64)],
)
def test_a_rule_id_is_made_from_its_name(name, rule_id):
    assert slug(name) == rule_id
