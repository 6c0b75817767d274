"""Runtime settings read from the environment.

Why one place: handlers must not carry magic numbers. The template sets these variables from its parameters,
the local stack sets the same ones, and tests override them explicitly. Every setting has a documented default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

from shopwatch.domain.severity import Severity


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _decimal_map(text: str) -> dict[str, Decimal]:
    """Parse "a=1.0,b=0.5" into {"a": Decimal("1.0"), "b": Decimal("0.5")}."""
    result: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {part!r}")
        result[key.strip()] = Decimal(value.strip())
    return result


def _int_map(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in _decimal_map(text).items()}


def _decimal_pair(text: str) -> tuple[Decimal, Decimal] | None:
    """Parse "0.5-3.5" into (Decimal("0.5"), Decimal("3.5")); empty: None."""
    if not text:
        return None
    low, sep, high = text.partition("-")
    if not sep:
        raise ValueError(f"expected low-high, got {text!r}")
    return Decimal(low.strip()), Decimal(high.strip())


def _severity_thresholds(text: str) -> dict[Severity, Decimal]:
    return {Severity.parse(k): v for k, v in _decimal_map(text).items()}


@dataclass(frozen=True)
class DetectionSettings:
    """Thresholds of the per-transaction detectors and the risk scorer."""

    price_thresholds: dict[Severity, Decimal] = field(
        default_factory=lambda: {
            Severity.MEDIUM: Decimal("0.20"),
            Severity.HIGH: Decimal("0.25"),
            Severity.CRITICAL: Decimal("0.60"),
        }
    )
    price_min_history: int = 5
    # --- prices that learn the shop (issue 16; see detectors/price.py) ---
    price_unpriced_skus: frozenset[str] = frozenset()  # lines priced case by case: postage, fees, adjustments
    price_unpriced_levels: int = 20  # a SKU sold at this many distinct prices has no list price
    price_seen_lines: int = 2  # a price charged on this many earlier lines of the SKU is one of the shop's prices
    price_list_range: tuple[Decimal, Decimal] = (Decimal("0.7"), Decimal("3.5"))  # factors a price list moves by
    price_list_tolerance: Decimal = Decimal("0.1")  # a line moved from its median by more than this
    price_list_min_lines: int = 2  # lines that must move together to make a price list
    price_sigma: Decimal = Decimal("3")  # learned prices: how many of the SKU's log-price spreads, per basket
    price_log_sigma_floor: Decimal = Decimal("0.1")  # the spread of a SKU sold at one price
    # a learned price pages only past these multiples of the lowest / highest price ever charged for the SKU
    price_page_below: Decimal = Decimal("0.3")
    price_page_above: Decimal = Decimal("1.5")
    velocity_max_transactions: int = 5
    velocity_window_seconds: int = 60
    card_testing_max_failures: int = 4
    card_testing_window_seconds: int = 120  # automated attempts come seconds apart, a person's retries do not
    failed_statuses: frozenset[str] = frozenset({"failed", "denied"})
    failed_burst_window_seconds: int = 600
    failed_burst_thresholds: dict[Severity, int] = field(
        default_factory=lambda: {Severity.MEDIUM: 5, Severity.HIGH: 8, Severity.CRITICAL: 12}
    )
    failed_report_min: int = 3  # failures within the burst window before they are reported (issue 16)
    geo_min_history: int = 3
    quantity_sigma: Decimal = Decimal("2.5")  # on the log scale, per basket (see tails.basket_sigma)
    quantity_min_ratio: Decimal = Decimal("5")  # times the usual (geometric mean) quantity
    quantity_log_sigma_floor: Decimal = Decimal("0.5")
    quantity_customer_min_history: int = 5
    quantity_sku_min_history: int = 10
    quantity_scale_min_lines: int = 3  # lines a basket needs to be judged as a bigger order (quantity.order_scale)
    # entity detectors (shared identity, new accounts, rings, country mismatch)
    shared_identity_min_accounts: dict[str, int] = field(
        default_factory=lambda: {"device": 2, "card": 2, "email": 2, "ip": 4}
    )
    shared_identity_score_per_account: Decimal = Decimal("0.15")
    account_max_linked: dict[str, int] = field(default_factory=lambda: {"card": 3, "device": 5})
    new_account_instant_seconds: int = 60
    new_account_instant_score: Decimal = Decimal("0.6")
    new_account_max_age_seconds: int = 3600
    new_account_burst: int = 3
    ring_min_transactions: int = 2
    entity_max_failures: int = 5
    model_signal_weight: Decimal = Decimal("0.1")
    quantity_sku_sigma: Decimal = Decimal("2.5")  # and more than the item's buyers usually take (issue 16)
    detector_weights: dict[str, Decimal] = field(
        default_factory=lambda: {
            "shared_identity": Decimal("0.8"),
            "new_account": Decimal("1.0"),
            "entity_velocity": Decimal("0.9"),
            "country_mismatch": Decimal("0.6"),
            "price": Decimal("1.0"),
            "velocity": Decimal("0.9"),
            "failed_payment": Decimal("0.6"),
            "geo": Decimal("0.7"),
            "quantity": Decimal("0.7"),
            "model": Decimal("0.6"),
        }
    )
    risk_thresholds: dict[Severity, Decimal] = field(
        default_factory=lambda: {
            Severity.MEDIUM: Decimal("40"),
            Severity.HIGH: Decimal("65"),
            Severity.CRITICAL: Decimal("85"),
        }
    )
    alert_group_window_seconds: int = 3600
    model_artifact: str = "default"  # the model layer's shipped model, a directory, or "off"
    model_refresh_seconds: int = 60  # how often DetectFunction re-reads the registry's champion and challenger

    @classmethod
    def from_env(cls) -> DetectionSettings:
        d = cls()
        return cls(
            price_thresholds=_severity_thresholds(_env("PRICE_THRESHOLDS", "")) or d.price_thresholds,
            price_min_history=int(_env("PRICE_MIN_HISTORY", str(d.price_min_history))),
            price_unpriced_skus=frozenset(
                filter(None, (s.strip() for s in _env("PRICE_UNPRICED_SKUS", "").split(",")))
            ),
            price_unpriced_levels=int(_env("PRICE_UNPRICED_LEVELS", str(d.price_unpriced_levels))),
            price_seen_lines=int(_env("PRICE_SEEN_LINES", str(d.price_seen_lines))),
            price_list_range=_decimal_pair(_env("PRICE_LIST_RANGE", "")) or d.price_list_range,
            price_list_tolerance=Decimal(_env("PRICE_LIST_TOLERANCE", str(d.price_list_tolerance))),
            price_list_min_lines=int(_env("PRICE_LIST_MIN_LINES", str(d.price_list_min_lines))),
            price_sigma=Decimal(_env("PRICE_SIGMA", str(d.price_sigma))),
            price_log_sigma_floor=Decimal(_env("PRICE_LOG_SIGMA_FLOOR", str(d.price_log_sigma_floor))),
            price_page_below=Decimal(_env("PRICE_PAGE_BELOW", str(d.price_page_below))),
            price_page_above=Decimal(_env("PRICE_PAGE_ABOVE", str(d.price_page_above))),
            velocity_max_transactions=int(_env("VELOCITY_MAX_TRANSACTIONS", str(d.velocity_max_transactions))),
            velocity_window_seconds=int(_env("VELOCITY_WINDOW_SECONDS", str(d.velocity_window_seconds))),
            card_testing_max_failures=int(_env("CARD_TESTING_MAX_FAILURES", str(d.card_testing_max_failures))),
            card_testing_window_seconds=int(_env("CARD_TESTING_WINDOW_SECONDS", str(d.card_testing_window_seconds))),
            failed_statuses=frozenset(_env("FAILED_STATUSES", ",".join(sorted(d.failed_statuses))).split(",")),
            failed_burst_window_seconds=int(_env("FAILED_BURST_WINDOW_SECONDS", str(d.failed_burst_window_seconds))),
            failed_burst_thresholds={
                k: int(v) for k, v in _severity_thresholds(_env("FAILED_BURST_THRESHOLDS", "")).items()
            }
            or d.failed_burst_thresholds,
            failed_report_min=int(_env("FAILED_REPORT_MIN", str(d.failed_report_min))),
            geo_min_history=int(_env("GEO_MIN_HISTORY", str(d.geo_min_history))),
            quantity_sigma=Decimal(_env("QUANTITY_SIGMA", str(d.quantity_sigma))),
            quantity_min_ratio=Decimal(_env("QUANTITY_MIN_RATIO", str(d.quantity_min_ratio))),
            quantity_log_sigma_floor=Decimal(_env("QUANTITY_LOG_SIGMA_FLOOR", str(d.quantity_log_sigma_floor))),
            quantity_customer_min_history=int(
                _env("QUANTITY_CUSTOMER_MIN_HISTORY", str(d.quantity_customer_min_history))
            ),
            quantity_sku_min_history=int(_env("QUANTITY_SKU_MIN_HISTORY", str(d.quantity_sku_min_history))),
            quantity_scale_min_lines=int(_env("QUANTITY_SCALE_MIN_LINES", str(d.quantity_scale_min_lines))),
            shared_identity_min_accounts=_int_map(_env("SHARED_IDENTITY_MIN_ACCOUNTS", ""))
            or d.shared_identity_min_accounts,
            account_max_linked=_int_map(_env("ACCOUNT_MAX_LINKED", "")) or d.account_max_linked,
            new_account_instant_seconds=int(_env("NEW_ACCOUNT_INSTANT_SECONDS", str(d.new_account_instant_seconds))),
            new_account_max_age_seconds=int(_env("NEW_ACCOUNT_MAX_AGE_SECONDS", str(d.new_account_max_age_seconds))),
            new_account_burst=int(_env("NEW_ACCOUNT_BURST", str(d.new_account_burst))),
            ring_min_transactions=int(_env("RING_MIN_TRANSACTIONS", str(d.ring_min_transactions))),
            entity_max_failures=int(_env("ENTITY_MAX_FAILURES", str(d.entity_max_failures))),
            quantity_sku_sigma=Decimal(_env("QUANTITY_SKU_SIGMA", str(d.quantity_sku_sigma))),
            detector_weights={**d.detector_weights, **_decimal_map(_env("DETECTOR_WEIGHTS", ""))},
            risk_thresholds=_severity_thresholds(_env("RISK_SEVERITY_THRESHOLDS", "")) or d.risk_thresholds,
            alert_group_window_seconds=int(_env("ALERT_GROUP_WINDOW_SECONDS", str(d.alert_group_window_seconds))),
            model_artifact=_env("MODEL_ARTIFACT", d.model_artifact),
            model_refresh_seconds=int(_env("MODEL_REFRESH_SECONDS", str(d.model_refresh_seconds))),
        )


@dataclass(frozen=True)
class IngestSettings:
    """Limits of the ingest contract (DESIGN §3)."""

    default_currency: str = "USD"
    max_batch: int = 500
    max_body_bytes: int = 5 * 1024 * 1024
    max_future_seconds: int = 300

    @classmethod
    def from_env(cls) -> IngestSettings:
        return cls(default_currency=_env("DEFAULT_CURRENCY", cls.default_currency).upper())


@dataclass(frozen=True)
class RulesSettings:
    """How often a function reads the published rules and lists again: a change is live within this."""

    refresh_seconds: int = 60

    @classmethod
    def from_env(cls) -> RulesSettings:
        return cls(refresh_seconds=int(_env("RULES_REFRESH_SECONDS", str(cls.refresh_seconds))))


@dataclass(frozen=True)
class NotifySettings:
    """Who gets told what, and how often."""

    min_severity: Severity = Severity.MEDIUM
    quiet_period_seconds: int = 900
    dashboard_url: str = ""
    # --- the SMS budget (issue 16): at most one SMS per period per recipient, the rest summarised in the next ---
    sms_severities: frozenset[Severity] = frozenset({Severity.CRITICAL})  # the SMS subscription's (SmsSeverities)
    sms_period_seconds: int = 3600
    sms_recipient: str = ""  # the subscribed phone number: whose budget it is

    @classmethod
    def from_env(cls) -> NotifySettings:
        return cls(
            min_severity=Severity.parse(_env("NOTIFY_MIN_SEVERITY", cls.min_severity.value)),
            quiet_period_seconds=int(_env("NOTIFY_QUIET_PERIOD_SECONDS", str(cls.quiet_period_seconds))),
            dashboard_url=_env("DASHBOARD_URL", ""),
            sms_severities=frozenset(
                Severity.parse(s.strip()) for s in _env("SMS_SEVERITIES", "critical").split(",") if s.strip()
            ),
            sms_period_seconds=int(_env("SMS_PERIOD_SECONDS", str(cls.sms_period_seconds))),
            sms_recipient=_env("SMS_RECIPIENT", ""),
        )


@dataclass(frozen=True)
class NarrativeSettings:
    """When and how the language model explains an alert; off unless a key's parameter or secret is named."""

    key_parameter: str = ""
    key_secret: str = ""
    model: str = "gpt-4o-mini"
    max_tokens: int = 160
    min_severity: Severity = Severity.HIGH
    timeout_seconds: float = 4.0
    daily_limit: int = 1000
    include_customer_name: bool = False

    @classmethod
    def from_env(cls) -> NarrativeSettings:
        return cls(
            key_parameter=_env("OPENAI_API_KEY_PARAMETER", ""),
            key_secret=_env("OPENAI_API_KEY_SECRET", ""),
            model=_env("OPENAI_MODEL", cls.model),
            max_tokens=int(_env("NARRATIVE_MAX_TOKENS", str(cls.max_tokens))),
            min_severity=Severity.parse(_env("NARRATIVE_MIN_SEVERITY", cls.min_severity.value)),
            timeout_seconds=float(_env("NARRATIVE_TIMEOUT_SECONDS", str(cls.timeout_seconds))),
            daily_limit=int(_env("NARRATIVE_DAILY_LIMIT", str(cls.daily_limit))),
            include_customer_name=_env("NARRATIVE_INCLUDE_CUSTOMER_NAME", "false").lower() == "true",
        )


@dataclass(frozen=True)
class WindowSettings:
    """When closed minutes, hours and days are judged, and how their alerts are grouped."""

    settle_seconds: int = 2  # a minute is judged this long after it ends (the stream's batching window)
    catch_up: dict[str, int] = field(default_factory=lambda: {"minute": 15, "hour": 3, "day": 2})
    alert_group_window_seconds: int = 3600  # minutes of one outage within this window are one alert
    currency: str = "USD"  # revenue is judged in the shop's own currency
    minute_min_history: int = 30  # minutes of traffic before the per-minute volume check gives verdicts

    @classmethod
    def from_env(cls) -> WindowSettings:
        return cls(
            minute_min_history=int(_env("VOLUME_MIN_HISTORY_MINUTES", str(cls.minute_min_history))),
            settle_seconds=int(_env("WINDOW_SETTLE_SECONDS", str(cls.settle_seconds))),
            alert_group_window_seconds=int(_env("ALERT_GROUP_WINDOW_SECONDS", str(cls.alert_group_window_seconds))),
            currency=_env("DEFAULT_CURRENCY", cls.currency).upper(),
        )


@dataclass(frozen=True)
class SignInSettings:
    """POST /auth/login: the app client it signs in with, and how many failures a user name may have per window
    before further attempts are refused (a password guesser gets a few tries an hour, not thousands)."""

    client_id: str
    max_failures: int = 5
    window_seconds: int = 900

    @classmethod
    def from_env(cls) -> SignInSettings:
        return cls(
            client_id=required_env("USER_POOL_CLIENT_ID"),
            max_failures=int(_env("SIGN_IN_MAX_FAILURES", str(cls.max_failures))),
            window_seconds=int(_env("SIGN_IN_WINDOW_SECONDS", str(cls.window_seconds))),
        )


def required_env(name: str) -> str:
    """A resource name the template must provide; a missing one is a deployment error, said plainly."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"environment variable {name} is not set (the template sets it for every function)")
    return value
