"""A backtest as BacktestFunction runs it: a job (progress and result in StateTable) or an inline request
(ApiFunction waits for the answer).

A job's refusals are its result: an expression that no longer compiles, a period holding more than the replay
keeps, a run about to reach the function's time limit end the job `failed` with the reason, and are not raised
(Lambda would retry a deterministic refusal for nothing). Anything else fails the job and is raised, so the
error is logged and alarmed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shopwatch.backtest.period import Period
from shopwatch.backtest.runner import Backtester
from shopwatch.backtest.target import ExpressionRefused, Target
from shopwatch.errors import ShopwatchError
from shopwatch.storage.backtests import BacktestJob, BacktestJobs, JobStatus
from shopwatch.storage.transactions import TooManyTransactions

SPARE_MS = 30_000  # stop this long before the function's limit, to record why


class OutOfTime(Exception):
    pass


class PeriodTooLarge(ShopwatchError):
    status, code = 400, "period_too_large"


def run_inline(backtester: Backtester, request: dict[str, Any]) -> dict[str, Any]:
    """{"result": ...}, or {"error": {status, code, message, details?}} for a refusal ApiFunction passes on."""
    try:
        result = backtester.run(Target.from_json(request), Period.from_json(request))
    except ExpressionRefused as refused:
        return {"error": {"status": refused.status} | refused.body()["error"]}
    except TooManyTransactions as exc:
        too_large = PeriodTooLarge(f"{exc}: backtest a shorter period", {"limit": exc.limit})
        return {"error": {"status": too_large.status} | too_large.body()["error"]}
    return {"result": result.to_json()}


def run_job(
    job_id: str,
    jobs: BacktestJobs,
    backtester: Backtester,
    remaining_ms: Callable[[], int],
    clock: Callable[[], datetime],
) -> BacktestJob:
    job = jobs.get(job_id)
    if job is None:
        raise LookupError(f"no backtest job {job_id}")
    if job.status is not JobStatus.RUNNING:
        return job  # a redelivered event: the job is settled

    def progress(judged: int, total: int) -> None:
        if remaining_ms() < SPARE_MS:
            raise OutOfTime("the period did not finish within the function's time limit: backtest a shorter one")
        jobs.progress(job_id, judged / total if total else 1.0, clock())

    try:
        result = backtester.run(Target.from_json(job.request), Period.from_json(job.request), progress)
    except ExpressionRefused as refused:
        jobs.fail(job_id, f"{refused.message}: {refused.details}", clock())
    except (TooManyTransactions, OutOfTime) as refused:
        jobs.fail(job_id, str(refused), clock())
    except Exception:
        jobs.fail(job_id, "the backtest failed unexpectedly (BacktestFunction's log has the error)", clock())
        raise
    else:
        jobs.finish(job_id, result.to_json(), clock())
    settled = jobs.get(job_id)
    if settled is None:
        raise LookupError(f"backtest job {job_id} vanished")
    return settled
