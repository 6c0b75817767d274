"""Shared fixtures: a moto account with the template's own tables, topic and queue, and handlers loaded the
way Lambda loads them, with the environment the template gives each function."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopwatchTest",
        "POWERTOOLS_SERVICE_NAME": "shopwatch",
        # botocore sends DynamoDB Streams calls to account-based endpoints (<account>.streams-ddb...), which
        # moto does not intercept; the classic endpoints behave the same.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from infra.local import moto_item_lock
from infra.local.lambda_context import LocalLambdaContext
from infra.local.lambda_loader import load_handler
from infra.local.resources import LocalResources, create_resources, function_environment
from infra.local.stream_events import lambda_event, lambda_record, parse_filters, passes_filters
from infra.local.stream_reader import StreamCursor
from infra.template import ROOT, load_template
from shopwatch.storage.aws import reset_clients

EVENTS = ROOT / "events"
TEMPLATE = load_template()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


class Stack:
    """The template's resources on moto, and its functions callable as Lambda would call them."""

    def __init__(self, resources: LocalResources, monkeypatch: pytest.MonkeyPatch) -> None:
        self.resources = resources
        self.monkeypatch = monkeypatch
        self.resolver = resources.resolver(TEMPLATE)
        self.session = boto3.Session(region_name="us-east-1")
        self.dynamodb = self.session.client("dynamodb")
        self.streams = self.session.client("dynamodbstreams")
        self.sns = self.session.client("sns")
        self.sqs = self.session.client("sqs")
        self._handlers: dict[str, Callable[..., Any]] = {}

    def table(self, logical_id: str) -> str:
        return self.resources.tables[logical_id]

    def handler(self, logical_id: str, **env_overrides: str) -> Callable[[dict[str, Any]], Any]:
        """Load the function fresh (a new container) with its template environment plus overrides."""
        env = function_environment(TEMPLATE, logical_id, self.resolver) | env_overrides
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        properties = TEMPLATE["Resources"][logical_id]["Properties"]
        handler = load_handler(properties["CodeUri"], properties["Handler"])
        context = LocalLambdaContext(function_name=logical_id)

        def invoke(event: dict[str, Any]) -> Any:
            return handler(event, context)

        return invoke

    def cursor(self, table_logical_id: str) -> StreamCursor:
        return StreamCursor(self.streams, self.resources.stream_arns[table_logical_id])

    def stream_event(self, cursor: StreamCursor, function_logical_id: str) -> dict[str, Any] | None:
        """New stream records as the function's event source would deliver them (its FilterCriteria applied)."""
        source = next(
            e["Properties"]
            for e in TEMPLATE["Resources"][function_logical_id]["Properties"]["Events"].values()
            if e["Type"] == "DynamoDB"
        )
        patterns = parse_filters(source.get("FilterCriteria"))
        records = [lambda_record(r, cursor.stream_arn) for r in cursor.read_new()]
        kept = [r for r in records if passes_filters(r, patterns)]
        return lambda_event(kept) if kept else None

    def subscribe_queue(self, name: str, filter_policy: dict[str, Any] | None, topic: str = "AlertsTopic") -> str:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": "false"}
        if filter_policy is not None:
            attributes |= {"FilterPolicy": json.dumps(filter_policy), "FilterPolicyScope": "MessageAttributes"}
        self.sns.subscribe(TopicArn=self.resources.topics[topic], Protocol="sqs", Endpoint=arn, Attributes=attributes)
        return url

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def pipeline(self, **env_overrides: str) -> Pipeline:
        return Pipeline(self, env_overrides)

    def scan(self, logical_id: str) -> list[dict[str, Any]]:
        from shopwatch.storage.items import from_attributes

        items, kwargs = [], {"TableName": self.table(logical_id)}
        while True:
            response = self.dynamodb.scan(**kwargs)
            items += [from_attributes(i) for i in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class Pipeline:
    """Ingest → transactions stream → DetectFunction (and AggregateFunction) → alerts stream → NotifyFunction, in one process, with
    records read through the DynamoDB Streams API and each event source's FilterCriteria applied."""

    def __init__(self, stack: Stack, env_overrides: dict[str, str]) -> None:
        self.stack = stack
        self.ingest = stack.handler("IngestFunction", **env_overrides)
        self.detect = stack.handler("DetectFunction", **env_overrides)
        self.aggregate = stack.handler("AggregateFunction", **env_overrides)
        self.notify = stack.handler("NotifyFunction", **env_overrides)
        self.transactions = stack.cursor("TransactionsTable")
        self.transactions_for_aggregates = stack.cursor("TransactionsTable")  # the stream's second reader
        self.alerts = stack.cursor("AlertsTable")
        self.responses: list[dict[str, Any]] = []

    def post(self, body: Any) -> dict[str, Any]:
        event = load_event("ingest_post_transactions.json")
        event["body"] = json.dumps(body)
        response = self.ingest(event)
        return {"status": response["statusCode"], "body": json.loads(response["body"])}

    def drain(self) -> None:
        """Deliver every pending stream record to its consumer until nothing new appears."""
        while True:
            moved = False
            for cursor, function, handler in (
                (self.transactions, "DetectFunction", self.detect),
                (self.transactions_for_aggregates, "AggregateFunction", self.aggregate),
                (self.alerts, "NotifyFunction", self.notify),
            ):
                event = self.stack.stream_event(cursor, function)
                if event is not None:
                    response = handler(event)
                    self.responses.append(response)
                    assert response == {"batchItemFailures": []}, response
                    moved = True
            if not moved:
                return


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    # moto answers in process here; an endpoint left by a CLI test (`point_at`) would send calls to a server
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    forget_parameters()
    with mock_aws():
        moto_item_lock.install()
        reset_clients()
        resources = create_resources(boto3.Session(region_name="us-east-1"))
        yield Stack(resources, monkeypatch)
        moto_item_lock.uninstall()
    reset_clients()
    forget_parameters()


def forget_parameters() -> None:
    """Powertools caches parameters and its SSM/Secrets clients per container: each stack is new containers."""
    parameters.clear_caches()
    parameters.base.DEFAULT_PROVIDERS.clear()


@pytest.fixture
def events_dir() -> Path:
    return EVENTS
