"""`shopwatch users`: the people who may sign in, in the stack's Cognito user pool (deployed or local).

Accounts are made by an admin only (the pool allows no self sign-up). A new account, and a reset one, gets a
generated password that meets the pool's policy, shown once to whoever runs the command, who hands it over.
It is set as permanent: POST /auth/login offers no "choose a new password" step (see the README).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

GROUPS = ("analysts", "admins")
_SYMBOLS = "^$*.[]{}()?!@#%&/,><:;|_~=+-"  # within Cognito's accepted special characters


class UserError(RuntimeError):
    """A refusal worth showing as it is (no such user, a password the policy refuses...)."""


def generate_password(length: int = 20) -> str:
    """A password the template's policy accepts: at least 12 characters, each of the four kinds present."""
    kinds = (string.ascii_lowercase, string.ascii_uppercase, string.digits, _SYMBOLS)
    chosen = [secrets.choice(kind) for kind in kinds]
    chosen += [secrets.choice(string.ascii_letters + string.digits + _SYMBOLS) for _ in range(length - len(kinds))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    enabled: bool
    status: str


class UserDirectory:
    """The user pool's accounts and their groups, through a cognito-idp client with admin rights."""

    def __init__(self, cognito: Any, pool_id: str) -> None:
        self.cognito = cognito
        self.pool_id = pool_id

    def add(self, name: str, group: str, password: str | None = None) -> str:
        """Create `name` in `group` with `password` (generated when None); the password it can sign in with."""
        if group not in GROUPS:
            raise UserError(f"group must be one of {', '.join(GROUPS)}")
        password = password or generate_password()
        with _refusals():
            self.cognito.admin_create_user(UserPoolId=self.pool_id, Username=name, MessageAction="SUPPRESS")
            try:
                self._set_password(name, password)
                self.cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=name, GroupName=group)
            except Exception:
                self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=name)  # no half-made account
                raise
        return password

    def list(self) -> list[User]:
        users = []
        for page in self.cognito.get_paginator("list_users").paginate(UserPoolId=self.pool_id):
            for user in page["Users"]:
                groups = self.cognito.admin_list_groups_for_user(UserPoolId=self.pool_id, Username=user["Username"])
                users.append(
                    User(
                        user["Username"],
                        tuple(sorted(g["GroupName"] for g in groups["Groups"])),
                        bool(user.get("Enabled", True)),
                        user.get("UserStatus", ""),
                    )
                )
        return sorted(users, key=lambda u: u.name)

    def remove(self, name: str) -> None:
        with _refusals():
            self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=name)

    def reset_password(self, name: str, password: str | None = None) -> str:
        password = password or generate_password()
        with _refusals():
            self._set_password(name, password)
        return password

    def _set_password(self, name: str, password: str) -> None:
        self.cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=name, Password=password, Permanent=True)


_REFUSALS = {
    "UsernameExistsException",
    "UserNotFoundException",
    "InvalidPasswordException",
    "InvalidParameterException",
}


@contextmanager
def _refusals() -> Iterator[None]:
    """Cognito's refusals (the name is taken, no such user, the policy refuses the password) as a UserError with
    Cognito's own message; anything else propagates."""
    try:
        yield
    except ClientError as exc:
        details = exc.response.get("Error", {})
        if details.get("Code") not in _REFUSALS:
            raise
        raise UserError(f"{details.get('Code')}: {details.get('Message')}") from None


def pool_of_deployed_stack(cloudformation: Any, stack_name: str) -> str:
    """The UserPoolId output of a deployed Shopwatch stack."""
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "UserPoolId":
            return output["OutputValue"]
    raise UserError(f"stack {stack_name} has no UserPoolId output (deploy this version of the template first)")
