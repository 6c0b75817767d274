"""The notification ledger in StateTable: quiet periods per subject + detector, and sent markers.

    NOTIFY#<subject>#<detector> / QUIET        until (epoch), rank (highest severity told), owner (event key)
    SENT#<event key>            / SNS          this event's message was published

A retried stream record finds its SENT marker and publishes nothing again; a record retried after a failed
publish still owns its quiet slot and publishes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from shopwatch.domain.clock import epoch_seconds, to_iso
from shopwatch.storage.aws import client, with_retries
from shopwatch.storage.items import to_attribute

SENT_RETENTION = timedelta(days=7)


class NotificationLedger:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def was_sent(self, event_key: str) -> bool:
        response = with_retries(
            lambda: client("dynamodb").get_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"SENT#{event_key}"}, "sk": {"S": "SNS"}},
                ConsistentRead=True,
            )
        )
        return "Item" in response

    def claim_quiet_slot(
        self, subject: str, detector: str, rank: int, event_key: str, now: datetime, quiet: timedelta
    ) -> bool:
        """Take the right to notify about subject + detector now. Granted when nothing was told within the
        quiet period, when this event is more severe than what was told, or when this event holds it already.
        Retried through throttling: a repeat of a claim that landed finds this event holding the slot."""
        try:
            with_retries(
                lambda: client("dynamodb").update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": f"NOTIFY#{subject}#{detector}"}, "sk": {"S": "QUIET"}},
                    UpdateExpression="SET #until = :until, #rank = :rank, #owner = :owner, expires_at = :expires",
                    ConditionExpression="attribute_not_exists(pk) OR #until <= :now OR #rank < :rank OR #owner = :owner",
                    ExpressionAttributeNames={"#until": "until", "#rank": "rank", "#owner": "owner"},
                    ExpressionAttributeValues={
                        ":until": to_attribute(epoch_seconds(now + quiet)),
                        ":now": to_attribute(epoch_seconds(now)),
                        ":rank": to_attribute(rank),
                        ":owner": to_attribute(event_key),
                        ":expires": to_attribute(epoch_seconds(now + quiet + SENT_RETENTION)),
                    },
                )
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_sent(self, event_key: str, message_id: str, now: datetime) -> None:
        """Record a published message. Retried through throttling: the message is out, and a record retried
        without this mark would publish it a second time."""
        item = {
            "pk": {"S": f"SENT#{event_key}"},
            "sk": {"S": "SNS"},
            "message_id": {"S": message_id},
            "sent_at": {"S": to_iso(now)},
            "expires_at": to_attribute(epoch_seconds(now + SENT_RETENTION)),
        }
        with_retries(lambda: client("dynamodb").put_item(TableName=self.table_name, Item=item))
