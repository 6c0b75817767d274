"""Whatever a customer sends (name, customer id, SKU name), every channel it reaches keeps AWS's documented rules
and one line per line: the SNS subject, the SMS, the e-mail, the default JSON, report lines, the digest, the
language model's prompt and log lines. The rules are asserted as AWS documents them, not as moto accepts them."""

from __future__ import annotations

import json
import logging
import string
import unicodedata
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.digest.service import Digest, digest_message
from shopwatch.domain.alert import open_alert
from shopwatch.domain.severity import Severity
from shopwatch.domain.text import GSM7_BASIC, GSM7_EXTENSION, log_json
from shopwatch.narrative.facts import alert_facts
from shopwatch.narrative.prompts import ALERT_INSTRUCTIONS, messages
from shopwatch.notify.messages import build_message
from shopwatch.reports.service import report_line
from tests.builders import T0, tx

HOSTILE = [
    "Mallory\r\nBcc: attacker@evil.example",
    "nul\x00byte",
    "bell\x07 escape\x1b[31mred\x1b[0m del\x7f",
    "c1 next line\x85 csi\x9b",
    "line\u2028separator\u2029paragraph",
    "\u202egnp.exe",
    "isolated\u2066hidden\u2069 marks\u200e\u200f",
    "tab\there vt\vff\f",
    "N" * 300,
    "emoji 😀 family 👩\u200d👩\u200d👧",
    "Zoë Müller",
    "   leading spaces",
]
BREAKS_AND_HIDDEN = {"\u2028", "\u2029", "\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F))}
BREAKS_AND_HIDDEN |= set(map(chr, range(0x2066, 0x206A)))


def is_clean_line(text: str) -> bool:
    """No control character (C0, DEL, C1), line/paragraph separator, bidi control or lone surrogate."""
    return not any(
        unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BREAKS_AND_HIDDEN for c in text
    ) and text == text.strip("\r\n")


def hostile_alert(text: str):
    """An alert whose customer name, customer id and SKU name are all `text`, as detection writes it."""
    finding = Finding(
        "price",
        Severity.CRITICAL,
        (Reason("price_discount", f"{text} sold at 5.00 USD, 99.0% below its catalog price", "5.00", "500.00"),),
        f"Transaction t1: {text} ({text}) bought {text} for 5.00 USD, 99.0% below its catalog price of 500.00 USD",
    )
    purchase = tx("t1", text, customer_name=text, amount="5.00")
    return open_alert(finding, Severity.CRITICAL, Decimal("99"), purchase, 3600, T0)


def assert_sns_subject(subject: str) -> None:
    """SNS Publish: ASCII text beginning with a letter, number or punctuation mark, no line breaks or control
    characters, fewer than 100 characters."""
    assert 0 < len(subject) < 100
    assert all(" " <= c <= "~" for c in subject), subject
    assert subject[0].isalnum() or subject[0] in string.punctuation


def assert_one_sms(sms: str) -> None:
    """One SMS carries 140 bytes: 160 GSM 03.38 septets (an extension character takes two), or 70 UCS-2 units."""
    assert is_clean_line(sms)
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in sms):
        assert sum(2 if c in GSM7_EXTENSION else 1 for c in sms) * 7 <= 140 * 8
    else:
        assert len(sms.encode("utf-16-le")) <= 140, sms


def assert_lines(text: str) -> None:
    assert "\r" not in text
    for line in text.split("\n"):
        assert is_clean_line(line), repr(line)
        assert not line.startswith("Bcc:")


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("escalated", [False, True])
def test_the_sns_subject_keeps_the_publish_rules(text, escalated):
    assert_sns_subject(build_message(hostile_alert(text), escalated=escalated).subject)


def test_a_line_break_in_a_name_cannot_forge_a_header_in_the_subject():
    subject = build_message(hostile_alert("Mallory\r\nBcc: attacker@evil.example"), escalated=False).subject
    assert "\r" not in subject and "\n" not in subject
    assert "Mallory Bcc: attacker@evil.example" in subject


def test_a_non_ascii_name_is_transliterated_in_the_subject():
    subject = build_message(replace(hostile_alert("x"), customer_name="Zoë Müller"), escalated=False).subject
    assert subject == "[Shopwatch] CRITICAL price anomaly - Zoe Muller (x)"


@pytest.mark.parametrize("text", HOSTILE)
def test_the_sms_is_one_message(text):
    assert_one_sms(build_message(hostile_alert(text), escalated=True).sms)


def test_an_sms_with_a_character_outside_the_gsm_alphabet_fits_70_units():
    sms = build_message(hostile_alert("Zoë " * 40), escalated=False).sms
    assert len(sms.encode("utf-16-le")) <= 140 and sms.endswith("…")


def test_a_gsm_sms_keeps_140_characters():
    sms = build_message(hostile_alert("Müller " * 40), escalated=False).sms
    assert len(sms) == 140 and sms.endswith("...")


@pytest.mark.parametrize("text", HOSTILE)
def test_every_email_line_is_one_clean_line(text):
    assert_lines(build_message(replace(hostile_alert(text), narrative=text), escalated=False).email)


@pytest.mark.parametrize("text", HOSTILE)
def test_the_default_json_is_printable_ascii_and_keeps_the_exact_values(text):
    message = build_message(hostile_alert(text), escalated=False)
    for wire in (message.default, message.structure()):
        assert all(" " <= c <= "~" for c in wire)
    body = json.loads(message.default)
    assert body["customer_id"] == text and body["customer_name"] == text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_report_line_is_one_clean_line(text):
    line = report_line(hostile_alert(text))
    assert is_clean_line(line) and "\n" not in line


@pytest.mark.parametrize("text", HOSTILE)
def test_the_digest_keeps_every_channel_rule(text):
    alert = hostile_alert(text)
    digest = Digest(
        date(2025, 9, 16),
        {"price": {"critical": 1}},
        [{"customer": f"{text} ({text})", "alerts": 1, "highest": "critical"}],
        [alert],
        1,
        {"overall": None, "detectors": {"price": None}},
        1,
        overview=text,
    )
    message = digest_message(digest)
    assert_sns_subject(message.subject)
    assert_one_sms(message.sms)
    assert_lines(message.email)
    assert all(" " <= c <= "~" for c in message.default)


@pytest.mark.parametrize("text", HOSTILE)
def test_the_narrative_prompt_holds_only_clean_lines(text):
    prompt = messages(ALERT_INSTRUCTIONS, alert_facts(hostile_alert(text), include_customer_name=True))
    content = prompt[1]["content"]
    assert is_clean_line(content) and "\n" not in content

    def strings(value):
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in (k, *strings(v))]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    assert all(is_clean_line(s) and "\n" not in s and "\r" not in s for s in strings(json.loads(content)))


@pytest.mark.parametrize("text", HOSTILE)
def test_a_log_record_is_one_line_of_printable_ascii(text):
    record = logging.LogRecord("shopwatch", logging.INFO, __file__, 1, f"no customer {text}", None, None)
    record.customer_id = text
    line = LambdaPowertoolsFormatter(json_serializer=log_json).format(record)
    assert all(" " <= c <= "~" for c in line)
    assert json.loads(line)["customer_id"] == text
