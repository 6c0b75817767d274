"""Reading template.yaml's short-form tags and resolving intrinsics against local names."""

from __future__ import annotations

from infra.local.resources import LocalResources, create_table_kwargs, function_environment
from infra.template import Resolver
from tests.conftest import TEMPLATE


def test_short_form_tags_load_as_long_forms():
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["TRANSACTIONS_TABLE"] == {
        "Ref": "TransactionsTable"
    }
    assert TEMPLATE["Resources"]["DetectFunction"]["Properties"]["Events"]["TransactionsStream"]["Properties"][
        "Stream"
    ] == {"Fn::GetAtt": ["TransactionsTable", "StreamArn"]}


def test_parameters_conditions_and_lists_resolve_with_defaults_and_overrides():
    resolver = Resolver(TEMPLATE)
    assert resolver.resolve({"Ref": "EmailSeverities"}) == ["medium", "high", "critical"]
    assert resolver.condition("HasAlertEmail") is False
    assert Resolver(TEMPLATE, {"AlertEmail": "ops@example.com"}).condition("HasAlertEmail") is True
    assert resolver.resolve({"Fn::Sub": "${AWS::Region}/${StageName}"}) == "us-east-1/v1"


def test_a_functions_environment_merges_globals_and_its_own():
    resources = LocalResources(
        tables={"TransactionsTable": "tx", "AlertsTable": "al", "StateTable": "st", "CasesTable": "cs"},
        topics={"AlertsTopic": "arn:aws:sns:us-east-1:123456789012:topic"},
    )
    env = function_environment(TEMPLATE, "NotifyFunction", resources.resolver(TEMPLATE))
    assert env["STATE_TABLE"] == "st"
    assert env["ALERTS_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:topic"
    assert env["NOTIFY_MIN_SEVERITY"] == "medium"
    assert env["POWERTOOLS_SERVICE_NAME"] == "shopwatch"


def test_tables_are_created_with_the_templates_keys_indexes_and_stream():
    kwargs = create_table_kwargs(TEMPLATE["Resources"]["AlertsTable"]["Properties"], "alerts")
    assert kwargs["KeySchema"] == [{"AttributeName": "alert_id", "KeyType": "HASH"}]
    assert [i["IndexName"] for i in kwargs["GlobalSecondaryIndexes"]] == [
        "by-status",
        "by-customer",
        "by-case",
        "by-risk",
    ]
    assert kwargs["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
