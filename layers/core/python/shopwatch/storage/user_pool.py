"""Signing a person in against the Cognito user pool (USER_PASSWORD_AUTH with the public app client).

InitiateAuth is one of Cognito's unauthenticated operations: the function needs no IAM permission for it, only
the app client's id, which is not a secret (the dashboard's page could hold it as well).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from shopwatch.storage.aws import client

# Cognito's answers for "no": a wrong password, an unknown user (with PreventUserExistenceErrors off, or on moto),
# a disabled user, an unconfirmed one. All are the same refusal to the caller.
_REFUSALS = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"})


class WrongCredentials(Exception):
    """The user name and password do not sign anyone in (which of the two is wrong is never said)."""


class CognitoLockedOut(Exception):
    """Cognito itself refuses further attempts for now ("Password attempts exceeded")."""


class ChallengeRequired(Exception):
    """The password was right, but Cognito asks for another step (MFA, a new password) this API does not offer."""

    def __init__(self, challenge: str) -> None:
        super().__init__(challenge)
        self.challenge = challenge


@dataclass(frozen=True)
class IdToken:
    token: str
    expires_in: int


class UserPoolSignIn:
    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def authenticate(self, username: str, password: str) -> IdToken:
        try:
            answer = client("cognito-idp").initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "NotAuthorizedException" and "attempts exceeded" in error.get("Message", ""):
                raise CognitoLockedOut from None
            if error.get("Code") in _REFUSALS:
                raise WrongCredentials from None
            raise
        if "AuthenticationResult" not in answer:
            raise ChallengeRequired(answer.get("ChallengeName", "unknown"))
        result = answer["AuthenticationResult"]
        return IdToken(result["IdToken"], int(result["ExpiresIn"]))
