"""API Gateway's Cognito user pool authorizer (COGNITO_USER_POOLS, REST API) for the local gateway.

What it checks, as API Gateway does for an ID token: the RS256 signature against the pool's JWKS (fetched from the
pool's `/.well-known/jwks.json`, here moto's), the issuer (this pool), `token_use` = id, the audience (an app
client of this pool) and expiry. A request that fails gets 401 `{"message": "Unauthorized"}` (an expired token:
"The incoming token has expired"), and the function is never called. A token that passes has its claims handed to
the function in `requestContext.authorizer.claims`, converted as API Gateway converts them: every value a string,
lists joined with commas (`cognito:groups` = "admins,analysts"), `exp` and `iat` written as dates
("Fri Jul 29 18:52:53 UTC 2016").

JWT library: joserfc. moto's cognito-idp already signs its tokens with it, so the local stack verifies with the
library that is installed anyway (no new dependency), and it is only ever used here, off Lambda: the deployed
functions never verify a token, API Gateway does.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

UNAUTHORIZED = "Unauthorized"
EXPIRED = "The incoming token has expired"
_DATE_CLAIMS = ("exp", "iat")


class NotAuthenticated(Exception):
    """API Gateway answers 401 with this message; the function is not invoked."""

    def __init__(self, message: str = UNAUTHORIZED) -> None:
        super().__init__(message)
        self.message = message


def jwks_from_url(url: str, timeout: float = 5.0) -> Callable[[], KeySet]:
    """The pool's public keys, fetched once (API Gateway caches them too)."""
    cached: list[KeySet] = []
    lock = threading.Lock()

    def load() -> KeySet:
        with lock:
            if not cached:
                with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - the pool's own URL
                    cached.append(KeySet.import_key_set(json.loads(answer.read())))
            return cached[0]

    return load


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """A verified token's claims in the shape a REST API's Cognito authorizer gives a proxy integration."""
    shaped = {}
    for name, value in claims.items():
        if name in _DATE_CLAIMS and isinstance(value, int | float):
            shaped[name] = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, list):
            shaped[name] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            shaped[name] = str(value).lower()
        else:
            shaped[name] = str(value)
    return shaped


class CognitoAuthorizer:
    def __init__(
        self,
        issuer: str,
        client_ids: Iterable[str],
        keys: Callable[[], KeySet],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.client_ids = list(client_ids)
        self.keys = keys
        self.clock = clock

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The claims of the token in an Authorization header (bare, or after "Bearer "), or NotAuthenticated."""
        token = (authorization or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise NotAuthenticated()
        try:
            decoded = jwt.decode(token, self.keys(), algorithms=["RS256"])
        except (JoseError, ValueError):
            raise NotAuthenticated() from None
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock()),
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": self.client_ids},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
            **{"cognito:username": {"essential": True}},
        )
        try:
            registry.validate(decoded.claims)
        except ExpiredTokenError:
            raise NotAuthenticated(EXPIRED) from None
        except (JoseError, ValueError):
            raise NotAuthenticated() from None
        return gateway_claims(decoded.claims)


def authorizers_from_template(
    template: dict[str, Any],
    user_pools: dict[str, str],
    user_pool_clients: dict[str, str],
    jwks_base_url: str,
    region: str = "us-east-1",
    api_logical_id: str = "ShopwatchApi",
) -> dict[str, CognitoAuthorizer]:
    """The Api's Cognito authorizers, each on the user pool its UserPoolArn names, accepting that pool's clients."""
    resources = template["Resources"]
    authorizers = resources[api_logical_id]["Properties"].get("Auth", {}).get("Authorizers", {})
    made = {}
    for name, spec in authorizers.items():
        pool_logical = spec["UserPoolArn"]["Fn::GetAtt"][0]
        pool_id = user_pools[pool_logical]
        clients = [
            user_pool_clients[logical]
            for logical, resource in resources.items()
            if resource["Type"] == "AWS::Cognito::UserPoolClient"
            and resource["Properties"]["UserPoolId"] == {"Ref": pool_logical}
        ]
        made[name] = CognitoAuthorizer(
            f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
            clients,
            jwks_from_url(f"{jwks_base_url}/{pool_id}/.well-known/jwks.json"),
        )
    return made
