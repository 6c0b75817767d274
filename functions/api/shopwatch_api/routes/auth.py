"""POST /auth/login: a person signs in with user name and password and gets the token every other route wants."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.auth.sign_in import SignIn
from shopwatch.domain.clock import utcnow
from shopwatch_api.docs import ERROR_CONTENT
from shopwatch_api.models import LoginIn
from shopwatch_api.responses import SessionOut


def router(sign_in: SignIn) -> Router:
    router = Router()

    @router.post(
        "/auth/login",
        responses={
            200: {"description": "signed in", "content": {"application/json": {"model": SessionOut}}},
            401: {"description": "wrong user name or password (never says which)", "content": ERROR_CONTENT},
            429: {"description": "too many failed sign-ins for this name; see Retry-After", "content": ERROR_CONTENT},
        },
    )
    def login(credentials: LoginIn) -> SessionOut:
        """Sign a person in: the token goes in `Authorization: Bearer <token>` on every other route."""
        return SessionOut.from_session(sign_in.login(credentials.username, credentials.password, utcnow()))

    return router
