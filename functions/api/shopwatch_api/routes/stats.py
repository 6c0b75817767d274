"""Traffic stats from the minute and day buckets: counts per status, transactions and approved revenue."""

from typing import Annotated

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from shopwatch.domain.clock import utcnow
from shopwatch.windows.stats import StatsService
from shopwatch_api.params import filter_moment, moment_query
from shopwatch_api.responses import DailyOut, MinutesOut, PeriodOut

tracer = Tracer()


def router(stats: StatsService) -> Router:
    router = Router()

    @router.get("/stats/minutes")
    @tracer.capture_method
    def stats_minutes(
        since: Annotated[str | None, moment_query("default: until minus 59 minutes")] = None,
        until: Annotated[str | None, moment_query("default: now; since after until answers no minutes")] = None,
    ) -> MinutesOut:
        """Counts per status, transactions and approved revenue for each minute in [since, until]; a window longer
        than a day answers its last 1,440 minutes."""
        found = stats.minutes(filter_moment("since", since), filter_moment("until", until), utcnow())
        return MinutesOut(minutes=[PeriodOut.from_bucket(b) for b in found])

    @router.get("/stats/daily")
    @tracer.capture_method
    def stats_daily(days: Annotated[int, Query(ge=1, le=366)] = 30) -> DailyOut:
        """Transactions, approved revenue and the low-performance flag of each of the last `days` days."""
        return DailyOut.from_report(stats.daily(days, utcnow()))

    return router
