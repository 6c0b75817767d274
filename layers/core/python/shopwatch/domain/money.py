"""Money and other exact numbers: Decimal from the request body to DynamoDB and back, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# A numeric string as the API reads it: ASCII digits only (Decimal also reads "٣" and "３"), no sign unless negatives
# are allowed, no padding, no leading zeros, no exponent. One canonical form, so its JSON Schema pattern
# (decimal_string_pattern) states exactly what is accepted.
_NUMERIC = re.compile(r"^(-?)(0|[1-9][0-9]{0,19})(\.[0-9]+)?$")
CENT = Decimal("0.01")


def decimal_string_pattern(places: int, maximum: Decimal) -> str:
    """The JSON Schema pattern of the strings to_decimal(places=places, maximum=maximum) accepts (not negative):
    at most `places` significant decimals (trailing zeros are only a way of writing), at most `maximum`, which
    must be a power of ten."""
    digits = len(str(int(maximum))) - 1
    if maximum != Decimal(10) ** digits:
        raise ValueError("maximum must be a power of ten")
    below = rf"(0|[1-9][0-9]{{0,{digits - 1}}})(\.[0-9]{{1,{places}}}0*)?"
    return rf"^({below}|1{'0' * digits}(\.0+)?)$"


def to_decimal(value: object, *, places: int, maximum: Decimal, allow_negative: bool = False) -> Decimal:
    """Validate a JSON number (already parsed as Decimal or int) or numeric string as an exact amount.

    Rejects bools, floats (they would have lost precision already), NaN/Infinity, too many decimal places,
    negative values and values above `maximum`, with messages a client can act on.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError("must be a number")
    if isinstance(value, str):
        match = _NUMERIC.fullmatch(value)  # fullmatch: `$` alone lets a trailing newline through
        if not match:
            raise ValueError("must be a number")  # ASCII digits and a decimal point; no padding or leading zeros
        if match.group(1) and not allow_negative:
            raise ValueError("must be greater than or equal to 0")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number < 0 and not allow_negative:
        raise ValueError("must be greater than or equal to 0")
    if abs(number) > maximum:
        raise ValueError(f"must not exceed {maximum}")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"must have at most {places} decimal places")
    exponent = number.as_tuple().exponent  # an int: the number is finite
    return number.quantize(Decimal(1).scaleb(-places)) if isinstance(exponent, int) and exponent < -places else number


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Two decimals with a thousands separator, as people read amounts: 50,000.00."""
    return f"{round_cents(amount):,.2f}"
