"""Who a change is recorded under: the caller API Gateway let through, never a name from the body."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.auth.callers import Action, authorize


def acting(router: Router, action: Action, *, person: bool = False) -> str:
    """The signed-in user's name (or the shop's, for its key), checked for `action`.
    `person`: the route is a person's (the Cognito authorizer's), so the shop's key is no one there."""
    return authorize(router.current_event.raw_event, action, person=person).name
