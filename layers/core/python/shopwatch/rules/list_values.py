"""A list entry's value by the list's kind: checked, and written in the one form the engine matches.

Why normalise at the door: `listed("blocked_emails", tx.email)` compares strings. "Bad@Example.com" and
"bad@example.com" are one mailbox, "2001:DB8::1" and "2001:db8::1" one address, "gb" and "GB" one country; each is
stored in one form so that a lookup is one comparison. The API, the CLI's CSV import and the dashboard all go
through `normalise_value`, so a value refused by one is refused by all.
"""

from __future__ import annotations

import ipaddress
import re

from shopwatch.domain.geography import normalize_country
from shopwatch.domain.input_rules import CONTROL_CLASS, reject_card_number, reject_unaddressable
from shopwatch.rules.definitions import ListKind

MAX_TEXT = 128  # device, customer and fingerprint values: the contract's limit for those fields
MAX_EMAIL = 254  # RFC 5321's path limit, as the transaction contract
_EMAIL = re.compile(rf"^[^@\s{CONTROL_CLASS}]{{1,64}}@[^@\s{CONTROL_CLASS}]{{1,252}}$")
_CARD_BIN = re.compile(r"^[0-9]{6,8}$")

RULES = {
    ListKind.EMAIL: "an e-mail address (stored lower-cased)",
    ListKind.IP: "an IPv4 or IPv6 address, or a network in CIDR notation (e.g. 203.0.113.0/24) without host bits",
    ListKind.CARD_BIN: "6 to 8 digits",
    ListKind.COUNTRY: "an ISO 3166-1 alpha-2 code (e.g. GB) or an English country name (stored as the code)",
    ListKind.DEVICE: f"text of 1 to {MAX_TEXT} characters without control characters",
    ListKind.CUSTOMER: f"text of 1 to {MAX_TEXT} characters without control characters",
    ListKind.CARD_FINGERPRINT: f"text of 1 to {MAX_TEXT} characters without control characters or a card number",
}


def normalise_value(kind: ListKind, value: str) -> str:
    """`value` in its stored form for a list of `kind`; a ValueError saying what the kind takes otherwise."""
    try:
        return _NORMALISERS[kind](value)
    except ValueError as exc:
        reason = str(exc)
        raise ValueError(f"must be {RULES[kind]}" + (f" ({reason})" if reason else "")) from None


def _email(value: str) -> str:
    text = value.strip()
    if len(text) > MAX_EMAIL or not _EMAIL.fullmatch(text):
        raise ValueError("")
    return text.lower()


def _ip(value: str) -> str:
    text = value.strip()
    if "%" in text:  # a zone index names an interface of one host, nothing a shop's customer sends
        raise ValueError("no zone index")
    if "/" not in text:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise ValueError("") from None
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError("has host bits set" if "host bits" in str(exc) else "") from None
    if network.num_addresses == 1:  # a /32 (or /128) is the address itself: one form for one address
        return str(network.network_address)
    return str(network)


def _card_bin(value: str) -> str:
    text = value.strip()
    if not _CARD_BIN.fullmatch(text):
        raise ValueError("")
    return text


def _country(value: str) -> str:
    try:
        return normalize_country(value)
    except ValueError:
        raise ValueError("") from None


def _text(value: str) -> str:
    if not value.strip() or len(value) > MAX_TEXT:
        raise ValueError("")
    return reject_unaddressable(value)  # read back (and removed) as one URL path segment


def _fingerprint(value: str) -> str:
    return reject_card_number(_text(value))


_NORMALISERS = {
    ListKind.EMAIL: _email,
    ListKind.IP: _ip,
    ListKind.CARD_BIN: _card_bin,
    ListKind.COUNTRY: _country,
    ListKind.DEVICE: _text,
    ListKind.CUSTOMER: _text,
    ListKind.CARD_FINGERPRINT: _fingerprint,
}
