"""template.yaml against the design and the code: fixed names, reliability settings on every stream source,
least privilege, encryption and recovery, and agreement with what each handler reads."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from infra.template import ROOT, resources_of_type
from shopwatch.auth.routes import OPEN_ROUTES, SHOP_ROUTES
from tests.conftest import TEMPLATE

RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
FIXED = {
    "IngestFunction": ("functions/ingest/", "Api"),
    "ApiFunction": ("functions/api/", "Api"),
    "DetectFunction": ("functions/detect/", "DynamoDB"),
    "AggregateFunction": ("functions/aggregate/", "DynamoDB"),
    "WindowFunction": ("functions/window/", "Schedule"),
    "NotifyFunction": ("functions/notify/", "DynamoDB"),
    "DigestFunction": ("functions/digest/", "Schedule"),  # not in the DESIGN's table: issue 7's daily digest
    "TrainFunction": ("functions/train/", "Schedule"),  # issue 17: weekly, and on demand from POST /models/train
}


def stream_sources():
    for name, function in FUNCTIONS.items():
        for event_name, event in function["Properties"].get("Events", {}).items():
            if event["Type"] == "DynamoDB":
                yield f"{name}.{event_name}", event["Properties"]


@pytest.mark.parametrize(("logical_id", "expected"), FIXED.items())
def test_functions_have_the_designs_fixed_names_folders_and_triggers(logical_id, expected):
    code_uri, trigger = expected
    properties = FUNCTIONS[logical_id]["Properties"]
    assert properties["CodeUri"] == code_uri
    assert properties["Handler"] == "app.lambda_handler"
    assert {e["Type"] for e in properties["Events"].values()} == {trigger}
    source = (ROOT / code_uri / "app.py").read_text()
    assert "def lambda_handler(" in source


def test_the_other_fixed_resources_exist():
    for name in (
        "ShopwatchApi",
        "TransactionsTable",
        "AlertsTable",
        "StateTable",
        "AlertsTopic",
        "StreamDeadLetterQueue",
        "CoreLayer",
    ):
        assert name in RESOURCES, name


def test_the_rules_layer_is_built_by_its_makefile_for_arm64_and_attached_where_rules_are_evaluated():
    """Issue 18: IngestFunction (the checkout decision), DetectFunction (active and shadow rules) and ApiFunction
    (validation on save, short backtests) import the CEL runtime; the stream's other consumers do not carry it."""
    layer = RESOURCES["RulesLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/rules/"
    assert (ROOT / "layers" / "rules" / "Makefile").read_text().count("build-RulesLayer:") == 1
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    carriers = {name for name, f in FUNCTIONS.items() if {"Ref": "RulesLayer"} in f["Properties"].get("Layers", [])}
    assert carriers >= {"IngestFunction", "DetectFunction", "ApiFunction"}
    assert not carriers & {"AggregateFunction", "WindowFunction", "NotifyFunction", "DigestFunction"}


def api_routes():
    for resource in FUNCTIONS.values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                properties = event["Properties"]
                yield (properties["Method"], properties["Path"]), properties.get("Auth", {})


def test_ingest_is_the_post_transactions_route_behind_the_api_key_alone():
    (event,) = FUNCTIONS["IngestFunction"]["Properties"]["Events"].values()
    assert event["Properties"] == {
        "RestApiId": {"Ref": "ShopwatchApi"}, "Path": "/transactions", "Method": "post",
        "Auth": {"Authorizer": "NONE", "ApiKeyRequired": True},
    }  # fmt: skip
    auth = RESOURCES["ShopwatchApi"]["Properties"]["Auth"]
    assert set(auth["UsagePlan"]) >= {"CreateUsagePlan", "Throttle", "Quota"}


def test_people_sign_in_by_default_so_a_new_route_is_closed_until_it_says_otherwise():
    auth = RESOURCES["ShopwatchApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "ShopwatchUsers" and auth["ApiKeyRequired"] is False
    assert auth["Authorizers"]["ShopwatchUsers"]["UserPoolArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert auth["Authorizers"]["ShopwatchUsers"]["Identity"]["Header"] == "Authorization"


@pytest.mark.parametrize(
    ("route", "auth"), list(api_routes()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_each_route_takes_the_caller_the_code_expects(route, auth):
    """The template's Auth per route, against shopwatch.auth.routes (which the handler and /openapi.json use):
    the API key alone on the shop's routes, nothing on the open ones, the Cognito authorizer on all others."""
    if route in SHOP_ROUTES:
        assert auth == {"Authorizer": "NONE", "ApiKeyRequired": True}
    elif route in OPEN_ROUTES:
        assert auth == {"Authorizer": "NONE"}
    else:
        assert auth == {}  # the default: the authorizer, no key


def test_every_route_the_code_classifies_exists_in_the_template():
    assert set(SHOP_ROUTES | OPEN_ROUTES) <= {route for route, _ in api_routes()}


def test_the_user_pool_is_admin_only_with_a_password_policy_optional_mfa_and_no_paid_add_on_by_default():
    pool = RESOURCES["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and all(policy[k] for k in ("RequireLowercase", "RequireUppercase",
                                                                     "RequireNumbers", "RequireSymbols"))  # fmt: skip
    parameters = TEMPLATE["Parameters"]
    assert pool["MfaConfiguration"] == {"Ref": "UserPoolMfa"}
    assert parameters["UserPoolMfa"]["AllowedValues"] == ["OFF", "OPTIONAL", "ON"]
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": {"Ref": "UserPoolAdvancedSecurity"}}
    assert parameters["UserPoolAdvancedSecurity"]["Default"] == "OFF"
    groups = {r["Properties"]["GroupName"] for r in resources_of_type(TEMPLATE, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"analysts", "admins"}


def test_the_app_client_is_public_signs_in_with_a_password_and_hides_who_exists():
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    api = FUNCTIONS["ApiFunction"]["Properties"]
    assert api["Environment"]["Variables"]["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert "cognito" not in json.dumps(api["Policies"]).lower()  # InitiateAuth needs no IAM permission


@pytest.mark.parametrize(("name", "source"), list(stream_sources()))
def test_every_stream_source_is_bounded_filtered_and_dead_lettered(name, source):
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["BisectBatchOnFunctionError"] is True
    assert source["MaximumRetryAttempts"] == {"Ref": "StreamMaxRetries"}
    assert 60 <= source["MaximumRecordAgeInSeconds"] <= 86400
    assert source["MaximumBatchingWindowInSeconds"] >= 0
    assert source["BatchSize"] == {"Ref": "StreamBatchSize"}
    assert source["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]},
    }
    patterns = [json.loads(f["Pattern"]) for f in source["FilterCriteria"]["Filters"]]
    assert all(p["eventName"] in (["INSERT"], ["MODIFY"]) for p in patterns)


def test_the_transactions_stream_has_exactly_the_consumers_the_design_allows():
    readers = [name for name, _ in stream_sources() if "TransactionsTable" in json.dumps(_)]
    assert sorted(readers) == ["AggregateFunction.TransactionsStream", "DetectFunction.TransactionsStream"]


@pytest.mark.parametrize("table", ["TransactionsTable", "AlertsTable", "StateTable"])
def test_tables_have_point_in_time_recovery_and_encryption(table):
    properties = RESOURCES[table]["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"


def test_stream_views_and_ttl_follow_the_design():
    assert RESOURCES["TransactionsTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert RESOURCES["AlertsTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert RESOURCES["StateTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    indexes = {i["IndexName"] for i in RESOURCES["AlertsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert indexes == {"by-status", "by-customer", "by-case", "by-risk"}  # by-case: shopwatch.cases; by-risk: the queue


def test_topic_and_queue_are_encrypted():
    for topic in resources_of_type(TEMPLATE, "AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert RESOURCES["StreamDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True


def test_subscriptions_exist_only_when_their_parameter_is_set_and_filter_on_severity():
    for name, condition, keys in (
        ("AlertEmailSubscription", "HasAlertEmail", {"severity"}),
        ("AlertSmsSubscription", "HasAlertPhone", {"severity", "sms"}),  # and NotifyFunction's SMS budget
    ):
        subscription = RESOURCES[name]
        assert subscription["Condition"] == condition
        assert set(subscription["Properties"]["FilterPolicy"]) == keys


def test_the_sms_budget_knows_the_sms_subscriptions_severities_and_recipient():
    variables = RESOURCES["NotifyFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["SMS_SEVERITIES"] == {"Fn::Join": [",", {"Ref": "SmsSeverities"}]}
    assert variables["SMS_RECIPIENT"] == {"Ref": "AlertPhoneNumber"}
    assert variables["SMS_PERIOD_SECONDS"] == {"Ref": "SmsPeriodSeconds"}


def test_layers_build_for_the_functions_architecture():
    architectures = TEMPLATE["Globals"]["Function"]["Architectures"]
    for layer in resources_of_type(TEMPLATE, "AWS::Serverless::LayerVersion").values():
        # python3.13 (sam's pip builder), or a makefile that installs the same runtime's wheels (RulesLayer)
        assert layer["Metadata"]["BuildMethod"] in (TEMPLATE["Globals"]["Function"]["Runtime"], "makefile")
        assert layer["Properties"]["CompatibleRuntimes"] == [TEMPLATE["Globals"]["Function"]["Runtime"]]
        assert [layer["Metadata"]["BuildArchitecture"]] == architectures
        assert layer["Properties"]["CompatibleArchitectures"] == architectures


EXPECTED_POLICIES = {
    "IngestFunction": [
        ("DynamoDBWritePolicy", "TransactionsTable"),
        ("DynamoDBReadPolicy", "TransactionsTable"),  # a resend's stored decision
        ("DynamoDBReadPolicy", "StateTable"),  # rules, lists and entity aggregates for the checkout decision
    ],
    "ApiFunction": [
        ("DynamoDBReadPolicy", "TransactionsTable"),
        ("DynamoDBCrudPolicy", "AlertsTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("DynamoDBCrudPolicy", "CasesTable"),  # GET/PATCH /cases, notes
        ("LambdaInvokePolicy", "TrainFunction"),
        ("LambdaInvokePolicy", "BacktestFunction"),
    ],
    "DetectFunction": [
        ("DynamoDBCrudPolicy", "StateTable"),
        ("DynamoDBCrudPolicy", "AlertsTable"),
        ("DynamoDBCrudPolicy", "CasesTable"),  # cases grow in the transaction's unit of work
        ("SQSSendMessagePolicy", "StreamDeadLetterQueue"),
        ("S3ReadPolicy", "ModelBucket"),
    ],
    "TrainFunction": [
        ("DynamoDBReadPolicy", "TransactionsTable"),
        ("DynamoDBReadPolicy", "AlertsTable"),
        ("DynamoDBWritePolicy", "AlertsTable"),  # the model-drift operations alert
        ("DynamoDBCrudPolicy", "StateTable"),
        ("S3ReadPolicy", "ModelBucket"),  # the serving champion, for the drift check
        ("S3WritePolicy", "ModelBucket"),
    ],
    "BacktestFunction": [
        ("DynamoDBReadPolicy", "TransactionsTable"),
        ("DynamoDBReadPolicy", "AlertsTable"),
        ("DynamoDBReadPolicy", "StateTable"),
        ("DynamoDBWritePolicy", "StateTable"),  # its job's progress and result; never a delete
    ],
    "AggregateFunction": [
        ("DynamoDBCrudPolicy", "StateTable"),
        ("SQSSendMessagePolicy", "StreamDeadLetterQueue"),
    ],
    "WindowFunction": [
        ("DynamoDBCrudPolicy", "StateTable"),
        ("DynamoDBCrudPolicy", "AlertsTable"),
    ],
    "DigestFunction": [
        ("DynamoDBReadPolicy", "AlertsTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("SNSPublishMessagePolicy", "DigestTopic"),
        ("if HasOpenAIKeyParameter: SSMParameterReadPolicy", "OpenAIKeyParameter"),
        ("if HasOpenAIKeySecret: AWSSecretsManagerGetSecretValuePolicy", "OpenAIKeySecretArn"),
    ],
    "NotifyFunction": [
        ("DynamoDBCrudPolicy", "StateTable"),
        ("DynamoDBCrudPolicy", "AlertsTable"),
        ("SNSPublishMessagePolicy", "AlertsTopic"),
        ("SQSSendMessagePolicy", "StreamDeadLetterQueue"),
        ("if HasOpenAIKeyParameter: SSMParameterReadPolicy", "OpenAIKeyParameter"),
        ("if HasOpenAIKeySecret: AWSSecretsManagerGetSecretValuePolicy", "OpenAIKeySecretArn"),
    ],
}


@pytest.mark.parametrize(("function", "expected"), EXPECTED_POLICIES.items())
def test_each_function_gets_scoped_policy_templates_only(function, expected):
    granted = []
    for policy in FUNCTIONS[function]["Properties"]["Policies"]:
        assert isinstance(policy, dict) and len(policy) == 1, "policy templates only, no inline statements"
        prefix = ""
        if "Fn::If" in policy:  # granted only when the feature is configured, else nothing
            condition, policy, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"} and len(policy) == 1
            prefix = f"if {condition}: "
        ((template_name, argument),) = policy.items()
        (target,) = re.findall(
            r"(TransactionsTable|AlertsTable|StateTable|CasesTable|AlertsTopic|DigestTopic|StreamDeadLetterQueue|OpenAIKeyParameter|"
            r"OpenAIKeySecretArn|ModelBucket|TrainFunction|BacktestFunction)",
            json.dumps(argument),
        )
        granted.append((prefix + template_name, target))
    assert granted == expected
    assert '"*"' not in json.dumps(FUNCTIONS[function]["Properties"]["Policies"])


def _required_env(code_uri: str) -> set[str]:
    """Names passed to required_env(...) by the handler module."""
    tree = ast.parse((ROOT / code_uri / "app.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "required_env"
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_environment_variable_a_handler_requires_is_set_by_the_template(function):
    properties = FUNCTIONS[function]["Properties"]
    provided = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]) | set(
        properties.get("Environment", {}).get("Variables", {})
    )
    assert _required_env(properties["CodeUri"]) <= provided


def test_every_sample_event_is_used_by_a_test():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for event in (ROOT / "events").glob("*.json"):
        assert event.name in tests, f"{event.name} is not used by any test"


def test_sample_events_are_in_aws_shapes():
    for path in Path(ROOT / "events").glob("*.json"):
        event = json.loads(path.read_text())
        if path.name.startswith(("window_", "digest_", "train_")):
            assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
            continue
        if path.name.startswith("backtest_"):  # ApiFunction's own asynchronous payload: the job's id
            assert set(event) == {"job_id"}
            continue
        if path.name.startswith(("ingest_", "api_")):
            assert {"resource", "path", "httpMethod", "headers", "requestContext", "body", "isBase64Encoded"} <= set(
                event
            )
        else:
            for record in event["Records"]:
                assert {
                    "eventID",
                    "eventName",
                    "eventVersion",
                    "eventSource",
                    "awsRegion",
                    "dynamodb",
                    "eventSourceARN",
                } <= set(record)
                assert {"Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"} <= set(record["dynamodb"])


def test_the_window_function_runs_every_minute_with_the_novelty_core():
    properties = FUNCTIONS["WindowFunction"]["Properties"]
    (event,) = properties["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(1 minute)"
    assert {"Ref": "ModelLayer"} in properties["Layers"]


def _alarms() -> dict[str, dict]:
    return resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")


def _alarmed(metric: str) -> set[str]:
    return {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in _alarms().values()
        if a["Properties"]["MetricName"] == metric and a["Properties"]["Namespace"] == "AWS/Lambda"
    }


def test_every_function_has_error_and_throttle_alarms_and_every_stream_consumer_a_lag_alarm():
    assert _alarmed("Errors") == _alarmed("Throttles") == set(FUNCTIONS)
    consumers = {name for name, _ in (s.split(".") for s, _ in stream_sources())}
    assert _alarmed("IteratorAge") == consumers


def test_the_dead_letter_queue_alarms_as_soon_as_a_record_lands_there():
    (alarm,) = [a for a in _alarms().values() if a["Properties"]["Namespace"] == "AWS/SQS"]
    properties = alarm["Properties"]
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible" and properties["Threshold"] == 0
    assert properties["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["StreamDeadLetterQueue", "QueueName"]}


def test_every_alarm_notifies_the_operations_topic():
    for name, alarm in _alarms().items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}], name
    assert RESOURCES["OpsEmailSubscription"]["Condition"] == "HasOpsEmail"


def test_the_model_bucket_is_versioned_encrypted_private_tls_only_and_expires_old_versions():
    properties = RESOURCES["ModelBucket"]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    rules = {r["Id"]: r for r in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireOldVersions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "ModelNoncurrentDays"}
    }
    assert "DaysAfterInitiation" in rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"]
    (statement,) = RESOURCES["ModelBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_training_runs_one_at_a_time_weekly_within_lambdas_limits_with_its_options_as_parameters():
    properties = FUNCTIONS["TrainFunction"]["Properties"]
    assert properties["Timeout"] == 900 and properties["MemorySize"] == 3008
    assert properties["ReservedConcurrentExecutions"] == 1
    assert {"Ref": "ModelLayer"} in properties["Layers"]
    (event,) = properties["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(7 days)"
    variables = properties["Environment"]["Variables"]
    defaults = {
        "TRAIN_MAX_TRANSACTIONS": 300000,
        "TRAIN_PERIOD_DAYS": 90,
        "TRAIN_MIN_FRAUD": 20,
        "TRAIN_MIN_LEGIT": 200,
    }
    for name, default in defaults.items():
        parameter = variables[name]["Ref"]
        assert TEMPLATE["Parameters"][parameter]["Default"] == default, name
    assert variables["MODEL_BUCKET"] == {"Ref": "ModelBucket"}
    assert FUNCTIONS["ApiFunction"]["Properties"]["Environment"]["Variables"]["TRAIN_FUNCTION"] == {
        "Ref": "TrainFunction"
    }
