"""What a set of rules reads, found in their text, so that facts build only that: the variables they name and,
of the two costly ones, the fields. An entity's field is a sum over its time buckets or a union of its link sets,
an account's `*_30d` a union of link sets; a rule of `entities.device.accounts_1h` should not pay for the other
sixty (in a backtest of 100,000 transactions they were a fifth of the time). A finding is a detector's run: a
backtest of `findings.price` runs the price detector alone (`backtest.matcher`).

The test is textual (the bindings expose no checked AST) and errs one way only: a name in a string literal or a
comment costs time, never an answer. A field is read only through a selection (`account.cards_30d`,
`entities.device.accounts_1h`): CEL has no dynamic field access on messages. A message used whole (`has(entities.
device)`, `entities.device == entities.card`, a list of messages) is a mention without a selection, and then
every field of that variable is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shopwatch.rules.variables import VARIABLES

FIELDED = ("account", "entities", "findings")  # variables whose fields are built (found) only when read
_MENTION = {name: re.compile(rf"\b{name}\b") for name in VARIABLES}
_SELECTED = {
    "account": re.compile(r"\baccount\s*\.\s*(\w+)"),
    "entities": re.compile(r"\bentities\s*\.\s*\w+\s*\.\s*(\w+)"),
    "findings": re.compile(r"\bfindings\s*\.\s*(\w+)"),
}


@dataclass(frozen=True)
class Reads:
    variables: frozenset[str]
    fields: tuple[tuple[str, frozenset[str] | None], ...]  # per FIELDED variable read: its fields, None for all

    def fields_of(self, variable: str) -> frozenset[str] | None:
        """The fields of `variable` to build (None: every one)."""
        for name, fields in self.fields:  # at most three: a walk, not a dict built per transaction
            if name == variable:
                return fields
        return None


EVERYTHING = Reads(frozenset(VARIABLES), tuple((name, None) for name in FIELDED))


def reads_of(expressions: Iterable[str]) -> Reads:
    """What the expressions read together; `tx` always (it is the transaction: cheap and nearly always read)."""
    texts = list(expressions)
    variables = {"tx"} | {name for name, mention in _MENTION.items() if any(mention.search(t) for t in texts)}
    fields: list[tuple[str, frozenset[str] | None]] = []
    for name in FIELDED:
        if name not in variables:
            continue
        mentions = sum(len(_MENTION[name].findall(t)) for t in texts)
        selected = [f for t in texts for f in _SELECTED[name].findall(t)]
        fields.append((name, frozenset(selected) if len(selected) == mentions else None))
    return Reads(frozenset(variables), tuple(fields))
