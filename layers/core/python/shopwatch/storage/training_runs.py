"""Starting a training run: TrainFunction invoked asynchronously (InvocationType Event), so POST /models/train
answers at once while the run takes its minutes; its result appears in the registry as the new challenger.

Lambda queues the event and retries a failed run twice on its own; with one reserved execution a second
request while a run goes waits in that queue, it does not run beside it.
"""

from __future__ import annotations

import json

from shopwatch.storage.aws import client


class TrainingRuns:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name

    def start(self, requested_by: str) -> None:
        response = client("lambda").invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps({"requested_by": requested_by}).encode(),
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"{self.function_name} did not accept the run (status {response.get('StatusCode')})")
