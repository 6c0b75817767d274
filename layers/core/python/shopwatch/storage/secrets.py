"""The OpenAI API key, from SSM Parameter Store (SecureString) or Secrets Manager through Powertools
parameters, cached for five minutes: a rotated key is picked up without a deployment, and a warm function does
not call SSM for every alert. The template holds only the name."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, GetSecretError
from botocore.exceptions import BotoCoreError, ClientError

KEY_CACHE_SECONDS = 300


class MissingKey(Exception):
    """The key is configured but cannot be read (no such parameter, no permission, empty)."""


class OpenAIKeySource:
    def __init__(self, parameter_name: str = "", secret_name: str = "") -> None:
        self.parameter_name = parameter_name
        self.secret_name = secret_name

    @property
    def configured(self) -> bool:
        return bool(self.parameter_name or self.secret_name)

    def get(self) -> str:
        try:
            if self.parameter_name:
                raw = parameters.get_parameter(self.parameter_name, decrypt=True, max_age=KEY_CACHE_SECONDS)
                where = f"SSM parameter {self.parameter_name}"
            else:
                raw = parameters.get_secret(self.secret_name, max_age=KEY_CACHE_SECONDS)
                where = f"secret {self.secret_name}"
        except (GetParameterError, GetSecretError, ClientError, BotoCoreError) as exc:
            raise MissingKey(f"{type(exc).__name__}: {exc}") from None
        key = _key_from(raw)
        if not key:
            raise MissingKey(f"{where} is empty")
        return key


def _key_from(raw: object) -> str:
    """A secret may hold the key itself or JSON with it under api_key / OPENAI_API_KEY."""
    text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return ""
        return str(data.get("api_key") or data.get("OPENAI_API_KEY") or "").strip()
    return text
