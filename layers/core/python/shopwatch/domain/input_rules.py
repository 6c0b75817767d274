"""Rules every text a client sends must pass before it is stored: no control characters, ids that can be
addressed in a URL, and no card number where only a card's BIN or the provider's fingerprint belongs.

Why refuse instead of cleaning: a stored value is read back through URLs, dashboards, e-mails and SMS. A NUL or
a line break in a customer id can neither be addressed (`GET /customers/{id}`) nor shown safely, and a silent
rewrite would make the shop's id and ours differ. A full card number must never reach storage or logs (PCI DSS):
it is refused with a message that does not repeat it.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, the Unicode line/paragraph separators (they break lines in most readers) and the
# format characters, as the body of a regex character class that Python, pydantic's Rust engine and JSON Schema
# readers all parse alike; the schemas publish exactly the rule the server checks.
# FORMAT_CHARACTERS is Unicode 15.1's category Cf (a unit test compares it with the running Python's unicodedata).
FORMAT_CHARACTERS = (
    r"\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + FORMAT_CHARACTERS
SINGLE_LINE_TEXT = f"^[^{CONTROL_CLASS}]*$"
# one line that says something: SINGLE_LINE_TEXT with at least one character that is not white space
ONE_LINE_TEXT = rf"^[^{CONTROL_CLASS}]*[^{CONTROL_CLASS}\s][^{CONTROL_CLASS}]*$"
# what reject_unaddressable refuses besides control characters: "." or ".." as a path segment
DOT_SEGMENT = r"(^|/)\.{1,2}(/|$)"
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def has_control_characters(text: str) -> bool:
    """True when `text` holds a control character, or a Unicode format character used to hide text (bidi
    overrides such as U+202E) — both render unpredictably and can forge what an analyst reads."""
    return bool(_CONTROL.search(text))


def reject_control_characters(text: str) -> str:
    if has_control_characters(text):
        raise ValueError("must not contain control characters, line breaks or invisible formatting characters")
    return text


def reject_unaddressable(identifier: str) -> str:
    """Ids are read back as one URL path segment; dot segments ("." and "..", alone or between slashes) are
    removed by every HTTP client and proxy (RFC 3986 §5.2.4), so such an id could never be read."""
    reject_control_characters(identifier)
    if any(segment in {".", ".."} for segment in identifier.split("/")):
        raise ValueError('must not be "." or ".." or contain them as path segments')
    return identifier


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """True when `text` holds what looks like a full card number (a PAN): 13 to 19 digits, optionally grouped by
    spaces or dashes, passing the Luhn check."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def reject_card_number(text: str) -> str:
    if contains_card_number(text):
        raise ValueError("must not contain a full card number (send the BIN or the payment provider's fingerprint)")
    return text


def normalized_email(email: str) -> str:
    """The form e-mails are matched in: surrounding space removed, case folded (providers treat addresses
    case-insensitively in practice, and shops store them as typed)."""
    return email.strip().lower()
