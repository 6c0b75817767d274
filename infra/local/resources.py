"""Creating the template's tables, topic, queues, buckets and user pool on moto (or any DynamoDB/SNS/SQS/S3/Cognito
endpoint).

Tables get exactly the template's key schema, indexes, stream view and TTL, so tests and the local stack run
against what `sam deploy` creates, not a hand-written copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.template import Resolver, load_template, resources_of_type

_TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def create_table_kwargs(properties: dict[str, Any], table_name: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"TableName": table_name}
    kwargs |= {k: properties[k] for k in _TABLE_FIELDS if k in properties}
    stream = properties.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    sse = properties.get("SSESpecification")
    if sse:
        kwargs["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled"))}
    return kwargs


@dataclass
class LocalResources:
    """Names, ARNs and stream ARNs of the resources created for one template."""

    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    stream_arns: dict[str, str] = field(default_factory=dict)  # logical id -> latest stream ARN
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_arns: dict[str, str] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> user pool id
    user_pool_clients: dict[str, str] = field(default_factory=dict)  # logical id -> app client id
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> function name (what Ref gives)

    def resolver(self, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> Resolver:
        resolver = Resolver(template, parameters or {})
        resolver.refs |= self.tables | self.topics | self.queues | self.user_pools | self.user_pool_clients
        resolver.refs |= self.buckets | self.functions
        for logical, name in self.buckets.items():
            resolver.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        for logical, name in self.functions.items():
            resolver.attributes[(logical, "Arn")] = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        for logical, pool_id in self.user_pools.items():
            resolver.attributes[(logical, "Arn")] = f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"
            resolver.attributes[(logical, "ProviderName")] = f"cognito-idp.us-east-1.amazonaws.com/{pool_id}"
        for logical, arn in self.stream_arns.items():
            resolver.attributes[(logical, "StreamArn")] = arn
        for logical, name in self.tables.items():
            resolver.attributes[(logical, "Arn")] = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
        for logical, arn in self.topics.items():
            resolver.attributes[(logical, "TopicName")] = arn.rsplit(":", 1)[1]
            resolver.attributes[(logical, "TopicArn")] = arn
        for logical, url in self.queues.items():
            resolver.attributes[(logical, "QueueName")] = url.rsplit("/", 1)[1]
            resolver.attributes[(logical, "Arn")] = self.queue_arns[logical]
        return resolver


def create_resources(
    session: Any,
    prefix: str = "shopwatch",
    template: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> LocalResources:
    """Create every table, topic, queue and user pool of the template through `session` (a boto3 Session)."""
    template = template or load_template()
    dynamodb, sns, sqs = session.client("dynamodb"), session.client("sns"), session.client("sqs")
    made = LocalResources()
    for logical, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        name = f"{prefix}-{logical}"
        description = dynamodb.create_table(**create_table_kwargs(properties, name))["TableDescription"]
        made.tables[logical] = name
        if "LatestStreamArn" in description:
            made.stream_arns[logical] = description["LatestStreamArn"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        pitr = properties.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
    for logical in resources_of_type(template, "AWS::SNS::Topic"):
        made.topics[logical] = sns.create_topic(Name=f"{prefix}-{logical}")["TopicArn"]
    for logical in resources_of_type(template, "AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=f"{prefix}-{logical}")["QueueUrl"]
        made.queues[logical] = url
        made.queue_arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    create_user_pools(session.client("cognito-idp"), template, Resolver(template, parameters or {}), made, prefix)
    made.functions = {
        logical: f"{prefix}-{logical}" for logical in resources_of_type(template, "AWS::Serverless::Function")
    }
    create_buckets(session.client("s3"), template, parameters or {}, made, prefix)
    return made


def create_buckets(
    s3: Any, template: dict[str, Any], parameters: dict[str, Any], made: LocalResources, prefix: str
) -> None:
    """The template's buckets with their versioning, default encryption, public access block, object ownership
    and lifecycle rules, as CloudFormation would configure them."""
    for logical, resource in resources_of_type(template, "AWS::S3::Bucket").items():
        name = f"{prefix}-{logical}".lower()
        s3.create_bucket(Bucket=name)
        made.buckets[logical] = name
        properties = made.resolver(template, parameters).resolve(resource.get("Properties", {}))
        if "VersioningConfiguration" in properties:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"])
        if "BucketEncryption" in properties:
            rules = [  # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault
                {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                | {k: v for k, v in r.items() if k != "ServerSideEncryptionByDefault"}
                for r in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        if "OwnershipControls" in properties:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=properties["OwnershipControls"])
        if "LifecycleConfiguration" in properties:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [_lifecycle_rule(r) for r in properties["LifecycleConfiguration"]["Rules"]]
                },
            )
    # The bucket policies (ModelBucket's: deny requests without TLS) are left out: moto 5.2 evaluates a policy's
    # Deny without its Condition, so aws:SecureTransport=false would refuse every request. Nothing local
    # comes over the network but to moto's loopback server anyway.


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (the same settings under other names)."""
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    return api


_POOL_FIELDS = ("Policies", "MfaConfiguration", "AdminCreateUserConfig", "UsernameConfiguration",
                "AccountRecoverySetting")  # fmt: skip
_CLIENT_FIELDS = ("GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors", "EnableTokenRevocation",
                  "IdTokenValidity", "AccessTokenValidity", "RefreshTokenValidity", "TokenValidityUnits")  # fmt: skip


def create_user_pools(
    cognito: Any, template: dict[str, Any], resolver: Resolver, made: LocalResources, prefix: str
) -> None:
    """The template's user pools with their password policy, MFA setting and sign-up rule, their groups and app
    clients, so that sign-in locally refuses and accepts what the deployed pool would."""
    for logical, resource in resources_of_type(template, "AWS::Cognito::UserPool").items():
        properties = resolver.resolve(resource["Properties"])
        pool = {k: properties[k] for k in _POOL_FIELDS if properties.get(k) is not None}
        pool_id = cognito.create_user_pool(PoolName=f"{prefix}-{logical}", **pool)["UserPool"]["Id"]
        if pool.get("MfaConfiguration", "OFF") != "OFF":
            cognito.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=pool["MfaConfiguration"],
            )
        made.user_pools[logical] = pool_id
    pools = made.resolver(template, resolver.parameters)
    for resource in resources_of_type(template, "AWS::Cognito::UserPoolGroup").values():
        properties = pools.resolve(resource["Properties"])
        cognito.create_group(**{k: properties[k] for k in ("UserPoolId", "GroupName", "Description", "Precedence")})
    for logical, resource in resources_of_type(template, "AWS::Cognito::UserPoolClient").items():
        properties = pools.resolve(resource["Properties"])
        client = {k: properties[k] for k in _CLIENT_FIELDS if properties.get(k) is not None}
        made.user_pool_clients[logical] = cognito.create_user_pool_client(
            UserPoolId=properties["UserPoolId"], ClientName=properties["ClientName"], **client
        )["UserPoolClient"]["ClientId"]


def subscription_filter_policies(
    template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Each SNS subscription's protocol and resolved FilterPolicy, as the template declares them."""
    resolver = Resolver(template, parameters or {})
    return {
        logical: {
            "protocol": r["Properties"]["Protocol"],
            "filter_policy": resolver.resolve(r["Properties"].get("FilterPolicy", {})),
            "scope": r["Properties"].get("FilterPolicyScope", "MessageAttributes"),
        }
        for logical, r in resources_of_type(template, "AWS::SNS::Subscription").items()
    }


def function_environment(template: dict[str, Any], logical_id: str, resolver: Resolver) -> dict[str, str]:
    """A function's environment as Lambda would see it: Globals merged with its own, intrinsics resolved."""
    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own_env = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {k: str(resolver.resolve(v)) for k, v in (global_env | own_env).items()}
