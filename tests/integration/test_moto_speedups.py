"""The local stack's item-level TransactWriteItems keeps moto's (and DynamoDB's) semantics: all or nothing,
per-action cancellation reasons, one action per item. The detect suite passes on it as on stock moto."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from infra.local import moto_speedups


@pytest.fixture
def fast_transactions():
    moto_speedups.install()
    yield
    moto_speedups.uninstall()


def put(table, pk, sk="x", condition=None):
    action = {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}
    if condition:
        action["ConditionExpression"] = condition
    return {"Put": action}


def test_a_failed_condition_cancels_every_action_and_names_the_culprit(stack, fast_transactions):
    table = stack.table("StateTable")
    stack.dynamodb.transact_write_items(TransactItems=[put(table, "existing")])
    with pytest.raises(ClientError) as caught:
        stack.dynamodb.transact_write_items(
            TransactItems=[
                put(table, "new-1"),
                put(table, "existing", condition="attribute_not_exists(pk)"),
                put(table, "new-2"),
            ]
        )
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    assert [i["pk"] for i in stack.scan("StateTable")] == ["existing"]


def test_two_actions_on_one_item_are_refused(stack, fast_transactions):
    table = stack.table("StateTable")
    with pytest.raises(ClientError):
        stack.dynamodb.transact_write_items(TransactItems=[put(table, "a"), put(table, "a")])
    assert stack.scan("StateTable") == []


def test_updates_apply_when_all_conditions_hold(stack, fast_transactions):
    table = stack.table("StateTable")
    update = {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "c"}, "sk": {"S": "x"}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    stack.dynamodb.transact_write_items(TransactItems=[put(table, "m", condition="attribute_not_exists(pk)"), update])
    stack.dynamodb.transact_write_items(TransactItems=[update])
    counter = next(i for i in stack.scan("StateTable") if i["pk"] == "c")
    assert counter["n"] == 2


@pytest.mark.parametrize("fast", [False, True])
def test_a_write_that_fails_midway_leaves_every_item_as_it_was(stack, fast):
    """A write can fail after its condition checks (here: ADD of a number to a string attribute, refused when
    applied). Every action already applied is undone, as on stock moto: the simple updates replace their
    items, so the old items are the rollback's snapshot; moto's own path gets a copy first."""
    table = stack.table("StateTable")

    def add(pk, attribute, value):
        return {"Update": {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": "x"}},
                           "UpdateExpression": f"ADD {attribute} :v", "ExpressionAttributeValues": {":v": value}}}  # fmt: skip

    stack.dynamodb.transact_write_items(
        TransactItems=[add("a", "n", {"N": "1"}), add("b", "tags", {"SS": ["x"]}), put(table, "c")]
    )
    stack.dynamodb.update_item(
        TableName=table, Key={"pk": {"S": "c"}, "sk": {"S": "x"}}, UpdateExpression="SET s = :s",
        ExpressionAttributeValues={":s": {"S": "text"}},
    )  # fmt: skip
    before = sorted(stack.scan("StateTable"), key=lambda i: i["pk"])
    if fast:
        moto_speedups.install()
    try:
        with pytest.raises(ClientError) as refused:
            stack.dynamodb.transact_write_items(
                TransactItems=[add("a", "n", {"N": "5"}), add("b", "tags", {"SS": ["y"]}), add("c", "s", {"N": "1"})]
            )
    finally:
        if fast:
            moto_speedups.uninstall()
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert sorted(stack.scan("StateTable"), key=lambda i: i["pk"]) == before


def test_the_detect_exactly_once_suite_holds_on_the_fast_path(stack, fast_transactions):
    from tests.integration import test_detect_handler as suite

    event = suite.ingest_and_read(stack, suite.mixed_batch())
    first = suite.run_once(stack, event)
    assert suite.run_once(stack, event) == first


def test_the_fast_path_leaves_exactly_what_stock_moto_leaves(stack):
    """The same detection batch on stock moto and on the local stack's fast path: identical tables."""
    from infra.local.resources import create_resources
    from tests.conftest import Stack
    from tests.integration import test_detect_handler as suite

    event = suite.ingest_and_read(stack, suite.mixed_batch())
    stock = suite.run_once(stack, event)
    other = Stack(create_resources(stack.session, prefix="fast"), stack.monkeypatch)
    moto_speedups.install()
    try:
        fast = suite.run_once(other, event)
    finally:
        moto_speedups.uninstall()
    assert fast == stock


def test_cached_validation_still_rejects_an_unused_attribute_name_every_time(stack, fast_transactions):
    table = stack.table("StateTable")
    update = {
        "TableName": table,
        "Key": {"pk": {"S": "p"}, "sk": {"S": "s"}},
        "UpdateExpression": "ADD #n :one",
        "ExpressionAttributeNames": {"#n": "n", "#unused": "u"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    for _ in range(2):  # the second time the parse comes from the cache
        with pytest.raises(ClientError, match="unused"):
            stack.dynamodb.transact_write_items(TransactItems=[{"Update": update}])
    del update["ExpressionAttributeNames"]["#unused"]
    for _ in range(2):
        stack.dynamodb.transact_write_items(TransactItems=[{"Update": update}])
    assert stack.scan("StateTable")[0]["n"] == 2


@pytest.mark.parametrize("size", [399_000, 404_000, 406_000])
def test_the_one_pass_item_size_check_refuses_exactly_what_moto_refuses(stack, size):
    """Item attributes add up to `size` bytes: stock moto and the fast path accept or refuse them alike."""
    from shopwatch.storage.aws import client

    table = stack.table("StateTable")
    attributes = {f"a{i}": {"S": "x" * (size // 4)} for i in range(4)}

    def outcome(pk: str) -> str:
        try:
            client("dynamodb").put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "s"}, **attributes})
        except ClientError as error:
            return error.response["Error"]["Message"]
        return "stored"

    stock = outcome("stock")
    moto_speedups.install()
    try:
        fast = outcome("fast")
    finally:
        moto_speedups.uninstall()
    assert fast == stock
    assert (stock == "stored") == (size < 405_000)


def test_the_cached_user_agent_sanitizing_gives_botocores_strings():
    import botocore.useragent as ua

    samples = [("Boto3", False), ("md/arch#arm64", True), ("weird chars !@€", False), ("1.40.0", False)]
    expected = [ua.sanitize_user_agent_string_component(*s) for s in samples]
    moto_speedups.install()
    try:
        first = [ua.sanitize_user_agent_string_component(*s) for s in samples]
        again = [ua.sanitize_user_agent_string_component(*s) for s in samples]  # from the cache
        assert first == again == expected
        assert ua.sanitize_user_agent_string_component.cache_info().hits >= len(samples)
        assert ua.sanitize_user_agent_string_component is not moto_speedups._ORIGINAL_SANITIZE
    finally:
        moto_speedups.uninstall()
    assert ua.sanitize_user_agent_string_component is moto_speedups._ORIGINAL_SANITIZE


def test_cached_conditions_judge_each_item_afresh_and_still_refuse_unused_names(stack, fast_transactions):
    table = stack.table("StateTable")
    guarded = {"ConditionExpression": "attribute_not_exists(#p)", "ExpressionAttributeNames": {"#p": "pk"}}
    for pk in ("a", "b"):  # the second put reuses the first one's cached tree on another item
        stack.dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": "x"}}, **guarded)
    with pytest.raises(ClientError) as repeated:
        stack.dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "x"}}, **guarded)
    assert repeated.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    for _ in range(2):  # parsed, then cached: refused both times
        with pytest.raises(ClientError) as unused:
            stack.dynamodb.put_item(
                TableName=table,
                Item={"pk": {"S": "c"}, "sk": {"S": "x"}},
                ConditionExpression="attribute_not_exists(#p)",
                ExpressionAttributeNames={"#p": "pk", "#q": "sk"},
            )
        assert "unused" in unused.value.response["Error"]["Message"]
    assert sorted(i["pk"] for i in stack.scan("StateTable")) == ["a", "b"]


def test_a_query_on_the_table_key_reads_its_partition_only_with_the_same_answer(stack):
    """The partition hint: same items, order, pagination and key conditions as moto's full-table query."""
    table = stack.table("StateTable")
    for pk in ("RECENT#a", "RECENT#b", "TXN#1"):
        for sk in ("2026-01-01T00:00:03Z#t3", "2026-01-01T00:00:01Z#t1", "2026-01-01T00:00:02Z#t2"):
            stack.dynamodb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})

    def ask(**extra):
        pages, kwargs = [], {"TableName": table, "KeyConditionExpression": "pk = :pk AND sk > :lo",
                             "ExpressionAttributeValues": {":pk": {"S": "RECENT#a"}, ":lo": {"S": "2026-01-01T00:00:01Z~"}},
                             "Limit": 1} | extra  # fmt: skip
        while True:
            response = stack.dynamodb.query(**kwargs)
            pages.append(response["Items"])
            if "LastEvaluatedKey" not in response:
                return pages
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    plain = ask(), ask(ScanIndexForward=False)
    moto_speedups.install()
    try:
        fast = ask(), ask(ScanIndexForward=False)
        assert len(stack.scan("StateTable")) == 9  # scans still see every partition
    finally:
        moto_speedups.uninstall()
    assert fast == plain
    assert [i["sk"]["S"][:20] for page in plain[0] for i in page] == ["2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"]


def _every_page(dynamodb, **kwargs) -> list[list[dict]]:
    pages = []
    while True:
        response = dynamodb.query(**kwargs)
        pages.append(response["Items"])
        if "LastEvaluatedKey" not in response:
            return pages
        kwargs = {**kwargs, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def test_an_index_query_reads_the_matching_items_only_with_the_same_answer(stack):
    """The index hint and raw-value sort: the same items, order, pages, key conditions, filters and
    projections as moto's whole-table index query, on string and number sort keys; an index whose partition
    is a number takes moto's own path, and its answer is the same too."""
    alerts = stack.table("AlertsTable")
    for i in range(60):
        item = {"alert_id": {"S": f"al_{(i * 37) % 60:03d}"}, "status": {"S": ("open", "closed", "snoozed")[i % 3]},
                "customer_id": {"S": f"c{i % 4}"}, "created_at": {"S": f"2026-01-0{1 + i % 5}T00:00:{i % 7:02d}Z"},
                "risk": {"N": str(i % 11)}}  # fmt: skip
        if i % 4:  # sparse indexes: an alert without a case or a risk order is in neither
            item["case_id"] = {"S": f"case-{i % 3}"}
            item["risk_order"] = {"S": f"{(100 - i % 11) * 100:05d}#{item['created_at']['S']}"}
        stack.dynamodb.put_item(TableName=alerts, Item=item)
    stack.dynamodb.create_table(
        TableName="numbers", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              (("pk", "S"), ("sk", "N"), ("group", "S"), ("score", "N"), ("bucket", "N"))],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-score", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "group", "KeyType": "HASH"}, {"AttributeName": "score", "KeyType": "RANGE"}]},
            {"IndexName": "by-bucket", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "bucket", "KeyType": "HASH"}]},
        ],
    )  # fmt: skip
    for i in range(40):
        stack.dynamodb.put_item(TableName="numbers", Item={
            "pk": {"S": f"p{i % 5}"}, "sk": {"N": str(i)}, "group": {"S": f"g{i % 2}"},
            "score": {"N": str((i * 7) % 13 - 6) + (".5" if i % 3 == 0 else "")}, "bucket": {"N": str(i % 3)}})  # fmt: skip

    def values(**names):
        return {f":{k}": ({"N": v[1:]} if v.startswith("#") else {"S": v}) for k, v in names.items()}

    asks = [
        {"TableName": alerts, "IndexName": "by-risk", "KeyConditionExpression": "#s = :s",
         "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values(s="open"), "Limit": 4},
        {"TableName": alerts, "IndexName": "by-risk", "KeyConditionExpression": "#s = :s AND begins_with(risk_order, :p)",
         "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values(s="closed", p="099"),
         "ScanIndexForward": False, "Limit": 2},
        {"TableName": alerts, "IndexName": "by-case", "KeyConditionExpression": "case_id = :c AND created_at BETWEEN :a AND :b",
         "ExpressionAttributeValues": values(c="case-1", a="2026-01-02", b="2026-01-04~"), "Limit": 3},
        {"TableName": alerts, "IndexName": "by-customer", "KeyConditionExpression": "customer_id = :c",
         "FilterExpression": "risk > :r", "ExpressionAttributeValues": {**values(c="c2"), ":r": {"N": "4"}},
         "ProjectionExpression": "alert_id, risk", "Limit": 5},
        {"TableName": alerts, "IndexName": "by-status", "KeyConditionExpression": "#s = :s",
         "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": values(s="nobody")},
        {"TableName": "numbers", "IndexName": "by-score", "KeyConditionExpression": "#g = :g AND score >= :lo",
         "ExpressionAttributeNames": {"#g": "group"}, "ExpressionAttributeValues": values(g="g1", lo="#-2.5"), "Limit": 3},
        {"TableName": "numbers", "IndexName": "by-score", "KeyConditionExpression": "#g = :g",
         "ExpressionAttributeNames": {"#g": "group"}, "ExpressionAttributeValues": values(g="g0"), "ScanIndexForward": False},
        {"TableName": "numbers", "IndexName": "by-bucket", "KeyConditionExpression": "bucket = :b",
         "ExpressionAttributeValues": values(b="#1"), "Limit": 4},
    ]  # fmt: skip
    plain = [_every_page(stack.dynamodb, **ask) for ask in asks]
    moto_speedups.install()
    try:
        fast = [_every_page(stack.dynamodb, **ask) for ask in asks]
    finally:
        moto_speedups.uninstall()
    assert fast == plain
    assert sum(len(page) for page in plain[0]) == 15 and len(plain[0]) > 3  # the premise: several pages of many
    assert plain[4] == [[]] and all(any(pages) for pages in plain[:4] + plain[5:])
    scores = [float(i["score"]["N"]) for page in plain[6] for i in page]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 5  # numbers ordered as numbers


def test_a_cached_index_partition_follows_every_change_to_the_items(stack):
    """With moto_dirty_items installed (as on the local stack) a sorted index partition is kept until any item
    changes: asked again it answers from the cache, and after a put, an update in place (moving an alert to
    another partition or order), a refused UpdateItem, a delete or a change noted by the
    TTL sweeper, every answer is again the one stock moto gives."""
    from infra.local import moto_dirty_items

    alerts = stack.table("AlertsTable")

    def put(i: int, status: str = "open") -> None:
        created = f"2026-01-01T00:{i:02d}:00Z"
        stack.dynamodb.put_item(TableName=alerts, Item={
            "alert_id": {"S": f"al_{i:03d}"}, "status": {"S": status}, "customer_id": {"S": f"c{i % 3}"},
            "created_at": {"S": created}, "risk_order": {"S": f"{(100 - i % 9) * 100:05d}#{created}"}})  # fmt: skip

    for i in range(30):
        put(i, ("open", "closed")[i % 2])
    asks = [
        {"TableName": alerts, "IndexName": "by-risk", "KeyConditionExpression": "#s = :s",
         "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "open"}}, "Limit": 4},
        {"TableName": alerts, "IndexName": "by-status", "KeyConditionExpression": "#s = :s",
         "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "closed"}},
         "ScanIndexForward": False, "Limit": 3},
        {"TableName": alerts, "IndexName": "by-risk", "KeyConditionExpression": "#s = :s AND begins_with(risk_order, :p)",
         "FilterExpression": "customer_id <> :c", "ExpressionAttributeNames": {"#s": "status"},
         "ExpressionAttributeValues": {":s": {"S": "open"}, ":p": {"S": "0099"}, ":c": {"S": "c1"}}, "Limit": 2},
        {"TableName": alerts, "IndexName": "by-status", "KeyConditionExpression": "#s = :s AND created_at BETWEEN :a AND :b",
         "ExpressionAttributeNames": {"#s": "status"},
         "ExpressionAttributeValues": {":s": {"S": "open"}, ":a": {"S": "2026-01-01T00:05"}, ":b": {"S": "2026-01-01T00:25"}},
         "ScanIndexForward": False, "Limit": 2},
    ]  # fmt: skip

    def answers() -> list[list[list[dict]]]:
        return [_every_page(stack.dynamodb, **ask) for ask in asks]

    def set_status(alert_id: str, status: str) -> None:
        stack.dynamodb.update_item(
            TableName=alerts, Key={"alert_id": {"S": alert_id}}, UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": status}},
        )  # fmt: skip

    def failing_update() -> None:  # refused: whatever moto did to the item by then is what both paths answer
        with pytest.raises(ClientError):
            stack.dynamodb.update_item(
                TableName=alerts, Key={"alert_id": {"S": "al_004"}}, UpdateExpression="SET #s = :s, nothere.x = :s",
                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "closed"}},
            )  # fmt: skip

    def ttl_deletion() -> None:  # what the TTL sweeper does: out of moto's methods, then noted
        table = moto_backend_table(stack, alerts)
        item = table.items.pop(next(k for k in table.items if k.value == "al_006"))
        moto_dirty_items.note(alerts, item.hash_key, None)

    changes = [
        lambda: put(40),
        lambda: set_status("al_002", "closed"),
        lambda: stack.dynamodb.update_item(
            TableName=alerts,
            Key={"alert_id": {"S": "al_008"}},
            UpdateExpression="SET risk_order = :r",
            ExpressionAttributeValues={":r": {"S": "00000#first"}},
        ),
        failing_update,
        lambda: stack.dynamodb.delete_item(TableName=alerts, Key={"alert_id": {"S": "al_010"}}),
        ttl_deletion,
    ]
    moto_dirty_items.install()
    try:
        for change in [lambda: None, *changes]:
            change()
            plain = answers()
            moto_speedups.install()
            try:
                fast, again = answers(), answers()
                kept = moto_backend_table(stack, alerts).__dict__.get("_shopwatch_sorted_partitions", {})
            finally:
                moto_speedups.uninstall()
            assert fast == again == plain
            assert len(kept) == 3  # by-risk open (asked twice), by-status closed and open: each kept once
    finally:
        moto_dirty_items.uninstall()
    statuses = {i["alert_id"]["S"]: i["status"]["S"] for page in plain[1] for i in page}
    assert statuses.get("al_002") == "closed" and "al_010" not in statuses and "al_006" not in statuses


def moto_backend_table(stack, name):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[name]


def test_an_entity_update_with_removals_ends_as_on_stock_moto(stack):
    """ADD to counters and string sets, SET, and REMOVE of stale buckets: the fast path and moto's own
    update_item leave the same item."""
    update_expression = "ADD #a0 :a0, #l0 :l0 SET expires_at = :expires REMOVE #r0, #r1"
    names = {"#a0": "cs1", "#l0": "Lah1", "#r0": "cs0", "#r1": "gone"}
    values = {":a0": {"N": "1"}, ":l0": {"SS": ["bob"]}, ":expires": {"N": "99"}}

    def apply(table):
        stack.dynamodb.put_item(
            TableName=table, Item={"pk": {"S": "e"}, "sk": {"S": "AGG"}, "cs0": {"N": "4"}, "Lah1": {"SS": ["ann"]}}
        )
        action = {"TableName": table, "Key": {"pk": {"S": "e"}, "sk": {"S": "AGG"}}, "UpdateExpression": update_expression,
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}  # fmt: skip
        stack.dynamodb.transact_write_items(TransactItems=[{"Update": action}])
        return stack.dynamodb.get_item(TableName=table, Key={"pk": {"S": "e"}, "sk": {"S": "AGG"}})["Item"]

    stock = apply(stack.table("StateTable"))
    moto_speedups.install()
    try:
        fast = apply(stack.table("StateTable"))
    finally:
        moto_speedups.uninstall()
    assert fast == stock
    assert "cs0" not in fast and fast["Lah1"] == {"SS": ["ann", "bob"]} and fast["cs1"] == {"N": "1"}


_TYPED_ITEMS = [
    {"s": {"S": "x"}, "n": {"N": "12.5"}},
    {"n": {"N": " 1"}},  # whitespace: refused
    {"n": {"N": "1e400"}},  # overflow: refused
    {"n": {"N": "nan"}},
    {"n": {"N": 3}},  # an int where a string is due
    {"s": {"S": 3}},
    {"ss": {"SS": ["a", "b"]}, "m": {"M": {"n": {"N": "x"}}}},  # a bad number inside a map
    {"l": {"L": [{"N": "1"}, {"S": "a"}]}, "b": {"BOOL": True}, "z": {"NULL": False}},
    {"N": {"S": "an attribute named like a type tag"}, "S": {"N": "1"}, "NULL": {"NULL": True}},
    {"pk": {"M": {"S": {"S": "a map where the key is due"}}}},
    {"ok": {"S": "first"}, "bad": {"N": "x"}, "worse": {"S": 1}},  # the first error wins
]


@pytest.mark.parametrize("attributes", _TYPED_ITEMS)
def test_the_flat_type_check_raises_what_motos_recursive_check_raises(stack, attributes):
    """moto_speedups' one-pass type check takes strings and numbers itself and gives everything else to moto:
    for every item, the same error (type and message) or none."""
    table = _any_table()

    def outcome(check):
        try:
            check(table, attributes)
        except Exception as error:  # noqa: BLE001 - the error itself is what is compared
            return type(error).__name__, str(error)
        return None

    assert outcome(moto_speedups._validate_item_types) == outcome(moto_speedups._ORIGINAL_VALIDATE_TYPES)


def _any_table():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return next(iter(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables.values()))


@pytest.mark.parametrize("plain", [False, True])
def test_an_update_that_creates_an_item_ends_as_motos_put(stack, plain):
    """The simple path (inside a transaction, or a plain UpdateItem) stores a new item without Table.put_item:
    the same item as stock moto; a key of the wrong type is refused as put_item refuses it."""
    from infra.local import moto_plain_updates
    from shopwatch.storage.aws import client

    table = stack.table("StateTable")
    request = {"TableName": table, "UpdateExpression": "ADD n :n, tags :t SET s = :s",
               "ExpressionAttributeValues": {":n": {"N": "2"}, ":t": {"SS": ["b", "a"]}, ":s": {"S": "é"}}}  # fmt: skip

    def outcome(pk):
        try:
            if plain:
                client("dynamodb").update_item(Key={"pk": pk, "sk": {"S": "x"}}, **request)
            else:
                client("dynamodb").transact_write_items(
                    TransactItems=[{"Update": {"Key": {"pk": pk, "sk": {"S": "x"}}, **request}}]
                )
        except ClientError as error:
            return error.response["Error"]["Code"]
        item = client("dynamodb").get_item(TableName=table, Key={"pk": pk, "sk": {"S": "x"}})["Item"]
        return {k: {"SS": sorted(v["SS"])} if "SS" in v else v for k, v in item.items() if k != "pk"}  # a set

    stock = [outcome({"S": "stock"}), outcome({"N": "1"})]
    served = moto_plain_updates.served["plain"]
    moto_speedups.install()
    moto_plain_updates.install()
    try:
        fast = [outcome({"S": "fast"}), outcome({"N": "2"})]
    finally:
        moto_plain_updates.uninstall()
        moto_speedups.uninstall()
    assert fast == stock
    assert stock[0]["n"] == {"N": "2"} and stock[0]["tags"] == {"SS": ["a", "b"]}
    assert stock[1] in {"ValidationException", "TransactionCanceledException"}
    assert moto_plain_updates.served["plain"] == served + plain


def test_the_kept_item_size_is_motos_measure_and_follows_every_update(stack):
    """Item.size (BatchGetItem, Query and Scan limits) is the size kept on the item: equal to moto's own measure
    for every attribute type, after a put, a simple update and moto's own (in-place) update path."""
    from moto.dynamodb.models.dynamo_type import Item

    from shopwatch.storage.aws import client

    table = stack.table("StateTable")
    key = {"pk": {"S": "sized"}, "sk": {"S": "x"}}
    item = {**key, "s": {"S": "é€x"}, "n": {"N": "-12.50"}, "ss": {"SS": ["a", "bé"]}, "ns": {"NS": ["1", "22.5"]},
            "l": {"L": [{"S": "x"}, {"N": "3"}]}, "m": {"M": {"k": {"S": "v"}}}, "b": {"BOOL": True},
            "z": {"NULL": True}, "bin": {"B": b"\x00\x01"}}  # fmt: skip
    moto_speedups.install()
    try:
        client("dynamodb").put_item(TableName=table, Item=item)
        stored = _stored_item(table, key)
        assert stored.size() == moto_speedups._ORIGINAL_ITEM_SIZE(stored)
        for request in (
            {"UpdateExpression": "ADD n :n, ss :ss SET s = :s", "ExpressionAttributeValues": {
                ":n": {"N": "1000"}, ":ss": {"SS": ["longer member"]}, ":s": {"S": "short"}}},  # the simple path
            {"UpdateExpression": "SET l[0] = :v REMOVE m.k", "ExpressionAttributeValues": {":v": {"S": "longer value"}}},
        ):  # fmt: skip
            client("dynamodb").transact_write_items(
                TransactItems=[{"Update": {"TableName": table, "Key": key, **request}}]
            )
            stored = _stored_item(table, key)
            assert stored.size() == moto_speedups._ORIGINAL_ITEM_SIZE(stored)
    finally:
        moto_speedups.uninstall()
    assert Item.size is moto_speedups._ORIGINAL_ITEM_SIZE


def _stored_item(table_name, key):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_item(table_name, key)
