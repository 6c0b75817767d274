"""Who is calling, from what API Gateway put in the proxy event, and what each kind of caller may do.

Two kinds of caller (DESIGN §3). People sign in: API Gateway's Cognito authorizer has verified their ID token and
hands its claims over in `requestContext.authorizer.claims` (every value a string; `cognito:groups` joined with
commas). The shop's systems send the API key: API Gateway has checked it against the usage plan and names it in
`requestContext.identity.apiKeyId`. The gateway already keeps each caller to its own routes; the checks here are
the second lock, and the group rules (an analyst cannot change the catalog) exist only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shopwatch.errors import Forbidden, Unauthorized

SHOP_ACTOR = "shop"  # what a history records for a change made with the API key (a chargeback label)


class Group(StrEnum):
    ANALYSTS = "analysts"
    ADMINS = "admins"


class Action(StrEnum):
    READ = "read"  # alerts, customers, stats, analytics, reports, products
    TRIAGE = "triage"  # status, assignee, notes, feedback
    LABEL = "label"  # fraud reported later on a transaction (a chargeback)
    WRITE_CATALOG = "write catalog"
    MANAGE_MODELS = "manage models"  # train, promote, roll back
    MANAGE_RULES = "manage rules"  # create, change, publish, disable and roll back rules; change lists


PEOPLE_ALLOWED: dict[Action, frozenset[Group]] = {
    Action.READ: frozenset({Group.ANALYSTS, Group.ADMINS}),
    Action.TRIAGE: frozenset({Group.ANALYSTS, Group.ADMINS}),
    Action.LABEL: frozenset({Group.ANALYSTS, Group.ADMINS}),
    Action.WRITE_CATALOG: frozenset({Group.ADMINS}),
    Action.MANAGE_MODELS: frozenset({Group.ADMINS}),
    Action.MANAGE_RULES: frozenset({Group.ADMINS}),
}
SHOP_ALLOWED = frozenset({Action.LABEL, Action.WRITE_CATALOG})


@dataclass(frozen=True)
class Caller:
    """A signed-in person (`name` is their Cognito user name) or the shop's systems (`name` is SHOP_ACTOR)."""

    name: str
    groups: frozenset[str] = frozenset()
    is_shop: bool = False

    def may(self, action: Action) -> bool:
        if self.is_shop:
            return action in SHOP_ALLOWED
        return bool(self.groups & PEOPLE_ALLOWED[action])


def parse_groups(claim: Any) -> frozenset[str]:
    """`cognito:groups` as a REST API's Cognito authorizer passes it ("admins,analysts"); also the bracketed,
    space-separated form of HTTP APIs' JWT authorizers ("[admins analysts]") and a JSON list, so a change of
    gateway cannot silently turn every admin into nobody."""
    if isinstance(claim, list):
        return frozenset(str(g) for g in claim if g)
    text = str(claim or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].replace(" ", ",")
    return frozenset(g.strip() for g in text.split(",") if g.strip())


def caller_of(event: dict[str, Any]) -> Caller | None:
    """The caller API Gateway authenticated for this request, or None when it authenticated nobody."""
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    name = claims.get("cognito:username")
    if name and claims.get("token_use") == "id":
        return Caller(str(name), parse_groups(claims.get("cognito:groups")))
    if (context.get("identity") or {}).get("apiKeyId"):
        return Caller(SHOP_ACTOR, is_shop=True)
    return None


def authorize(event: dict[str, Any], action: Action, *, person: bool = False) -> Caller:
    """The caller, allowed to do `action`; 401 when nobody signed in (or, with `person`, when the caller is the
    shop's key on a person's route), 403 when this caller may not."""
    caller = caller_of(event)
    if caller is None or (person and caller.is_shop):
        raise Unauthorized("sign in (POST /auth/login) and send the token as Authorization: Bearer <token>")
    if not caller.may(action):
        groups = " or ".join(sorted(PEOPLE_ALLOWED[action]))
        raise Forbidden(f"to {action.value} you must be signed in as a user in {groups}", {"action": action.value})
    return caller
