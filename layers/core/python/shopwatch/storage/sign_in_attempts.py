"""Failed sign-ins per user name, counted in fixed windows in StateTable (`SIGNIN#<hash>` / `WINDOW#<start>`).

The user name is stored only as a hash: the counter is about whoever types it, and the table should not become
a list of the names people (and attackers) tried. Each window's item expires with TTL once it cannot matter.
"""

from __future__ import annotations

import hashlib

from shopwatch.storage.aws import client


class SignInAttempts:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @staticmethod
    def _key(username: str, window_start: int) -> dict[str, dict[str, str]]:
        digest = hashlib.sha256(username.casefold().encode()).hexdigest()  # the pool's names are case-insensitive
        return {"pk": {"S": f"SIGNIN#{digest}"}, "sk": {"S": f"WINDOW#{window_start}"}}

    def failures(self, username: str, window_start: int) -> int:
        item = (
            client("dynamodb")
            .get_item(TableName=self.table_name, Key=self._key(username, window_start), ConsistentRead=True)
            .get("Item")
        )
        return int(item["failures"]["N"]) if item else 0

    def add_failure(self, username: str, window_start: int, expires_at: int) -> int:
        """Count one failure (an atomic ADD, so parallel guesses are all counted); the window's new total."""
        answer = client("dynamodb").update_item(
            TableName=self.table_name,
            Key=self._key(username, window_start),
            UpdateExpression="ADD failures :one SET expires_at = :expires",
            ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires_at)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["failures"]["N"])

    def clear(self, username: str, window_start: int) -> None:
        client("dynamodb").delete_item(TableName=self.table_name, Key=self._key(username, window_start))
