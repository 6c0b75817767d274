"""BacktestFunction: replay a period's stored transactions through detection's offline path and judge each with
one rule (`shopwatch.backtest`). Two events, both from ApiFunction's POST /rules/backtest:
- `{"job_id": ...}` (asynchronous): the job StateTable holds; progress and result are written there;
- `{"inline": {expression, rule_id?, version?, since, until}}` (synchronous, a small table): the answer is
  returned, `{"result": ...}` or `{"error": ...}`.
Thin on purpose: what to replay is resolved and checked by ApiFunction before it gets here.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.backtest.jobs import run_inline, run_job
from shopwatch.backtest.rule_book import StoredRuleBook
from shopwatch.backtest.runner import Backtester
from shopwatch.backtest.scores import MarkerScores
from shopwatch.backtest.service import Sources
from shopwatch.config import DetectionSettings, required_env
from shopwatch.detection.model_scoring import load_model
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.backtests import BacktestJobs
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import TransactionRepository

logger = Logger(json_serializer=log_json)
tracer = Tracer()
metrics = Metrics()
_state_table = required_env("STATE_TABLE")
jobs = BacktestJobs(_state_table)
backtester = Backtester(
    Sources(
        TransactionRepository(required_env("TRANSACTIONS_TABLE")),
        StateRepository(_state_table),
        LabelRepository(_state_table),
        AlertRepository(required_env("ALERTS_TABLE")),
    ),
    StoredRuleBook(_state_table),
    MarkerScores(ModelRegistry(_state_table), lambda: load_model("default")),
    DetectionSettings.from_env(),
    utcnow,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event.get("inline"), dict):
        answer = run_inline(backtester, event["inline"])
        metrics.add_metric(name="BacktestsInline", unit=MetricUnit.Count, value=1)
        return answer
    job_id = event.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise ValueError("a backtest is {'job_id': <id>} or {'inline': <request>}")
    job = run_job(job_id, jobs, backtester, context.get_remaining_time_in_millis, utcnow)
    metrics.add_metric(name="BacktestJobs", unit=MetricUnit.Count, value=1)
    logger.info("backtest job", extra={"job_id": job_id, "status": job.status.value})
    return {"job_id": job_id, "status": job.status.value}
