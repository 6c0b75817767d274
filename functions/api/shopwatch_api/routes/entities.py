"""An entity's page: an account, device, card, IP or e-mail with its counts, links, link graph, transactions
and alerts (read only; adding it to a list is the lists routes' job)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from shopwatch.domain.clock import to_iso
from shopwatch.investigation.entities import MAX_VALUE, EntityInvestigation, EntityProfile
from shopwatch_api.models import ONE_LINE
from shopwatch_api.responses import (
    AlertBriefOut,
    EntityDetail,
    EntityKind,
    EntityWindowOut,
    GraphNodeOut,
    GraphOut,
    LinkedOut,
    ListTargetOut,
    TransactionOut,
)

Kind = Annotated[EntityKind, Path(description="what the value names")]
Value = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_VALUE,
        pattern=ONE_LINE,
        description="URL-encoded; an e-mail in any case; a card its fingerprint or `<bin>/<customer>`",
    ),
]


def entity_detail(profile: EntityProfile) -> EntityDetail:
    """The investigation's typed profile as the API shows it."""
    return EntityDetail(
        kind=profile.kind,  # type: ignore[arg-type]
        value=profile.value,
        first_seen=None if profile.first_seen is None else to_iso(profile.first_seen),
        last_seen=None if profile.last_seen is None else to_iso(profile.last_seen),
        transactions=profile.transactions,
        failed=profile.failed,
        approved_amount=profile.approved_amount,
        windows=[
            EntityWindowOut(window=w.window, transactions=w.transactions, approved_amount=w.approved_amount)  # type: ignore[arg-type]
            for w in profile.windows
        ],
        linked=[LinkedOut(kind=g.kind, values=list(g.values), at_least=g.at_least) for g in profile.linked],  # type: ignore[arg-type]
        graph=GraphOut(
            nodes=[GraphNodeOut(kind=n.kind, value=n.value) for n in profile.graph.nodes],  # type: ignore[arg-type]
            edges=[[a, b] for a, b in profile.graph.edges],
            omitted=profile.graph.omitted,
        ),
        recent_transactions=[TransactionOut.model_validate(tx.to_item()) for tx in profile.recent_transactions],
        alerts=[AlertBriefOut.of(a) for a in profile.alerts],
        list_targets=[ListTargetOut(list_kind=t.list_kind, value=t.value) for t in profile.list_targets],  # type: ignore[arg-type]
    )


def router(investigation: EntityInvestigation) -> Router:
    router = Router()

    @router.get("/entities/<kind>/<value>")
    def get_entity(kind: Kind, value: Value) -> EntityDetail:
        """What Shopwatch knows about an entity: counts, linked accounts and entities, a small link graph, its
        newest transactions and their alerts."""
        return entity_detail(investigation.get(kind, value))

    return router
