"""POST /rules/backtest and GET /rules/backtest/{job_id}: a rule replayed over stored transactions.

Analysts and admins may backtest (Action.READ, signed in: the shop's key is no one here). Refusals store
nothing: the body and the period are checked, the rule resolved and its expression checked before any job
exists.

Inline or a job: the period's read is a Scan of the whole TransactionsTable whatever the period (its only time
index is by customer), so what a backtest costs follows the table's size, not the period's length. A table of
at most BACKTEST_INLINE_MAX_TRANSACTIONS items (DescribeTable's estimate; 10,000 by default) is answered in
the request: BacktestFunction invoked synchronously reads and replays 10,000 transactions in ~6 s on one core
(`make bench-backtest` measures the rate), well inside API Gateway's 29 s. A bigger table gets a job: 202
with its id, BacktestFunction invoked asynchronously, progress and result in StateTable.
"""

import os
import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from shopwatch.auth.callers import Action, authorize
from shopwatch.backtest.period import Period
from shopwatch.backtest.rule_book import StoredRuleBook
from shopwatch.backtest.target import resolve
from shopwatch.domain.clock import utcnow
from shopwatch.errors import NotFound, ShopwatchError
from shopwatch.storage.backtests import BacktestJobs, BacktestRuns
from shopwatch.storage.transactions import TransactionRepository
from shopwatch_api.backtest_models import BacktestIn, BacktestJobOut, BacktestResultOut, BacktestStarted
from shopwatch_api.docs import ERROR_CONTENT

DEFAULT_INLINE_MAX = 10_000
JobId = Annotated[str, Path(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")]


class BacktestRefused(ShopwatchError):
    """A refusal BacktestFunction answered an inline run with (its status and code, passed on)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"], error.get("details"))
        self.status, self.code = int(error["status"]), str(error["code"])


def router(transactions_table: str, state_table: str, function_name: str) -> Router:
    """A new Router per call: a test's fresh ApiFunction gets routes over its own tables."""
    transactions = TransactionRepository(transactions_table)
    rule_book = StoredRuleBook(state_table)
    jobs = BacktestJobs(state_table)
    runs = BacktestRuns(function_name)
    inline_max = int(os.environ.get("BACKTEST_INLINE_MAX_TRANSACTIONS", DEFAULT_INLINE_MAX))
    router = Router()

    @router.post(
        "/rules/backtest",
        responses={
            200: {"description": "the result (a small table)", "content": {"application/json": {"model": BacktestResultOut}}},
            202: {"description": "a job: GET /rules/backtest/{job_id}", "content": {"application/json": {"model": BacktestStarted}}},
            400: {"description": "invalid body or period, or an expression the checker refuses (with positions)", "content": ERROR_CONTENT},
            404: {"description": "no such rule or version", "content": ERROR_CONTENT},
            503: {"description": "two backtests are running: retry after Retry-After seconds", "content": ERROR_CONTENT},
        },
    )  # fmt: skip
    def backtest(body: BacktestIn) -> Response[dict[str, Any]]:
        """Replay the stored transactions of [since, until] through detection's offline path and judge each with
        the expression (a draft, or a saved rule's version): matches per day, labelled fraud and legitimate,
        precision, recall, overlap with alerts and up to 50 examples. Analysts and admins."""
        by = authorize(router.current_event.raw_event, Action.READ, person=True).name
        now = utcnow()
        period = Period.requested(body.since, body.until, now)
        target = resolve(rule_book, body.expression, body.rule_id, body.version)
        request = target.to_json() | period.to_json()
        if transactions.approximate_count() <= inline_max:
            answer = runs.run_now(request)
            if "error" in answer:
                raise BacktestRefused(answer["error"])
            result = BacktestResultOut.model_validate(answer["result"]).model_dump(mode="json")
            return Response(200, content_types.APPLICATION_JSON, result)
        job_id = uuid.uuid4().hex
        jobs.create(job_id, request, by, now)
        try:
            runs.start(job_id)
        except Exception:
            jobs.fail(job_id, "BacktestFunction could not be started", utcnow())
            raise
        started = BacktestStarted(job_id=job_id, status="running").model_dump(mode="json")
        return Response(202, content_types.APPLICATION_JSON, started)

    @router.get(
        "/rules/backtest/<job_id>",
        responses={
            200: {"description": "the job", "content": {"application/json": {"model": BacktestJobOut}}},
            404: {"description": "no such job (they expire after a week)", "content": ERROR_CONTENT},
        },
    )
    def backtest_job(job_id: JobId) -> BacktestJobOut:
        """A backtest job: running with its progress, done with its result, or failed with the reason."""
        job = jobs.get(job_id)
        if job is None:
            raise NotFound(f"no backtest job {job_id}", {"job_id": job_id})
        return BacktestJobOut.from_job(job)

    return router
