"""The instructions given to the language model. It explains; it never decides: severity and the facts are
ours, and the model is told to add nothing that is not in them. The facts' text is one line each (no line
break, control or bidi character from a customer's name or a SKU's name reaches the prompt)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shopwatch.domain.text import one_line_values

if TYPE_CHECKING:  # the type only: importing openai stays with the writer
    from openai.types.chat import ChatCompletionMessageParam

ALERT_INSTRUCTIONS = (
    "You are a fraud analyst writing for an online shop's owner. In at most three short sentences, explain the "
    "alert below in plain language: what happened, why it is unusual compared with the expected values, and "
    "what to check first. Use only the facts given; do not invent amounts, names, dates or causes. No greeting, "
    "no markdown."
)
DIGEST_INSTRUCTIONS = (
    "You are a fraud analyst writing a shop owner's daily briefing. In at most five short sentences, summarise "
    "the day's alerts below: what stood out, which detectors were busiest, what is still open, and how reliable "
    "the alerts were according to analysts' feedback. Use only the figures given; do not invent any. No "
    "greeting, no markdown."
)


def messages(instructions: str, facts: dict[str, Any]) -> list[ChatCompletionMessageParam]:
    return [
        {"role": "system", "content": instructions},
        {"role": "user", "content": json.dumps(one_line_values(facts), ensure_ascii=False, sort_keys=True)},
    ]
