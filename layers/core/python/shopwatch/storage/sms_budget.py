"""The SMS budget in StateTable: at most one SMS per period per recipient, the rest held for the next one.

    SMS#<recipient> / BUDGET    until (epoch: the period's end), owner (event key of the SMS that opened it),
                                held (string set: alerts held back since), told (what the owner's SMS summarises),
                                version (moved by every change)

Every write is conditional on the version read, so two records racing for one period cannot both send, and a
retried record changes nothing twice: the owner of the period finds itself and sends the same summary again
(its publish had failed), and holding is adding to a set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from shopwatch.domain.clock import epoch_seconds
from shopwatch.notify.sms import SmsTurn
from shopwatch.storage.aws import TRANSIENT_ERRORS, client, with_retries

RETENTION = timedelta(days=7)
MAX_ATTEMPTS = 8


class SmsBudget:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def _key(self, recipient: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"SMS#{recipient or 'default'}"}, "sk": {"S": "BUDGET"}}

    def take_turn(self, recipient: str, entry: str, event_key: str, now: datetime, period: timedelta) -> SmsTurn:
        """Send now (the period is over, or this event opened it), or hold `entry` for the next SMS."""
        for _ in range(MAX_ATTEMPTS):
            item = with_retries(
                lambda: client("dynamodb").get_item(
                    TableName=self.table_name, Key=self._key(recipient), ConsistentRead=True
                )
            )
            current = item.get("Item", {})
            version = current.get("version", {}).get("N", "0")
            if current.get("owner", {}).get("S") == event_key:
                return SmsTurn(True, tuple(sorted(current.get("told", {}).get("SS", ()))))
            held = tuple(sorted(current.get("held", {}).get("SS", ())))
            opening = not current or int(current["until"]["N"]) <= epoch_seconds(now)
            try:
                if opening:
                    self._open(recipient, event_key, held, version, now, period)
                    return SmsTurn(True, held)
                self._hold(recipient, entry, version)
                return SmsTurn(False)
            except ClientError as exc:
                # changed under us, or throttled (a write that landed anyway is found on the next read): read again
                if exc.response.get("Error", {}).get("Code") not in {
                    "ConditionalCheckFailedException",
                    *TRANSIENT_ERRORS,
                }:
                    raise
        raise RuntimeError(f"the SMS budget of {recipient or 'default'} kept changing under {MAX_ATTEMPTS} attempts")

    def _open(
        self, recipient: str, event_key: str, held: tuple[str, ...], version: str, now: datetime, period: timedelta
    ) -> None:
        values: dict[str, dict[str, str | list[str]]] = {
            ":until": {"N": str(epoch_seconds(now + period))},
            ":owner": {"S": event_key},
            ":version": {"N": version},
            ":one": {"N": "1"},
            ":expires": {"N": str(epoch_seconds(now + period + RETENTION))},
        }
        told = "told = :told, " if held else ""
        if held:
            values[":told"] = {"SS": list(held)}
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=self._key(recipient),
            UpdateExpression=f"SET {told}#until = :until, #owner = :owner, expires_at = :expires "
            f"ADD version :one REMOVE held{'' if held else ', told'}",
            ConditionExpression="attribute_not_exists(pk) OR version = :version",
            ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
            ExpressionAttributeValues=values,
        )

    def _hold(self, recipient: str, entry: str, version: str) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=self._key(recipient),
            UpdateExpression="ADD held :entry, version :one",
            ConditionExpression="version = :version",
            ExpressionAttributeValues={":entry": {"SS": [entry]}, ":one": {"N": "1"}, ":version": {"N": version}},
        )
