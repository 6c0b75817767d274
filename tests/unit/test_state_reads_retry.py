"""DetectFunction's batch reads ride out throttling: a read is safe to repeat, and one that failed would fail the
whole batch (a function error, counted against the batch's retry attempts and then dead-lettered: what the fault
suite's throttling test saw for single-record batches)."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from shopwatch.storage import aws, batch_reads, state


class ThrottledOnce:
    """A DynamoDB client whose every first call of an operation is throttled, as the fault suite injects it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _answer(self, operation: str, answer: dict) -> dict:
        self.calls.append(operation)
        if self.calls.count(operation) == 1:
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}
            raise ClientError({"Error": error}, operation)
        return answer

    def batch_get_item(self, RequestItems):
        return self._answer("BatchGetItem", {"Responses": {"StateTable": []}})

    def query(self, **_):
        return self._answer("Query", {"Items": []})


def test_markers_sku_stats_catalog_and_recent_reads_are_retried(monkeypatch):
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    repository = state.StateRepository("StateTable")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    reads = {
        "markers": lambda: repository.get_markers(["t1"], {}),
        "sku stats": lambda: repository.get_sku_stats([("MUG", "USD")]),
        "catalog": lambda: repository.get_catalog(["MUG"]),
        "recent": lambda: repository.get_recent("c1", at, at),
    }
    for name, read in reads.items():
        fake = ThrottledOnce()
        monkeypatch.setattr(batch_reads, "client", lambda service, fake=fake: fake)
        monkeypatch.setattr(state, "client", lambda service, fake=fake: fake)
        read()  # answers (nothing is stored) after its throttled first call, instead of raising
        assert len(fake.calls) == 2, name
