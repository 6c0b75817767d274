"""POST /auth/login: a user name and password in, the Cognito ID token out, guessing throttled.

Every "no" looks the same (401, one message), whether the user is unknown or the password wrong, so the endpoint
cannot be used to find out who has an account. After `max_failures` failures of one user name in a window,
further attempts are refused with 429 and Retry-After until the window ends, before Cognito is even asked.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from shopwatch.config import SignInSettings
from shopwatch.domain.clock import epoch_seconds, to_iso
from shopwatch.errors import TooManyRequests, Unauthorized
from shopwatch.storage.sign_in_attempts import SignInAttempts
from shopwatch.storage.user_pool import ChallengeRequired, CognitoLockedOut, UserPoolSignIn, WrongCredentials

WRONG_CREDENTIALS = "wrong user name or password"


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: str  # RFC 3339, from the token's own `exp`


def token_expiry(token: str) -> datetime:
    """The `exp` of a JWT Cognito just gave us over TLS (read, not verified: API Gateway verifies it on use)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


class SignIn:
    def __init__(self, pool: UserPoolSignIn, attempts: SignInAttempts, settings: SignInSettings) -> None:
        self.pool = pool
        self.attempts = attempts
        self.settings = settings

    def login(self, username: str, password: str, now: datetime) -> Session:
        window = self.settings.window_seconds
        window_start = epoch_seconds(now) // window * window
        retry_after = max(1, window_start + window - epoch_seconds(now))
        if self.attempts.failures(username, window_start) >= self.settings.max_failures:
            raise TooManyRequests("too many failed sign-ins for this user name; try again later", retry_after)
        try:
            issued = self.pool.authenticate(username, password)
        except WrongCredentials:
            self.attempts.add_failure(username, window_start, window_start + 2 * window)
            raise Unauthorized(WRONG_CREDENTIALS) from None
        except CognitoLockedOut:
            raise TooManyRequests("too many failed sign-ins for this user name; try again later", retry_after) from None
        except ChallengeRequired as exc:
            raise Unauthorized(
                f"this account needs a sign-in step the API does not offer ({exc.challenge}); ask an admin",
                {"challenge": exc.challenge},
            ) from None
        self.attempts.clear(username, window_start)
        return Session(issued.token, to_iso(token_expiry(issued.token)))
