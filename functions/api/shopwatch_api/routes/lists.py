"""The lists routes (block and allow lists the rules and the checkout read). Admins change them
(Action.MANAGE_RULES), analysts read them; every change is recorded under the signed-in admin's name.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from shopwatch.auth.callers import Action
from shopwatch.domain.clock import utcnow
from shopwatch.rules.definitions import ID_PATTERN
from shopwatch.rules.service import ItemDraft, ListService
from shopwatch.storage.rules import ListRepository
from shopwatch_api.acting import acting
from shopwatch_api.docs import success
from shopwatch_api.routes.rules import CONFLICT
from shopwatch_api.rules_models import ItemIn, ItemsAddedOut, ItemsIn, ListIn, ListOut, ListsOut, ListSummaryOut

ListName = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
ItemValue = Annotated[str, Path(min_length=1, max_length=254, description="as stored (see GET /lists/{name})")]


def _items(items: list[ItemIn]) -> list[ItemDraft]:
    return [ItemDraft(item.value, item.reason, item.expires_at) for item in items]  # type: ignore[arg-type]


def router(state_table: str) -> Router:
    """The routes over StateTable's lists."""
    lists = ListService(ListRepository(state_table))
    router = Router()

    @router.get("/lists")
    def list_lists() -> ListsOut:
        """Every list with its count of unexpired entries."""
        return ListsOut(lists=[ListSummaryOut.from_summary(summary) for summary in lists.list(utcnow())])

    @router.put("/lists/<name>", responses=success(ListSummaryOut, "the list") | CONFLICT)
    def put_list(name: ListName, body: ListIn) -> ListSummaryOut:
        """Create or change a list (admins); `items`, when given, replace every entry."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        items = None if body.items is None else _items(body.items)
        return ListSummaryOut.from_summary(lists.put(name, body.kind, body.mode, body.description, items, by, utcnow()))

    @router.get("/lists/<name>")
    def get_list(name: ListName) -> ListOut:
        """A list with its unexpired entries, by value."""
        return ListOut.from_detail(lists.get(name, utcnow()))

    @router.post("/lists/<name>/items", responses=success(ItemsAddedOut, "the list, and what changed") | CONFLICT)
    def add_list_items(name: ListName, body: ItemsIn) -> ItemsAddedOut:
        """Add entries (admins); a value already there takes the new reason and expiry."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return ItemsAddedOut.from_result(lists.add_items(name, _items(body.items), by, utcnow()))

    @router.delete("/lists/<name>/items/<value>", responses=success(ListSummaryOut, "the list") | CONFLICT)
    def remove_list_item(name: ListName, value: ItemValue) -> ListSummaryOut:
        """Remove an entry (admins); the value as the list stores it, or in any form that normalises to it."""
        by = acting(router, Action.MANAGE_RULES, person=True)
        return ListSummaryOut.from_summary(lists.remove_item(name, value, by, utcnow()))

    return router
