"""Text a customer controls, made safe for every channel it reaches: SNS subjects, SMS, e-mail bodies, report
lines, the digest, the language model's prompt and log lines.

Why one module: a name, an e-mail, a SKU name, a user agent or a customer id is whatever the shop's client sent.
A line break in it would forge an e-mail header line ("Mallory\\r\\nBcc: ...") or a log line, a bidi override
(U+202E) would show an analyst a different text than the one stored, and AWS refuses or rewrites what breaks
its rules (a Publish Subject must be ASCII without control characters and fewer than 100 characters; an SMS
carries 140 bytes). Each channel calls the one function that states its rule, so there is one list of what is
dangerous and no channel can forget it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any

# Line breaks become a space (words stay apart); every other control, separator and bidi control goes.
_LINE_BREAKS = "\r\n\t\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, lone surrogates, line/paragraph separators

# SNS Publish: "ASCII text that begins with a letter, number, or punctuation mark; must not include line breaks
# or control characters; and must be less than 100 characters long".
SUBJECT_MAX = 99

# An SMS carries 140 bytes: 160 characters of the GSM 03.38 alphabet (7 bits each), else 70 UCS-2 code units.
# A GSM text is kept to 140 characters, the DESIGN's limit and what SNS documents for ASCII text.
SMS_GSM7_MAX = 140
SMS_UCS2_MAX = 70
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")  # sent as an escape plus the character: two septets

_ASCII_FOLDS = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Ł": "L", "ł": "l", "Đ": "D",
     "đ": "d", "Þ": "Th", "þ": "th", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."}
)  # fmt: skip


def _safe(char: str) -> str:
    if char in _LINE_BREAKS:
        return " "
    if char in _BIDI_CONTROLS or unicodedata.category(char) in _DROPPED_CATEGORIES:
        return ""
    return char


def one_line(text: str) -> str:
    """`text` on one line, with no control character, line or paragraph separator, lone surrogate or bidi
    control: what any line of an e-mail, report, digest, prompt or SMS may hold."""
    return "".join(_safe(c) for c in text.replace("\r\n", "\n"))


def one_line_values(value: Any) -> Any:
    """Every string inside a JSON-like value through one_line (the facts a prompt is written from)."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        return {one_line_values(k): one_line_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [one_line_values(v) for v in value]
    return value


def ascii_line(text: str) -> str:
    """one_line, transliterated to printable ASCII ("Zoë Müller" → "Zoe Muller"); what has no ASCII form is "?"."""
    decomposed = unicodedata.normalize("NFKD", one_line(text).translate(_ASCII_FOLDS))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in letters)


def clip(text: str, limit: int, marker: str = "...", cost: Callable[[str], int] = lambda c: 1) -> str:
    """`text` within `limit` (counted by `cost` per character), cut at the end with `marker`."""
    if sum(map(cost, text)) <= limit:
        return text
    room = limit - sum(map(cost, marker))
    kept, used = [], 0
    for char in text:
        used += cost(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept).rstrip() + marker


def sns_subject(text: str) -> str:
    """A Publish Subject AWS accepts: printable ASCII starting with a letter, number or punctuation mark, fewer
    than 100 characters."""
    subject = ascii_line(text).strip()
    return clip(subject, SUBJECT_MAX) if subject else "Shopwatch"


def _septets(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_text(text: str, suffix: str = "") -> str:
    """One SMS: one line, within 140 GSM characters, or 70 UCS-2 code units when a character is outside the GSM
    alphabet (SNS then sends UCS-2; a longer text would be split into several billed messages). `suffix` (our
    own words, e.g. what the SMS budget held back) is kept whole and the text clipped before it."""
    line = " ".join(one_line(text).split())
    tail = one_line(suffix)
    if is_gsm7(line + tail):
        return clip(line, SMS_GSM7_MAX - sum(map(_septets, tail)), "...", _septets) + tail
    return clip(line, SMS_UCS2_MAX - sum(map(_utf16_units, tail)), "…", _utf16_units) + tail


def ascii_json(value: Any, **dumps: Any) -> str:
    """JSON with every character outside printable ASCII escaped (DEL too, which json leaves raw): the exact
    values for a machine, and nothing in the text that could break or disguise a line for a person reading it."""
    return json.dumps(value, ensure_ascii=True, **dumps).replace("\x7f", "\\u007f")


def log_json(record: dict[str, Any]) -> str:
    """Powertools' log serializer (Logger's `json_serializer`) as ascii_json: Powertools' own writes non-ASCII
    raw, so a C1 control, line separator or bidi override in a logged value would reach CloudWatch as is."""
    return ascii_json(record, default=str, separators=(",", ":"))
