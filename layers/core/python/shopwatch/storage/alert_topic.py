"""An SNS topic (AlertsTopic, DigestTopic): per-protocol messages with the attributes subscriptions filter on."""

from __future__ import annotations

from shopwatch.notify.messages import AlertMessage
from shopwatch.storage.aws import client


class AlertTopic:
    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def publish(self, message: AlertMessage) -> str:
        response = client("sns").publish(
            TopicArn=self.topic_arn,
            Subject=message.subject,
            Message=message.structure(),
            MessageStructure="json",
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in message.attributes.items()
            },
        )
        return response["MessageId"]
