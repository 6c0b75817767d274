"""The local gateway's Cognito authorizer: what API Gateway refuses (401) and the claims it hands on."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from infra.local.api_gateway import ApiGateway, routes_from_template
from infra.local.cognito_authorizer import EXPIRED, UNAUTHORIZED, CognitoAuthorizer, NotAuthenticated
from tests.conftest import TEMPLATE

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
NOW = 1_758_040_265
KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})


def id_token(key: RSAKey = KEY, **changes) -> str:
    claims = {"iss": ISSUER, "aud": "client-1", "token_use": "id", "cognito:username": "maria", "sub": "s-1",
              "cognito:groups": ["admins", "analysts"], "email_verified": True, "iat": NOW - 60, "auth_time": NOW - 60,
              "exp": NOW + 3600} | changes  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": "pool-key"}, {k: v for k, v in claims.items() if v is not None}, key)


@pytest.fixture
def authorizer() -> CognitoAuthorizer:
    keys = KeySet([RSAKey.import_key(KEY.as_dict(private=False))])
    return CognitoAuthorizer(ISSUER, ["client-1"], lambda: keys, clock=lambda: NOW)


def test_a_valid_id_token_gives_its_claims_as_api_gateway_writes_them(authorizer):
    claims = authorizer.claims(f"Bearer {id_token()}")
    assert claims["cognito:username"] == "maria" and claims["cognito:groups"] == "admins,analysts"
    assert claims["exp"] == "Tue Sep 16 17:31:05 UTC 2025" and claims["auth_time"] == str(NOW - 60)
    assert claims["email_verified"] == "true" and all(isinstance(v, str) for v in claims.values())
    assert authorizer.claims(id_token()) == claims  # a bare token works too


def tampered() -> str:
    header, _payload, signature = id_token().split(".")
    other = id_token(**{"cognito:username": "mallory"}).split(".")[1]
    return ".".join((header, other, signature))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, UNAUTHORIZED),
        ("", UNAUTHORIZED),
        ("Bearer ", UNAUTHORIZED),
        ("Bearer not.a.jwt", UNAUTHORIZED),
        (f"Bearer {id_token(exp=NOW - 1)}", EXPIRED),
        (f"Bearer {id_token(aud='another-client')}", UNAUTHORIZED),
        (f"Bearer {id_token(iss='https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other')}", UNAUTHORIZED),
        (f"Bearer {id_token(token_use='access')}", UNAUTHORIZED),
        (f"Bearer {id_token(OTHER_KEY)}", UNAUTHORIZED),
        (f"Bearer {tampered()}", UNAUTHORIZED),
        (f"Bearer {id_token(**{'cognito:username': None})}", UNAUTHORIZED),
    ],
    ids=[
        "missing",
        "empty",
        "bearer-only",
        "garbage",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "access-token",
        "other-key",
        "tampered",
        "no-username",
    ],
)
def test_what_api_gateway_refuses(authorizer, header, message):
    with pytest.raises(NotAuthenticated) as refused:
        authorizer.claims(header)
    assert refused.value.message == message


def test_the_gateway_answers_401_before_the_function_and_passes_claims_after(authorizer):
    seen = []

    class Function:
        def invoke(self, event):
            seen.append(event)
            return {"statusCode": 200, "body": "{}"}

    gateway = ApiGateway(
        routes_from_template(TEMPLATE), {"ApiFunction": Function()}, "key", authorizers={"ShopwatchUsers": authorizer}
    )
    status, _, body = gateway.handle("GET", "/alerts", {"x-api-key": ["key"]}, b"", "127.0.0.1")
    assert (status, body, seen) == (401, b'{"message": "Unauthorized"}', [])  # the key opens nothing here
    headers = {"authorization": [f"Bearer {id_token(exp=NOW - 5)}"]}
    assert (
        gateway.handle("GET", "/alerts", headers, b"", "127.0.0.1")[2]
        == b'{"message": "The incoming token has expired"}'
    )
    assert gateway.handle("GET", "/alerts", {"authorization": [f"Bearer {id_token()}"]}, b"", "127.0.0.1")[0] == 200
    assert seen[0]["requestContext"]["authorizer"]["claims"]["cognito:username"] == "maria"
    assert seen[0]["requestContext"]["identity"]["apiKeyId"] is None
    assert (
        gateway.handle("PUT", "/products/X", {"authorization": [f"Bearer {id_token()}"]}, b"{}", "127.0.0.1")[0] == 403
    )
