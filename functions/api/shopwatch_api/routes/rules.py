"""The rules routes (DESIGN §9: the API grows in Router modules with their own models). Admins change rules
(Action.MANAGE_RULES); analysts read them, check an expression and see each rule's figures.

Every change is recorded under the signed-in admin's name from the token, never from the body.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shopwatch.auth.callers import Action
from shopwatch.domain.clock import utcnow
from shopwatch.rules import variables
from shopwatch.rules.analytics import RuleAnalytics
from shopwatch.rules.definitions import ID_PATTERN, Decision, RuleMode
from shopwatch.rules.service import RuleDraft, RuleService
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.rule_matches import RuleMatchRepository
from shopwatch.storage.rules import RuleRepository
from shopwatch_api.acting import acting
from shopwatch_api.docs import ERROR_CONTENT, success
from shopwatch_api.params import Days
from shopwatch_api.rules_models import (
    ExpressionIn,
    ModeIn,
    NewRuleIn,
    RollbackIn,
    RuleAnalyticsOut,
    RuleChangeIn,
    RuleDetailOut,
    RuleIn,
    RuleOut,
    RuleReferenceOut,
    RulesOut,
    ValidationOut,
)

RuleId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
CONFLICT: dict[int, OpenAPIResponse] = {409: {"description": "changed meanwhile (see expected_version), an id taken, or a limit reached",
                  "content": ERROR_CONTENT}}  # fmt: skip


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


def router(state_table: str, alerts: AlertRepository, labels: LabelRepository) -> Router:
    """The routes over StateTable's rules; `alerts` and `labels` give GET /analytics/rules its ground truth."""
    rule_repository = RuleRepository(state_table)
    rules = RuleService(rule_repository)
    analytics = RuleAnalytics(rule_repository, RuleMatchRepository(state_table), labels, alerts)
    router = Router()

    @router.get("/rules")
    def list_rules() -> RulesOut:
        """Every rule's current version (disabled ones too), by id."""
        return RulesOut(rules=[RuleOut.from_stored(stored) for stored in rules.list()])

    @router.post(
        "/rules",
        responses=success(RuleOut, "created at version 1", 201) | CONFLICT,
    )
    def create_rule(body: NewRuleIn) -> Response[RuleOut]:
        """A new rule (admins). Its expression is checked against the documented variables first: a refused one
        is a 400 `invalid_expression` listing each problem with its line and column."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        created = RuleOut.from_stored(rules.create(_draft(body), body.rule_id, by, utcnow()))
        return Response(201, content_types.APPLICATION_JSON, created)

    @router.post("/rules/validate")
    def validate_expression(body: ExpressionIn) -> ValidationOut:
        """Check an expression without saving it (the editor's inline check): each problem with its position."""
        acting(router, Action.READ, person=True)
        return ValidationOut.from_problems(rules.validate(body.expression))

    @router.get("/rules/reference")
    def rule_reference() -> RuleReferenceOut:
        """What an expression may use: each variable with its fields and types, and the functions."""
        return RuleReferenceOut.model_validate({"variables": variables.reference()})

    @router.get("/rules/<rule_id>")  # after /rules/reference: the first route that matches answers
    def get_rule(rule_id: RuleId) -> RuleDetailOut:
        """A rule's current version and every version before it, newest first, each with its diff."""
        return RuleDetailOut.from_detail(rules.get(rule_id))

    @router.put("/rules/<rule_id>", responses=success(RuleOut, "the new version") | CONFLICT)
    def update_rule(rule_id: RuleId, body: RuleChangeIn) -> RuleOut:
        """A new version with this content (admins); an unchanged rule stays at its version."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return RuleOut.from_stored(rules.update(rule_id, _draft(body), by, utcnow(), body.expected_version))

    @router.delete("/rules/<rule_id>", responses=success(RuleOut, "the disabled version") | CONFLICT)
    def disable_rule(rule_id: RuleId) -> RuleOut:
        """Disable the rule (admins): a new version in mode disabled; its history stays."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return RuleOut.from_stored(rules.set_mode(rule_id, RuleMode.DISABLED, by, utcnow()))

    @router.post("/rules/<rule_id>/mode", responses=success(RuleOut, "the new version") | CONFLICT)
    def set_rule_mode(rule_id: RuleId, body: ModeIn) -> RuleOut:
        """Publish (active), shadow (matches counted, never alerting or deciding) or disable (admins)."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return RuleOut.from_stored(rules.set_mode(rule_id, body.mode, by, utcnow(), body.expected_version))

    @router.post("/rules/<rule_id>/rollback", responses=success(RuleOut, "the new version") | CONFLICT)
    def rollback_rule(rule_id: RuleId, body: RollbackIn) -> RuleOut:
        """A new version copying `version`'s content, mode included (admins)."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return RuleOut.from_stored(rules.rollback(rule_id, body.version, by, utcnow(), body.expected_version))

    @router.get("/analytics/rules")
    def rule_analytics(days: Days = 30) -> RuleAnalyticsOut:
        """Per rule: matches per day (active and shadow), and precision from feedback and chargebacks."""
        window, stats = analytics.per_rule(days, utcnow())
        return RuleAnalyticsOut.from_stats(window, stats)

    return router
