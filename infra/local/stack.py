"""`shopwatch up`: the whole system in one process, built from template.yaml, with no AWS account.

moto's server on loopback stands in for DynamoDB, DynamoDB Streams, SNS and SQS; the template's tables, topic,
subscriptions and queue are created on it; the API is served over HTTP as API Gateway would; stream pollers
and schedules invoke the same handlers Lambda would; notifications land in an outbox.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from infra.local import (
    durable_state,
    function_logs,
    lambda_invoke,
    moto_patches,
    stack_files,
    stack_identity,
    stream_retention,
)
from infra.local.api_gateway import ApiGateway, ApiServer, routes_from_template
from infra.local.cognito_authorizer import authorizers_from_template
from infra.local.collector import CollectorTuning
from infra.local.functions import LocalFunction, load_functions
from infra.local.housekeeping import Housekeeping
from infra.local.outbox import Outbox, Subscription
from infra.local.resources import LocalResources, create_resources, subscription_filter_policies
from infra.local.scheduler import Scheduler, schedules_from_template
from infra.local.stream_poller import StreamPoller, sources_from_template, wait_until_quiet
from infra.template import load_template, resources_of_type
from infra.users import UserDirectory

LOCAL_PARAMETERS = {
    "AlertEmail": "alerts@shop.example",
    "AlertPhoneNumber": "+15555550100",
    "OpsEmail": "ops@shop.example",
}
ADMIN_USER = "admin"  # `shopwatch up` signs this one in as the first admin


class PortInUse(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on. SO_REUSEADDR as the server's own socket has it: a port left
    in TIME_WAIT by a killed stack is free at once (Linux still refuses it while anything listens there)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(
                f"port {port} on {host} is in use (is another `shopwatch up` running?); choose another with --port"
            ) from None


SWITCH_INTERVAL = 0.02  # seconds a thread keeps the GIL while others wait (CPython's default: 0.005)


@dataclass
class LocalStack:
    port: int = 3000
    api_key: str | None = None  # None: the one kept in the state directory, else a new random one
    admin_password: str | None = None  # None: the one kept, else generated
    host: str = "127.0.0.1"
    state_dir: Path | None = None  # default: .shopwatch/stacks/<port>/ (stack_files.default_state_dir)
    parameters: dict[str, Any] = field(default_factory=dict)
    poll_interval: float = 0.05
    schedule_speedup: float = 1.0
    schedules_paused: bool = False  # start with the schedules held until resume_schedules()
    # stream records kept this long (DynamoDB Streams: 24 h, the cap); see stream_retention.DEFAULT_RETENTION
    stream_retention_seconds: float = field(
        default_factory=lambda: float(
            os.environ.get("SHOPWATCH_STREAM_RETENTION") or stream_retention.DEFAULT_RETENTION
        )
    )
    housekeeping_interval: float = 60.0  # TTL sweep and stream trim period: expired items live at most this long
    # the data survives restarts and crashes (durable_state): `shopwatch up` turns it on; the in-process stacks of
    # tests, benchmarks and the demo keep their data in memory only, unless SHOPWATCH_DURABLE=1
    durable: bool = field(default_factory=lambda: os.environ.get("SHOPWATCH_DURABLE", "0") == "1")
    reset: bool = False  # forget the kept data, key and password, and start empty (`shopwatch up --reset`)

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir) if self.state_dir else stack_files.default_state_dir(self.port)
        self.template = load_template()
        self.stop_event = threading.Event()
        self.pollers: list[StreamPoller] = []
        self.functions: dict[str, LocalFunction] = {}
        self.resources: LocalResources | None = None
        self.outbox: Outbox | None = None
        self.invocation_log: list[tuple[str, str, Any]] = []
        self._threads: list[threading.Thread] = []
        self._restarting = threading.Lock()
        self.durable_state: durable_state.DurableState | None = None
        self.restored = durable_state.Restored()

    # ---------------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def client(self, service: str) -> Any:
        """An in-process client: moto answers it without HTTP (the server is for other processes)."""
        return self.session.client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))

    def start(self) -> LocalStack:
        """Start moto (in process for the stack's own calls, and as a server for other processes), then build
        everything from the template. In-process calls skip HTTP and moto's request routing: about 8 ms a
        call over the server, a fraction of that in process."""
        from moto import mock_aws
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.server import ThreadedMotoServer

        moto_patches.check()  # before anything starts: a moto the patches were not written for is refused
        self.state_notes = [n for n in [stack_files.claim(self.state_dir, self.url)] if n]  # stale stack.json
        _check_port(self.host, self.port)
        self._load_identity()
        self.moto_port = free_port(self.host)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        from shopwatch.storage.aws import reset_clients

        reset_clients()
        self._mock = mock_aws()
        self._mock.start()
        moto_patches.install()  # refuses a moto the patches were not written for
        stream_retention.configure(self.stream_retention_seconds)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Powertools warns when an invocation adds no metric (a batch of only filtered or replayed records)
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        function_logs.install(self.state_dir / "functions.log")
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._moto.start()
        self.session = boto3.Session(region_name="us-east-1")
        parameters = LOCAL_PARAMETERS | self.parameters
        self.resources = create_resources(_EndpointSession(self), parameters=parameters)
        if self.durable:
            self._restore()
        resolver = self.resources.resolver(self.template, parameters)
        self.user_pool_id = self.resources.user_pools["UserPool"]
        self.user_pool_client_id = self.resources.user_pool_clients["UserPoolClient"]
        self.users = UserDirectory(self.client("cognito-idp"), self.user_pool_id)
        self._admin()
        self._resolver = resolver
        self._subscribe(parameters)
        if self.durable_state is not None:
            self.durable_state.start()  # before the first request: every write from here on is journalled
        self.functions = self._gated(load_functions(self.template, resolver))
        # lambda:Invoke of a template function (POST /models/train → TrainFunction) runs it here, by its name;
        # looked up at each call, so a restarted consumer's fresh container is the one invoked
        lambda_invoke.install(
            {
                name: (lambda event, logical=logical: self.functions[logical].invoke(event))
                for logical, name in self.resources.functions.items()
                if logical in self.functions
            }
        )

        gateway = ApiGateway(
            routes_from_template(self.template),
            self.functions,
            self.api_key,
            str(resolver.resolve({"Ref": "StageName"})),
            authorizers_from_template(
                self.template, self.resources.user_pools, self.resources.user_pool_clients, self.aws_endpoint
            ),
        )
        self.api_server = ApiServer((self.host, self.port), gateway)
        self._spawn(
            threading.Thread(
                target=self.api_server.serve_forever, kwargs={"poll_interval": 0.2}, name="api", daemon=True
            )
        )

        queue_urls = {self.resources.queue_arns[q]: url for q, url in self.resources.queues.items()}
        streams, sqs = self.client("dynamodbstreams"), self.client("sqs")
        for source in sources_from_template(self.template, resolver, queue_urls):
            poller = StreamPoller(
                source,
                self.functions[source.function],
                streams,
                sqs,
                self.stop_event,
                poll_interval=self.poll_interval,
                on_invoke=self._log_invoke,
                resume_after=self.restored.checkpoints.get(_poller_key(source)),
            )
            self.pollers.append(poller)
            self._spawn(poller)
        self.scheduler = Scheduler(
            schedules_from_template(self.template), self.functions, self.stop_event, self.schedule_speedup
        )
        if self.schedules_paused:
            self.scheduler.paused.set()
        self._spawn(self.scheduler)
        self._spawn(threading.Thread(target=self._collect_outbox, name="outbox", daemon=True))
        self.housekeeping = Housekeeping(
            dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"],
            stream_retention.streams_backend(DEFAULT_ACCOUNT_ID, "us-east-1"),
            self.stop_event,
            self.housekeeping_interval,
        )
        self._spawn(self.housekeeping)
        self.collector = CollectorTuning(self.stop_event)
        self._spawn(self.collector)
        # Every function, poller and request shares this process's GIL. CPython hands it over every 5 ms to
        # any waiting thread; with thirty threads waiting that is a switch (and a cold cache) every 5 ms.
        # 20 ms: the load bench at 400/s kept the same CPU per transaction and its p95 fell from 0.74-0.96 s
        # to 0.52-0.54 s (two alternating pairs). Put back at stop.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._write_state_files(resolver)
        return self

    def restart_consumers(self) -> None:
        """Kill every stream consumer mid-stream and start new ones, as after a crash of the Lambda service's
        pollers and containers: fresh function modules (cold starts), each mapping resuming after the last
        sequence number it had fully handled. Records in flight at the kill are delivered again. One restart at
        a time: like Lambda, never two pollers on one shard."""
        with self._restarting:
            self._restart_consumers()

    def _restart_consumers(self) -> None:
        old = list(self.pollers)
        for poller in old:
            poller.halt.set()
        for poller in old:
            poller.join(timeout=120)
            if poller.is_alive():
                raise RuntimeError(f"{poller.name} did not stop; a second poller on its shards would break ordering")
        fresh = self._gated(load_functions(self.template, self._resolver, only={p.source.function for p in old}))
        self.functions.update(fresh)
        self.pollers = []
        for poller in old:
            replacement = StreamPoller(
                poller.source,
                fresh[poller.source.function],
                poller.streams,
                poller.sqs,
                self.stop_event,
                poll_interval=self.poll_interval,
                on_invoke=self._log_invoke,
                resume_after=poller.checkpoints,
            )
            replacement.stats.dead_lettered = poller.stats.dead_lettered
            self.pollers.append(replacement)
            self._spawn(replacement)

    def resume_schedules(self) -> None:
        """Let the schedules fire from the next period boundary on (EventBridge rules being enabled)."""
        self.scheduler.paused.clear()

    def stop(self) -> None:
        self.stop_event.set()
        if hasattr(self, "api_server"):
            self.api_server.shutdown()
            self.api_server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.durable_state is not None:
            self.durable_state.stop(snapshot=True)  # a last commit (and a snapshot when the journal is long)
            if self.outbox is not None:
                self.outbox.collect()  # what the last commit made durable
        if hasattr(self, "_moto"):
            self._moto.stop()
        lambda_invoke.uninstall()
        lambda_invoke.wait(timeout=5)
        if hasattr(self, "_mock"):
            self._mock.stop()
        moto_patches.uninstall()
        function_logs.uninstall()
        if hasattr(self, "collector"):
            self.collector.release()
        if hasattr(self, "_switch_interval"):
            sys.setswitchinterval(self._switch_interval)
        state = self.state_dir / "stack.json"
        if state.exists() and json.loads(state.read_text()).get("pid") == os.getpid():
            state.unlink()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------------------------
    def wait_until_idle(self, timeout: float = 60.0, settle: float = 0.3) -> bool:
        """True once every stream is drained and stayed drained for `settle` seconds, with no batch in delivery
        anywhere (stream_poller.wait_until_quiet): what is read afterwards is finished, not half written."""
        if not wait_until_quiet(lambda: self.pollers, timeout, settle):
            return False
        self.outbox.collect()
        return True

    def table(self, logical_id: str) -> str:
        return self.resources.tables[logical_id]

    def _spawn(self, thread: threading.Thread) -> None:
        self._threads.append(thread)
        thread.start()

    def _log_invoke(self, source: Any, event: dict[str, Any], response: Any) -> None:
        self.invocation_log.append((source.function, f"{len(event['Records'])} records", response))
        del self.invocation_log[:-1000]

    # --- what outlives the process (durable_state, stack_identity) --------------------------------------------
    def _load_identity(self) -> None:
        """The API key and admin password: given now, else kept from the last run, else new; then kept."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.reset:
            durable_state.reset(self.state_dir / "data")
            (self.state_dir / stack_identity.FILE).unlink(missing_ok=True)
            (self.state_dir / "outbox.jsonl").unlink(missing_ok=True)
        kept = stack_identity.load(self.state_dir) if self.durable else stack_identity.Identity()
        self._password_given = self.admin_password is not None
        self.api_key = self.api_key or kept.api_key or secrets.token_urlsafe(24)
        self.admin_password = self.admin_password or kept.admin_password

    def _restore(self) -> None:
        """Put the kept data back into moto (the template's resources were just created, empty)."""
        from moto.core import DEFAULT_ACCOUNT_ID

        backends = durable_state.Backends.of(DEFAULT_ACCOUNT_ID, "us-east-1")
        self.durable_state = durable_state.DurableState(self.state_dir / "data", backends, self._checkpoints)
        self.restored = self.durable_state.restore()
        resources = self.resources
        for logical, pool_id in resources.user_pools.items():
            resources.user_pools[logical] = self.restored.user_pools.get(pool_id, pool_id)
        for logical, client_id in resources.user_pool_clients.items():
            resources.user_pool_clients[logical] = self.restored.user_pool_clients.get(client_id, client_id)
        tables = backends.dynamodb.tables
        for logical, name in resources.tables.items():
            table = tables[name]
            if logical in resources.stream_arns and table.latest_stream_label:
                resources.stream_arns[logical] = f"{table.table_arn}/stream/{table.latest_stream_label}"

    def _admin(self) -> None:
        """The first admin: created on a new stack; on a restored one kept, its password changed only when given."""
        existing = {user.name for user in self.users.list()}
        if ADMIN_USER not in existing:
            self.admin_password = self.users.add(ADMIN_USER, "admins", self.admin_password)
        elif self._password_given or self.admin_password is None:
            self.admin_password = self.users.reset_password(ADMIN_USER, self.admin_password)
        if self.durable:
            stack_identity.save(self.state_dir, stack_identity.Identity(self.api_key, self.admin_password))

    def _checkpoints(self) -> dict[str, dict[str, str]]:
        """Every mapping's checkpoints: the live pollers', else (not started yet) the restored ones."""
        kept = {key: dict(value) for key, value in self.restored.checkpoints.items()}
        return kept | {_poller_key(p.source): dict(p.checkpoints) for p in list(self.pollers)}

    def _gated(self, functions: dict[str, LocalFunction]) -> dict[str, LocalFunction]:
        """Functions that publish to SNS run through the journal's gate: a commit never falls inside one."""
        if self.durable_state is not None:
            for function in functions.values():
                policies = function.properties.get("Policies", [])
                if any(isinstance(p, dict) and "SNSPublishMessagePolicy" in p for p in policies):
                    function.gate = self.durable_state.gate
        return functions

    def _subscribe(self, parameters: dict[str, Any]) -> None:
        """The template's subscriptions (their conditions evaluated with local parameters), on moto and in the outbox."""
        resolver = self.resources.resolver(self.template, parameters)
        sns = self.client("sns")
        subscriptions = []
        policies = subscription_filter_policies(self.template, parameters)
        for logical, resource in resources_of_type(self.template, "AWS::SNS::Subscription").items():
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                continue
            properties = resource["Properties"]
            topic_arn, endpoint = resolver.resolve(properties["TopicArn"]), resolver.resolve(properties["Endpoint"])
            policy = policies[logical]["filter_policy"]
            attributes = (
                {"FilterPolicy": json.dumps(policy), "FilterPolicyScope": policies[logical]["scope"]} if policy else {}
            )
            sns.subscribe(TopicArn=topic_arn, Protocol=properties["Protocol"], Endpoint=endpoint, Attributes=attributes)
            subscriptions.append(Subscription(logical, properties["Protocol"], endpoint, policy, topic_arn))
        durable = self.durable_state
        self.outbox = Outbox(
            subscriptions,
            self.state_dir / "outbox.jsonl",
            published_on_disk=(lambda arn: durable.durable_notifications.get(arn, 0)) if durable else None,
        )

    def _collect_outbox(self) -> None:
        while not self.stop_event.wait(0.2):
            try:
                self.outbox.collect()
            except Exception:  # noqa: BLE001, S112 - collecting again next tick is the recovery
                continue

    def _write_state_files(self, resolver: Any) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = stack_files.identity() | {
            "url": self.url,
            "port": self.port,
            "state_dir": str(self.state_dir),
            "api_key": self.api_key,
            "user_pool_id": self.user_pool_id,
            "user_pool_client_id": self.user_pool_client_id,
            "admin_user": ADMIN_USER,
            "admin_password": self.admin_password,  # local only; the file is readable by its owner alone
            "aws_endpoint": self.aws_endpoint,
            "tables": self.resources.tables,
            "topics": self.resources.topics,
            "queues": self.resources.queues,
            "buckets": self.resources.buckets,
            "outbox": str(self.state_dir / "outbox.jsonl"),
        }
        # written whole, then renamed: a CLI reading meanwhile never sees half a file (it would call it stale)
        draft = self.state_dir / "stack.json.new"
        draft.touch(mode=0o600)
        draft.chmod(0o600)
        draft.write_text(json.dumps(state, indent=2))
        draft.replace(self.state_dir / "stack.json")
        env = {
            name: fn.environment
            | {"AWS_ENDPOINT_URL": self.aws_endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
            for name, fn in self.functions.items()
        }
        (self.state_dir / "env.json").write_text(json.dumps(env, indent=2))


def _poller_key(source: Any) -> str:
    """A stream mapping's name in the kept checkpoints: its function and event source, stable across restarts."""
    return f"{source.function}:{source.event_name}"


class _EndpointSession:
    """A boto3-like session whose clients are the stack's in-process moto clients."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def client(self, service: str) -> Any:
        return self.stack.client(service)


def read_state(state_dir: Path | None = None, port: int | None = None) -> dict[str, Any]:
    """The running stack's URL, key and endpoints (stack.json, written by `shopwatch up`), found as
    stack_files.find finds it; raises stack_files.NoStack (a FileNotFoundError) with the reason."""
    return stack_files.find(port, state_dir)[0].state
