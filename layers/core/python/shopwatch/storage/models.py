"""The model registry: trained artifacts in the ModelBucket, their records and the champion/challenger pointers
in StateTable, every change kept with who made it and when.

Layout:
    s3://<ModelBucket>/models/<version>/<file>   the artifact's files (`metadata.json`, `arrays.npz`) as
                                                 ModelArtifact.to_files gives them; written once, never
                                                 overwritten (the bucket is versioned besides)
    MODELS / VERSION#<version>                   status (challenger, champion, retired), created_at,
                                                 trained_by, the training metadata (JSON: data period, rows,
                                                 label counts, features, holdout metrics)
    MODELS / POINTERS                            champion, challenger, the champions before (newest last: what
                                                 rollback returns to) and `revision`, moved by one per change
    MODELS / HISTORY#<at>#<revision>             one per change: action, version, the champion before, by, at

Why a revision: every change reads the pointers, then writes them on the condition that `revision` is still
what it read, in one transaction with the records it moves and its history entry. Two admins promoting at once
both read revision r; one write wins, the other is refused whole (a Conflict, 409) and changes nothing.
DetectFunction reads POINTERS alone (one GetItem) to learn whether the champion or challenger moved.

Bytes only here (no numpy): ApiFunction, which has no ModelLayer, lists, promotes and rolls back; the
functions that build or score artifacts (Train, Detect) convert them with ModelArtifact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopwatch.domain.clock import to_iso
from shopwatch.errors import Conflict, NotFound
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes, to_attributes
from shopwatch.storage.unit_of_work import TransactionRefused, UnitOfWork

PARTITION = "MODELS"
POINTERS_SK = "POINTERS"
PREFIX = "models"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # a plain S3 key segment and DynamoDB sort key part
MAX_METADATA_BYTES = 100_000  # well inside DynamoDB's 400 KB item; training metadata is a few KB
KEEP_PREVIOUS = 20  # champions a rollback can go back through (each rollback goes back one)
_VERSION = re.compile(VERSION_PATTERN)


class ModelStatus(StrEnum):
    CHALLENGER = "challenger"  # scored in shadow on live traffic, never alerting
    CHAMPION = "champion"  # the model detection uses
    RETIRED = "retired"  # neither (kept: promote or rollback may bring it back)


class HistoryAction(StrEnum):
    CHALLENGER = "challenger"  # a trained artifact published as the new challenger
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Pointers:
    """Which version is champion and which challenger (None: none yet), and the champions before."""

    champion: str | None = None
    challenger: str | None = None
    previous: tuple[str, ...] = ()  # champions before the current one, newest last
    revision: int = 0  # 0: never written


NO_POINTERS = Pointers()


@dataclass(frozen=True)
class ModelRecord:
    version: str
    status: ModelStatus
    created_at: str
    trained_by: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryEntry:
    action: HistoryAction
    version: str
    previous_champion: str | None
    by: str
    at: str


def check_version(version: str) -> str:
    if not _VERSION.fullmatch(version):
        raise ValueError(f"model version {version!r} does not match {VERSION_PATTERN}")
    return version


def artifact_key(version: str, name: str) -> str:
    return f"{PREFIX}/{check_version(version)}/{name}"


class ModelRegistry:
    def __init__(self, table_name: str, bucket_name: str | None = None) -> None:
        self.table_name = table_name
        self.bucket_name = bucket_name  # None: records and pointers only (ApiFunction)

    # --- artifacts (S3) ----------------------------------------------------------------------------------------
    def put_files(self, version: str, files: dict[str, bytes]) -> None:
        """Upload an artifact's files; before its record exists, so a listed version always has its files."""
        s3 = client("s3")
        for name, data in sorted(files.items()):
            s3.put_object(Bucket=self._bucket(), Key=artifact_key(version, name), Body=data)

    def get_files(self, version: str) -> dict[str, bytes]:
        """Every file under the version's prefix (a missing artifact: an empty dict, which fails to load)."""
        s3, files = client("s3"), {}
        prefix = f"{PREFIX}/{check_version(version)}/"
        kwargs: dict[str, Any] = {"Bucket": self._bucket(), "Prefix": prefix}
        while True:
            listing = s3.list_objects_v2(**kwargs)
            for entry in listing.get("Contents", []):
                name = entry["Key"].removeprefix(prefix)
                files[name] = s3.get_object(Bucket=self._bucket(), Key=entry["Key"])["Body"].read()
            if not listing.get("IsTruncated"):
                return files
            kwargs["ContinuationToken"] = listing["NextContinuationToken"]

    def _bucket(self) -> str:
        if not self.bucket_name:
            raise RuntimeError("this registry was built without the ModelBucket (MODEL_BUCKET)")
        return self.bucket_name

    # --- reads -------------------------------------------------------------------------------------------------
    def pointers(self) -> Pointers:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=_key(POINTERS_SK), ConsistentRead=True)
        if "Item" not in response:
            return NO_POINTERS
        item = from_attributes(response["Item"])
        return Pointers(
            champion=item.get("champion") or None,
            challenger=item.get("challenger") or None,
            previous=tuple(json.loads(item.get("previous", "[]"))),
            revision=int(item["revision"]),
        )

    def get(self, version: str) -> ModelRecord | None:
        if not _VERSION.fullmatch(version):
            return None
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=_key(f"VERSION#{version}"), ConsistentRead=True
        )
        return _record(from_attributes(response["Item"])) if "Item" in response else None

    def versions(self) -> list[ModelRecord]:
        """Every version, newest first."""
        records = [_record(item) for item in self._query("VERSION#")]
        return sorted(records, key=lambda r: (r.created_at, r.version), reverse=True)

    def history(self) -> list[HistoryEntry]:
        """Every change, newest first."""
        entries = [
            HistoryEntry(HistoryAction(i["action"]), i["version"], i.get("previous_champion"), i["by"], i["at"])
            for i in self._query("HISTORY#")
        ]
        return entries[::-1]

    def _query(self, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": PARTITION}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        while True:
            response = client("dynamodb").query(**kwargs)
            items.extend(from_attributes(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # --- changes -----------------------------------------------------------------------------------------------
    def publish_challenger(
        self, version: str, files: dict[str, bytes], metadata: dict[str, Any], by: str, now: datetime
    ) -> ModelRecord:
        """A trained artifact as the new challenger (the one before it, if any, retired). A version published
        before is refused (Conflict): a version names one artifact, forever."""
        check_version(version)
        text = json.dumps(metadata, sort_keys=True, allow_nan=False)
        if len(text.encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"training metadata of {version} is {len(text.encode())} bytes, over {MAX_METADATA_BYTES}")
        if self.get(version) is not None:  # before the upload: a version's files are never overwritten
            raise Conflict(f"model version {version} exists already", {"version": version})
        self.put_files(version, files)
        current = self.pointers()
        record = ModelRecord(version, ModelStatus.CHALLENGER, to_iso(now), by, json.loads(text))
        unit = UnitOfWork()
        unit.add(("version", version), self._put_record(record, new=True))
        if current.challenger and current.challenger != current.champion:
            unit.add(("version", current.challenger), self._set_status(current.challenger, ModelStatus.RETIRED))
        after = Pointers(current.champion, version, current.previous, current.revision + 1)
        self._commit(unit, current, after, HistoryAction.CHALLENGER, version, by, now)
        return record

    def promote(self, version: str, by: str, now: datetime) -> Pointers:
        """`version` becomes the champion; the champion before it is retired and remembered for rollback."""
        record = self.get(version)
        if record is None:
            raise NotFound(f"no model version {version}", {"version": version})
        current = self.pointers()
        if current.champion == version:
            raise Conflict(f"{version} is already the champion", {"version": version, "champion": version})
        previous = (*current.previous, current.champion) if current.champion else current.previous
        after = Pointers(
            version,
            None if current.challenger == version else current.challenger,
            previous[-KEEP_PREVIOUS:],
            current.revision + 1,
        )
        unit = UnitOfWork().add(("version", version), self._set_status(version, ModelStatus.CHAMPION))
        if current.champion:
            unit.add(("version", current.champion), self._set_status(current.champion, ModelStatus.RETIRED))
        self._commit(unit, current, after, HistoryAction.PROMOTE, version, by, now)
        return after

    def rollback(self, by: str, now: datetime) -> Pointers:
        """The champion before the current one becomes champion again; the current one is retired."""
        current = self.pointers()
        if not current.previous or current.champion is None:
            raise Conflict("there is no earlier champion to roll back to", {"champion": current.champion})
        back = current.previous[-1]
        after = Pointers(
            back, None if current.challenger == back else current.challenger, current.previous[:-1],
            current.revision + 1,
        )  # fmt: skip
        unit = UnitOfWork().add(("version", back), self._set_status(back, ModelStatus.CHAMPION))
        unit.add(("version", current.champion), self._set_status(current.champion, ModelStatus.RETIRED))
        self._commit(unit, current, after, HistoryAction.ROLLBACK, back, by, now)
        return after

    def _commit(
        self,
        unit: UnitOfWork,
        before: Pointers,
        after: Pointers,
        action: HistoryAction,
        version: str,
        by: str,
        now: datetime,
    ) -> None:
        unit.add(("pointers", POINTERS_SK), self._put_pointers(before, after))
        history = {
            "pk": PARTITION,
            "sk": f"HISTORY#{to_iso(now)}#{after.revision:010d}",
            "action": action.value,
            "version": version,
            "by": by,
            "at": to_iso(now),
        }
        if before.champion:
            history["previous_champion"] = before.champion
        unit.add(("history", after.revision), {"Put": {"TableName": self.table_name, "Item": to_attributes(history)}})
        try:
            unit.commit()
        except TransactionRefused as refused:
            if refused.refused_of("pointers"):
                raise Conflict(
                    "the models changed meanwhile (another promote, rollback or training run): look again and retry",
                    {"revision": before.revision},
                ) from refused
            if refused.refused_of("version"):
                raise Conflict(f"model version {version} exists already", {"version": version}) from refused
            raise

    def _put_pointers(self, before: Pointers, after: Pointers) -> dict[str, Any]:
        item = {
            "pk": PARTITION,
            "sk": POINTERS_SK,
            "champion": after.champion or "",
            "challenger": after.challenger or "",
            "previous": json.dumps(list(after.previous)),
            "revision": after.revision,
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if before.revision:
            condition = {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(before.revision)}},
            }
        return {"Put": {"TableName": self.table_name, "Item": to_attributes(item), **condition}}

    def _put_record(self, record: ModelRecord, *, new: bool) -> dict[str, Any]:
        item = {
            "pk": PARTITION,
            "sk": f"VERSION#{record.version}",
            "version": record.version,
            "status": record.status.value,
            "created_at": record.created_at,
            "trained_by": record.trained_by,
            "metadata": json.dumps(record.metadata, sort_keys=True),
        }
        put: dict[str, Any] = {"TableName": self.table_name, "Item": to_attributes(item)}
        if new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _set_status(self, version: str, status: ModelStatus) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _key(f"VERSION#{version}"),
                "UpdateExpression": "SET #s = :s",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": status.value}},
            }
        }


def _key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": PARTITION}, "sk": {"S": sk}}


def _record(item: dict[str, Any]) -> ModelRecord:
    return ModelRecord(
        version=item["version"],
        status=ModelStatus(item["status"]),
        created_at=item["created_at"],
        trained_by=item["trained_by"],
        metadata=json.loads(item.get("metadata", "{}")),
    )
