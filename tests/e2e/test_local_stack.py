"""End to end over HTTP against the local stack: what a user sees, and Lambda's stream semantics."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.client import ShopwatchClient
from infra.local.api_gateway import routes_from_template
from infra.local.stack import LocalStack, PortInUse
from infra.local.stream_reader import StreamCursor
from infra.template import resources_of_type
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.state import StateRepository


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def marker_exists(stack: LocalStack, transaction_id: str) -> bool:
    item = stack.client("dynamodb").get_item(
        TableName=stack.table("StateTable"), Key={"pk": {"S": f"TXN#{transaction_id}"}, "sk": {"S": "DETECT#0"}}
    )
    return "Item" in item


def purchase(tid: str, customer: str = "e2e-1", price: str = "5.00") -> dict:
    return {
        "transaction_id": tid,
        "customer_id": customer,
        "customer_name": "Eve Example",
        "timestamp": to_iso(utcnow() - timedelta(seconds=5)),
        "currency": "USD",
        "items": [{"sku": "E2E-CAMERA", "name": "Camera", "quantity": 1, "unit_price": price}],
    }


@pytest.fixture
def detect_service(local_stack):
    return sys.modules["shopwatch_fn_detect_app"].service


def test_an_anomalous_transaction_becomes_an_alert_and_a_notification(local_stack, api):
    StateRepository(local_stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("E2E-CAMERA", Decimal("1000.00"), "USD", "Camera")
    )
    assert api.post_transactions([purchase("e2e-deal")])["accepted"] == ["e2e-deal"]
    delivered = wait_for(
        lambda: [d for d in local_stack.outbox.collect() + local_stack.outbox.deliveries if "e2e-deal" in d["body"]]
    )
    assert {d["protocol"] for d in delivered} == {"email", "sms"}
    email = next(d for d in delivered if d["protocol"] == "email")
    assert email["subject"] == "[Shopwatch] CRITICAL price anomaly - Eve Example (e2e-1)"
    assert "99.5% below its catalog price of 1,000.00 USD" in email["body"]
    outbox_file = [json.loads(line) for line in (local_stack.state_dir / "outbox.jsonl").read_text().splitlines()]
    assert any("e2e-deal" in d["body"] for d in outbox_file)


def test_the_api_key_is_enforced_as_api_gateway_does(local_stack):
    request = urllib.request.Request(
        local_stack.url + "/transactions", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert (caught.value.code, json.loads(caught.value.read())) == (403, {"message": "Forbidden"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(local_stack.url + "/nowhere")
    assert (caught.value.code, json.loads(caught.value.read())) == (403, {"message": "Missing Authentication Token"})


def test_the_key_only_feeds_data_and_people_sign_in_with_tokens_the_gateway_checks(local_stack):
    shop = ShopwatchClient(local_stack.url, local_stack.api_key, retries=0)
    assert shop.request("GET", "/alerts") == (401, {"message": "Unauthorized"})
    assert shop.request("PUT", "/products/E2E-MUG", {"price": "4.00"})[0] == 200
    person = ShopwatchClient(local_stack.url, retries=0)
    wrong = {"username": "admin", "password": "Wrong-pass-1!"}  # pragma: allowlist secret
    assert person.request("POST", "/auth/login", wrong)[0] == 401
    token = person.sign_in("admin", local_stack.admin_password)
    assert person.request("GET", "/alerts?limit=1")[0] == 200
    assert person.request("PUT", "/products/E2E-MUG", {"price": "5.00"}) == (403, {"message": "Forbidden"})
    header, payload, signature = token.split(".")
    forged = ShopwatchClient(local_stack.url, retries=0, token=".".join((header, payload[:-4] + "AAAA", signature)))
    assert forged.request("GET", "/alerts") == (401, {"message": "Unauthorized"})


def test_a_sale_is_counted_in_its_minute_and_served_by_the_stats_route(local_stack, api):
    sale = purchase("e2e-stats", customer="e2e-stats") | {"status": "denied"}
    assert api.post_transactions([sale])["accepted"] == ["e2e-stats"]
    minute = sale["timestamp"][:16] + ":00Z"

    def counted():
        status, body = api.request("GET", f"/stats/minutes?since={minute}&until={minute}")
        assert status == 200
        return body["minutes"][0]["statuses"]["denied"] >= 1 and body["minutes"][0]

    assert wait_for(counted)["start"] == minute
    with urllib.request.urlopen(local_stack.url + "/health") as response:  # the one route without a key
        assert json.loads(response.read()) == {"status": "ok"}
    assert api.request("GET", "/stats/daily?days=0")[0] == 400


def test_requests_to_different_functions_at_once_each_see_their_own_event(local_stack, api):
    """Lambda gives each function its own process; here they share one, and Powertools keeps the resolver's
    current event at class level. A dashboard refreshing while a shop posts must not hand either function
    the other's request (it once made ingest read a GET's empty body)."""
    stop = threading.Event()
    answers: list[int] = []

    def dashboard() -> None:
        while not stop.is_set():
            answers.append(api.request("GET", "/alerts?limit=5")[0])

    readers = [threading.Thread(target=dashboard) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        results = [
            api.post_transactions([purchase(f"e2e-race-{i}", customer=f"e2e-race-{i % 7}", price="1000.00")])
            for i in range(60)
        ]
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert [r["accepted"] for r in results] == [[f"e2e-race-{i}"] for i in range(60)]
    assert answers and set(answers) == {200}


def test_bad_input_gets_the_handlers_clear_error_over_http(api):
    status, body = api.request("POST", "/transactions", {"transaction_id": "x", "customer_id": "c", "amount": "-1"})
    assert status == 400
    assert body["error"]["code"] == "validation_failed"


def test_a_failing_record_is_retried_alone_from_its_sequence_number(local_stack, api, detect_service, monkeypatch):
    real = detect_service.process
    calls: dict[str, int] = {}

    def flaky(batch, tx):
        calls[tx.transaction_id] = calls.get(tx.transaction_id, 0) + 1
        if tx.transaction_id == "e2e-flaky" and calls[tx.transaction_id] == 1:
            raise RuntimeError("transient")
        return real(batch, tx)

    monkeypatch.setattr(detect_service, "process", flaky)
    api.post_transactions(
        [purchase("e2e-before", "e2e-2"), purchase("e2e-flaky", "e2e-2"), purchase("e2e-after", "e2e-2")]
    )
    wait_for(lambda: all(marker_exists(local_stack, t) for t in ("e2e-before", "e2e-flaky", "e2e-after")))
    # ingest writes a batch's items in parallel, so their stream order is the sequence numbers', not the POST's
    records = StreamCursor(
        local_stack.client("dynamodbstreams"), local_stack.resources.stream_arns["TransactionsTable"]
    ).read_new()
    sequence = {r["dynamodb"]["Keys"]["transaction_id"]["S"]: int(r["dynamodb"]["SequenceNumber"]) for r in records}
    flaky_at = sequence["e2e-flaky"]
    assert calls["e2e-flaky"] == 2
    for other in ("e2e-before", "e2e-after"):
        # before the failed record: delivered once; after it: redelivered with it and recognised by its marker
        assert calls[other] == (2 if sequence[other] > flaky_at else 1), (other, sequence)


def test_a_poison_record_goes_to_the_dead_letter_queue_after_the_retries_and_the_rest_flow_on(
    local_stack, api, detect_service, monkeypatch
):
    real = detect_service.process
    attempts = {"n": 0}

    def poisoned(batch, tx):
        if tx.transaction_id == "e2e-poison":
            attempts["n"] += 1
            raise RuntimeError("cannot process this record")
        return real(batch, tx)

    monkeypatch.setattr(detect_service, "process", poisoned)
    api.post_transactions([purchase("e2e-poison", "e2e-3")])
    api.post_transactions([purchase("e2e-healthy", "e2e-4")])
    sqs = local_stack.client("sqs")
    queue = local_stack.resources.queues["StreamDeadLetterQueue"]
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"))
    failure = json.loads(messages[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 4  # 1 + StreamMaxRetries (3)
    assert failure["DDBStreamBatchInfo"]["streamArn"] == local_stack.resources.stream_arns["TransactionsTable"]
    assert attempts["n"] == 4
    wait_for(lambda: marker_exists(local_stack, "e2e-healthy"))
    assert not marker_exists(local_stack, "e2e-poison")


def test_modify_events_are_filtered_out_before_the_function(local_stack, api):
    api.post_transactions([purchase("e2e-modified", "e2e-5", price="999.00")])
    wait_for(lambda: marker_exists(local_stack, "e2e-modified"))
    poller = next(p for p in local_stack.pollers if p.source.function == "DetectFunction")
    before_filtered, before_invocations = poller.stats.filtered_out, poller.stats.invocations
    local_stack.client("dynamodb").update_item(
        TableName=local_stack.table("TransactionsTable"),
        Key={"transaction_id": {"S": "e2e-modified"}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "edited"}},
    )
    wait_for(lambda: poller.stats.filtered_out > before_filtered)
    assert poller.stats.invocations == before_invocations


def test_the_local_stack_has_exactly_the_templates_resources(local_stack):
    template = local_stack.template
    assert set(local_stack.resources.tables) == set(resources_of_type(template, "AWS::DynamoDB::Table"))
    assert set(local_stack.resources.topics) == set(resources_of_type(template, "AWS::SNS::Topic"))
    assert set(local_stack.resources.queues) == set(resources_of_type(template, "AWS::SQS::Queue"))
    assert set(local_stack.resources.buckets) == set(resources_of_type(template, "AWS::S3::Bucket"))
    assert set(local_stack.functions) == set(resources_of_type(template, "AWS::Serverless::Function"))
    assert {s.logical_id for s in local_stack.outbox.subscriptions} == set(
        resources_of_type(template, "AWS::SNS::Subscription")
    )
    expected_sources = {
        (name, event_name)
        for name, fn in resources_of_type(template, "AWS::Serverless::Function").items()
        for event_name, event in fn["Properties"].get("Events", {}).items()  # BacktestFunction is invoked, no events
        if event["Type"] == "DynamoDB"
    }
    assert {(p.source.function, p.source.event_name) for p in local_stack.pollers} == expected_sources
    served = {(r.method, r.path, r.function) for r in local_stack.api_server.gateway.routes}
    assert served == {(r.method, r.path, r.function) for r in routes_from_template(template)}
    assert {f for m, p, f in served if (m, p) != ("POST", "/transactions")} == {"ApiFunction"}
    # the shop's POST /transactions and catalog writes, the people's routes, and the admins' two catalog writes
    # 28 + the five model routes + 15 rules and lists routes + the two backtest routes + the four case routes,
    # POST /alerts/bulk and GET /entities/{kind}/{value}
    assert ("POST", "/transactions", "IngestFunction") in served and len(served) == 56
    assert set(local_stack.resources.user_pools) == set(resources_of_type(template, "AWS::Cognito::UserPool"))
    assert set(local_stack.resources.user_pool_clients) == set(
        resources_of_type(template, "AWS::Cognito::UserPoolClient")
    )
    assert set(local_stack.api_server.gateway.authorizers) == {"ShopwatchUsers"}
    assert {s.function for s in local_stack.scheduler.schedules} == {
        "WindowFunction",
        "DigestFunction",
        "TrainFunction",
    }
    for table, arn in local_stack.resources.stream_arns.items():
        view = template["Resources"][table]["Properties"]["StreamSpecification"]["StreamViewType"]
        described = local_stack.client("dynamodb").describe_table(TableName=local_stack.table(table))["Table"]
        assert described["StreamSpecification"]["StreamViewType"] == view
        assert described["LatestStreamArn"] == arn


def test_other_processes_reach_the_same_data_through_the_moto_server(local_stack):
    import boto3

    remote = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    assert local_stack.table("TransactionsTable") in remote.list_tables()["TableNames"]


def test_state_and_env_files_are_written_for_the_cli_and_sam_local(local_stack):
    state = json.loads((local_stack.state_dir / "stack.json").read_text())
    assert (state["url"], state["api_key"]) == (local_stack.url, "e2e-key")
    env = json.loads((local_stack.state_dir / "env.json").read_text())
    assert env["IngestFunction"]["TRANSACTIONS_TABLE"] == local_stack.table("TransactionsTable")
    assert env["NotifyFunction"]["AWS_ENDPOINT_URL"] == local_stack.aws_endpoint


def test_a_second_stack_on_the_same_port_fails_with_a_clear_message(local_stack, tmp_path):
    with pytest.raises(PortInUse, match=f"port {local_stack.port} .* is in use"):
        LocalStack(port=local_stack.port, state_dir=tmp_path).start()


def test_the_stack_tunes_the_interpreter_for_its_threads_while_it_runs(local_stack):
    """One process, one GIL, a heap of stored items: a longer switch interval and survivors frozen out of
    the cycle collector (infra/local/collector.py) while the stack runs."""
    from infra.local.stack import SWITCH_INTERVAL

    assert sys.getswitchinterval() == SWITCH_INTERVAL
    assert local_stack.collector.is_alive()
    deadline = time.monotonic() + 10
    while local_stack.collector.freezes < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert local_stack.collector.freezes >= 2  # at start, then every second
