"""Backtest jobs in StateTable (`BACKTEST#<job id>` / `JOB`), and starting one.

A job's item holds what to replay (the expression, and the rule and version it came from), who asked, its
status (running → done | failed), its progress and, once done, its result. Bounded: the result keeps counts,
one count per day of a period of at most 31 days and at most 50 examples (~15 KB), far under DynamoDB's
400 KB item limit. Jobs expire with TTL a week after their last change: a backtest is a question of the
moment, not a record (the rule's versions are).

A job is started like a training run (`training_runs.py`): BacktestFunction invoked asynchronously
(InvocationType Event) with the job's id, so POST /rules/backtest answers 202 at once. A short backtest is
BacktestFunction invoked synchronously instead (`run_now`): the replay needs numpy (the model layer) and
memory that ApiFunction has not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shopwatch.domain.clock import epoch_seconds, parse_iso, to_iso
from shopwatch.errors import ServiceUnavailable
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes, to_attributes

KEEP = timedelta(days=7)
SORT_KEY = "JOB"
WAIT_SECONDS = 28  # an inline backtest's answer, inside API Gateway's 29 s


class BacktestsBusy(ServiceUnavailable):
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "60"}


class JobStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class BacktestJob:
    job_id: str
    request: dict[str, Any]  # {"expression", "rule_id"?, "version"?, "since", "until"}: what the job replays
    requested_by: str
    status: JobStatus
    progress: float  # 0..1: the share of the period's transactions judged
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None


def _key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"BACKTEST#{job_id}"}, "sk": {"S": SORT_KEY}}


class BacktestJobs:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def create(self, job_id: str, request: dict[str, Any], requested_by: str, now: datetime) -> BacktestJob:
        job = BacktestJob(job_id, request, requested_by, JobStatus.RUNNING, 0.0, now, now)
        item = {
            "pk": f"BACKTEST#{job_id}",
            "sk": SORT_KEY,
            "request": json.dumps(request),
            "requested_by": requested_by,
            "status": job.status.value,
            "progress": "0",
            "created_at": to_iso(now),
            "updated_at": to_iso(now),
            "expires_at": epoch_seconds(now + KEEP),
        }
        client("dynamodb").put_item(
            TableName=self.table_name, Item=to_attributes(item), ConditionExpression="attribute_not_exists(pk)"
        )
        return job

    def get(self, job_id: str) -> BacktestJob | None:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=_key(job_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        item = from_attributes(response["Item"])
        return BacktestJob(
            job_id=job_id,
            request=json.loads(item["request"]),
            requested_by=item["requested_by"],
            status=JobStatus(item["status"]),
            progress=float(item["progress"]),
            created_at=parse_iso(item["created_at"]),
            updated_at=parse_iso(item["updated_at"]),
            result=json.loads(item["result"]) if "result" in item else None,
            error=item.get("error"),
        )

    def progress(self, job_id: str, share: float, now: datetime) -> None:
        self._set(job_id, now, progress=str(round(min(max(share, 0.0), 1.0), 4)))

    def finish(self, job_id: str, result: dict[str, Any], now: datetime) -> None:
        self._set(job_id, now, status=JobStatus.DONE.value, progress="1", result=json.dumps(result))

    def fail(self, job_id: str, error: str, now: datetime) -> None:
        self._set(job_id, now, status=JobStatus.FAILED.value, error=error[:1000])

    def _set(self, job_id: str, now: datetime, **values: str) -> None:
        """Set attributes of an existing job (never creates one: a job id nobody created stays unknown)."""
        values |= {"updated_at": to_iso(now)}
        names = {f"#a{i}": name for i, name in enumerate(values)}
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key=_key(job_id),
            UpdateExpression="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)) + ", expires_at = :e",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": {"S": v} for i, v in enumerate(values.values())}
            | {":e": {"N": str(epoch_seconds(now + KEEP))}},
        )


class BacktestRuns:
    """Starts BacktestFunction on a job, asynchronously (Lambda queues the event and answers 202), or runs a
    short one and waits for it."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self._waiting: Any = None

    def _waiting_client(self) -> Any:
        """A Lambda client of its own for the synchronous run: the shared one gives up reading after 10 s and
        retries, which would start the same backtest again; this one waits up to API Gateway's 29 s, once."""
        if self._waiting is None:
            config = Config(
                connect_timeout=3, read_timeout=WAIT_SECONDS, retries={"mode": "standard", "max_attempts": 1}
            )
            self._waiting = boto3.session.Session().client("lambda", config=config)
        return self._waiting

    def run_now(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a short backtest and wait for its answer (InvocationType RequestResponse): BacktestFunction's
        {"result"} or {"error"}. Throttled (both reserved runs busy): ServiceUnavailable, to retry. A function
        error is raised: it is ours, not the caller's."""
        try:
            response = self._waiting_client().invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps({"inline": request}).encode(),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TooManyRequestsException":
                raise BacktestsBusy(
                    "two backtests are running; retry in a minute", {"retry_after_seconds": 60}
                ) from None
            raise
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError") or not isinstance(payload, dict):
            raise RuntimeError(f"{self.function_name} failed on an inline backtest: {str(payload)[:300]}")
        return payload

    def start(self, job_id: str) -> None:
        response = client("lambda").invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps({"job_id": job_id}).encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"{self.function_name} did not accept the job (status {response.get('StatusCode')})")
