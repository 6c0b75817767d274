"""Country input rules: an ISO 3166-1 alpha-2 code or an English country name, normalised to the code."""

from __future__ import annotations

from shopwatch.domain.countries import COUNTRY_ALIASES, COUNTRY_NAMES
from shopwatch.domain.currencies import CURRENCY_CODES

_BY_NAME = {name.lower(): code for code, name in COUNTRY_NAMES.items()} | COUNTRY_ALIASES


def normalize_country(text: str) -> str:
    """Return the alpha-2 code for a code or English name; raise ValueError naming the rule otherwise."""
    candidate = text.strip()
    if len(candidate) == 2 and candidate.upper() in COUNTRY_NAMES:
        return candidate.upper()
    code = _BY_NAME.get(" ".join(candidate.lower().split()))
    if code is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 code (e.g. GB) or an English country name")
    return code


def country_name(code: str | None) -> str:
    return COUNTRY_NAMES.get(code or "", code or "unknown")


def normalize_currency(text: str) -> str:
    code = text.strip().upper()
    if code not in CURRENCY_CODES:
        raise ValueError("must be an ISO 4217 currency code (e.g. USD, EUR, GBP)")
    return code
