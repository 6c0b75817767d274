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


# What the API takes as a country or a currency, exactly: the enums /openapi.json publishes. Alpha-2 codes in
# capitals or lower case and the English names as COUNTRY_NAMES writes them. Other spellings ("Gb", " GB",
# "united  kingdom", alpha-3 codes) are refused rather than guessed at: a schema can list these values, while
# "any case, any spacing, any alias" would be a promise no enum states. (Files read by the CLI's loaders still go
# through normalize_country's aliases.)
COUNTRY_INPUTS: frozenset[str] = frozenset(
    set(COUNTRY_NAMES) | {code.lower() for code in COUNTRY_NAMES} | set(COUNTRY_NAMES.values())
)
CURRENCY_INPUTS: frozenset[str] = frozenset(CURRENCY_CODES | {code.lower() for code in CURRENCY_CODES})


def country_from_input(text: str) -> str:
    """A country as a client sent it (one of COUNTRY_INPUTS) as its alpha-2 code."""
    if text not in COUNTRY_INPUTS:
        raise ValueError("must be an ISO 3166-1 alpha-2 code (e.g. GB) or an English country name")
    return normalize_country(text)


def currency_from_input(text: str) -> str:
    """A currency as a client sent it (one of CURRENCY_INPUTS) as its ISO 4217 code in capitals."""
    if text not in CURRENCY_INPUTS:
        raise ValueError("must be an ISO 4217 currency code (e.g. USD, EUR, GBP), in capitals or lower case")
    return normalize_currency(text)
