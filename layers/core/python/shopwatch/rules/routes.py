"""The rules and lists routes, as a Powertools Router that ApiFunction includes (DESIGN §9: the API grows in Router
modules with their own models). Admins change rules and lists (Action.MANAGE_RULES); analysts read them, check an
expression and see each rule's figures. No `from __future__ import annotations`: Powertools reads the routes'
types at run time.

Every change is recorded under the signed-in admin's name from the token, never from the body.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from shopwatch.api_params import Days
from shopwatch.auth.callers import Action, authorize
from shopwatch.domain.clock import utcnow
from shopwatch.rules.analytics import RuleAnalytics
from shopwatch.rules.api_models import (
    ExpressionIn,
    ItemIn,
    ItemsAddedOut,
    ItemsIn,
    ListIn,
    ListOut,
    ListsOut,
    ListSummaryOut,
    ModeIn,
    NewRuleIn,
    RollbackIn,
    RuleAnalyticsOut,
    RuleChangeIn,
    RuleDetailOut,
    RuleIn,
    RuleOut,
    RulesOut,
    ValidationOut,
)
from shopwatch.rules.definitions import Decision, RuleMode
from shopwatch.rules.service import ID_PATTERN, ItemDraft, ListService, RuleDraft, RuleService
from shopwatch.rules.views import (
    items_added_json,
    list_json,
    list_summary_json,
    rule_detail_json,
    rule_json,
    rule_stats_json,
    validation_json,
)
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.rule_matches import RuleMatchRepository
from shopwatch.storage.rules import ListRepository, RuleRepository

RuleId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
ListName = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
ItemValue = Annotated[str, Path(min_length=1, max_length=254, description="as stored (see GET /lists/{name})")]

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_CONFLICT = {409: {"description": "changed meanwhile (see expected_version), an id taken, or a limit reached",
                   "content": _ERROR}}  # fmt: skip
_INVALID_EXPRESSION = {
    400: {"description": "invalid parameters or body, or an expression the checker refuses", "content": _ERROR}
}


def _json(status: int, model: type[BaseModel], body: dict) -> Response:
    return Response(status, content_types.APPLICATION_JSON, model.model_validate(body).model_dump(mode="json"))


def _draft(body: RuleIn) -> RuleDraft:
    return RuleDraft(
        name=body.name,
        description=body.description,
        expression=body.expression,
        mode=body.mode,
        severity=body.severity,
        decision=Decision(body.decision) if body.decision else None,
        score=body.score,
    )


def _items(items: list[ItemIn]) -> list[ItemDraft]:
    return [ItemDraft(item.value, item.reason, item.expires_at) for item in items]  # type: ignore[arg-type]


def rules_router(state_table: str, alerts: AlertRepository, labels: LabelRepository) -> Router:
    """The routes over StateTable's rules and lists; `alerts` and `labels` give GET /analytics/rules its ground
    truth. A new Router per call: a test's fresh ApiFunction gets routes over its own tables."""
    rule_repository = RuleRepository(state_table)
    rules = RuleService(rule_repository)
    lists = ListService(ListRepository(state_table))
    analytics = RuleAnalytics(rule_repository, RuleMatchRepository(state_table), labels, alerts)
    router = Router()

    def acting(action: Action) -> str:
        return authorize(router.current_event.raw_event, action, person=True).name

    # --- rules -----------------------------------------------------------------------------------------------
    @router.get("/rules")
    def list_rules() -> RulesOut:
        """Every rule's current version (disabled ones too), by id."""
        return {"rules": [rule_json(stored) for stored in rules.list()]}

    @router.post(
        "/rules",
        responses={201: {"description": "created at version 1", "content": {"application/json": {"model": RuleOut}}}}
        | _CONFLICT
        | _INVALID_EXPRESSION,
    )
    def create_rule(body: NewRuleIn) -> Response[RuleOut]:
        """A new rule (admins). Its expression is checked against the documented variables first."""
        by = acting(Action.MANAGE_RULES)
        return _json(201, RuleOut, rule_json(rules.create(_draft(body), body.rule_id, by, utcnow())))

    @router.post("/rules/validate")
    def validate_expression(body: ExpressionIn) -> ValidationOut:
        """Check an expression without saving it (the editor's inline check): each problem with its position."""
        acting(Action.READ)
        return validation_json(rules.validate(body.expression))

    @router.get("/rules/<rule_id>")
    def get_rule(rule_id: RuleId) -> RuleDetailOut:
        """A rule's current version and every version before it, newest first, each with its diff."""
        return rule_detail_json(rules.get(rule_id))

    @router.put("/rules/<rule_id>", responses=_CONFLICT | _INVALID_EXPRESSION)
    def update_rule(rule_id: RuleId, body: RuleChangeIn) -> RuleOut:
        """A new version with this content (admins); an unchanged rule stays at its version."""
        by = acting(Action.MANAGE_RULES)
        return rule_json(rules.update(rule_id, _draft(body), by, utcnow(), body.expected_version))

    @router.delete("/rules/<rule_id>", responses=_CONFLICT)
    def disable_rule(rule_id: RuleId) -> RuleOut:
        """Disable the rule (admins): a new version in mode disabled; its history stays."""
        by = acting(Action.MANAGE_RULES)
        return rule_json(rules.set_mode(rule_id, RuleMode.DISABLED, by, utcnow()))

    @router.post("/rules/<rule_id>/mode", responses=_CONFLICT)
    def set_rule_mode(rule_id: RuleId, body: ModeIn) -> RuleOut:
        """Publish (active), shadow (matches counted, never alerting or deciding) or disable (admins)."""
        by = acting(Action.MANAGE_RULES)
        return rule_json(rules.set_mode(rule_id, body.mode, by, utcnow(), body.expected_version))

    @router.post("/rules/<rule_id>/rollback", responses=_CONFLICT | _INVALID_EXPRESSION)
    def rollback_rule(rule_id: RuleId, body: RollbackIn) -> RuleOut:
        """A new version copying `version`'s content, mode included (admins)."""
        by = acting(Action.MANAGE_RULES)
        return rule_json(rules.rollback(rule_id, body.version, by, utcnow(), body.expected_version))

    @router.get("/analytics/rules")
    def rule_analytics(days: Days = 30) -> RuleAnalyticsOut:
        """Per rule: matches per day (active and shadow), and precision from feedback and chargebacks."""
        window, stats = analytics.per_rule(days, utcnow())
        return rule_stats_json(window, stats)

    # --- lists -----------------------------------------------------------------------------------------------
    @router.get("/lists")
    def list_lists() -> ListsOut:
        """Every list with its count of unexpired entries."""
        return {"lists": [list_summary_json(summary) for summary in lists.list(utcnow())]}

    @router.put("/lists/<name>", responses=_CONFLICT)
    def put_list(name: ListName, body: ListIn) -> ListSummaryOut:
        """Create or change a list (admins); `items`, when given, replace every entry."""
        by = acting(Action.MANAGE_RULES)
        items = None if body.items is None else _items(body.items)
        return list_summary_json(lists.put(name, body.kind, body.mode, body.description, items, by, utcnow()))

    @router.get("/lists/<name>")
    def get_list(name: ListName) -> ListOut:
        """A list with its unexpired entries, by value."""
        return list_json(lists.get(name, utcnow()))

    @router.post("/lists/<name>/items", responses=_CONFLICT)
    def add_list_items(name: ListName, body: ItemsIn) -> ItemsAddedOut:
        """Add entries (admins); a value already there takes the new reason and expiry."""
        by = acting(Action.MANAGE_RULES)
        return items_added_json(lists.add_items(name, _items(body.items), by, utcnow()))

    @router.delete("/lists/<name>/items/<value>", responses=_CONFLICT)
    def remove_list_item(name: ListName, value: ItemValue) -> ListSummaryOut:
        """Remove an entry (admins); the value as the list stores it, or in any form that normalises to it."""
        by = acting(Action.MANAGE_RULES)
        return list_summary_json(lists.remove_item(name, value, by, utcnow()))

    return router
