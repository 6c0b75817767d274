"""Money and other exact numbers: Decimal from the request body to DynamoDB and back, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_NUMERIC = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?$")  # ASCII digits only: Decimal also reads "٣" and "３"
CENT = Decimal("0.01")


def to_decimal(value: object, *, places: int, maximum: Decimal, allow_negative: bool = False) -> Decimal:
    """Validate a JSON number (already parsed as Decimal or int) or numeric string as an exact amount.

    Rejects bools, floats (they would have lost precision already), NaN/Infinity, too many decimal places,
    negative values and values above `maximum`, with messages a client can act on.
    """
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError("must be a number")
    if isinstance(value, str):
        if not _NUMERIC.match(value.strip()):
            raise ValueError("must be a number")
        value = value.strip()
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
    return number.quantize(Decimal(1).scaleb(-places)) if number.as_tuple().exponent < -places else number


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Two decimals with a thousands separator, as people read amounts: 50,000.00."""
    return f"{round_cents(amount):,.2f}"
