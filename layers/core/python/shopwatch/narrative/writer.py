"""Narratives from OpenAI's chat completions, bounded in time and cost, and never in the way of an alert.

Every call runs against one deadline (NARRATIVE_TIMEOUT_SECONDS): the first attempt and its one retry share
it, and the caller stops waiting when it passes, whatever the HTTP client is doing. Anything short of a usable
text (no key, the daily cap, a timeout, 429, 5xx, an empty or malformed answer) returns no narrative and the
cause, so the caller falls back to the template sentence and says why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import openai
from openai.types.chat import ChatCompletionMessageParam

from shopwatch.config import NarrativeSettings
from shopwatch.domain.clock import utcnow
from shopwatch.storage.llm_budget import LlmBudget
from shopwatch.storage.secrets import MissingKey, OpenAIKeySource

MAX_NARRATIVE_CHARS = 1200
_RETRYABLE_STATUS = {408, 409, 429}  # and every 5xx
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="narrative")  # kept across warm invocations


@dataclass(frozen=True)
class NarrativeResult:
    text: str | None = None
    cause: str | None = None  # why there is no text; None when none was asked for

    @property
    def fell_back(self) -> bool:
        return self.text is None and self.cause is not None


class Unavailable(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def usable_text(content: object, finish_reason: object) -> str:
    """The model's answer as one clean paragraph, or Unavailable: empty, not text, or absurdly long. An answer
    cut by the token limit keeps its complete sentences only."""
    if not isinstance(content, str):
        raise Unavailable(f"malformed output: content is {type(content).__name__}")
    text = re.sub(r"\s+", " ", content).strip()
    if finish_reason == "length":
        cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
        text = text[: cut + 1] if cut > 0 else ("" if not text.endswith((".", "!", "?")) else text)
    if not text:
        raise Unavailable("empty output")
    if len(text) > MAX_NARRATIVE_CHARS:
        raise Unavailable(f"malformed output: {len(text)} characters")
    return text


class ChatModel:
    """One chat completion through the `openai` client (OPENAI_BASE_URL, if set, points it elsewhere)."""

    def __init__(self, model: str, max_tokens: int) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._clients: dict[str, openai.OpenAI] = {}

    def _client(self, api_key: str) -> openai.OpenAI:
        if api_key not in self._clients:
            self._clients = {api_key: openai.OpenAI(api_key=api_key, max_retries=0)}  # a rotated key replaces it
        return self._clients[api_key]

    def complete(self, api_key: str, messages: list[ChatCompletionMessageParam], timeout: float) -> str:
        response = (
            self._client(api_key)
            .with_options(timeout=timeout, max_retries=0)
            .chat.completions.create(
                model=self.model, messages=messages, max_completion_tokens=self.max_tokens, temperature=0.2
            )
        )
        try:
            choice = response.choices[0]
            return usable_text(choice.message.content, choice.finish_reason)
        except (AttributeError, IndexError, TypeError) as exc:
            raise Unavailable(f"malformed output: {type(exc).__name__}") from None


class Narrator:
    def __init__(
        self,
        settings: NarrativeSettings,
        keys: OpenAIKeySource,
        budget: LlmBudget,
        model: ChatModel | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.budget = budget
        self.model = model or ChatModel(settings.model, settings.max_tokens)
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.keys.configured

    def write(self, messages: list[ChatCompletionMessageParam]) -> NarrativeResult:
        """A narrative for these messages within the timeout, or none and why."""
        if not self.enabled:
            return NarrativeResult()
        deadline = self.clock() + self.settings.timeout_seconds
        future = _pool.submit(self._attempts, messages, deadline)
        try:
            return NarrativeResult(text=future.result(timeout=max(0.0, deadline - self.clock())))
        except FutureTimeout:
            return NarrativeResult(cause=f"timeout: no answer within {self.settings.timeout_seconds:g} s")
        except Unavailable as exc:
            return NarrativeResult(cause=exc.cause)

    def _attempts(self, messages: list[ChatCompletionMessageParam], deadline: float) -> str:
        try:
            key = self.keys.get()
        except MissingKey as exc:
            raise Unavailable(f"missing key: {exc}") from None
        cause = "timeout"
        for _attempt in range(2):  # one try and one retry, both before the deadline
            remaining = deadline - self.clock()
            if remaining <= 0.05:
                break
            if not self.budget.claim(utcnow().date(), self.settings.daily_limit):
                raise Unavailable(f"daily limit of {self.settings.daily_limit} model calls reached")
            try:
                return self.model.complete(key, messages, remaining)
            except Unavailable as exc:
                cause = exc.cause
            except openai.APITimeoutError:
                cause = "timeout"
            except openai.APIStatusError as exc:
                cause = f"HTTP {exc.status_code} from the model API"
                if exc.status_code < 500 and exc.status_code not in _RETRYABLE_STATUS:
                    break  # a bad request or a refused key will not get better on a retry
            except openai.APIConnectionError as exc:
                cause = f"connection error: {exc}"
            except (openai.OpenAIError, ValueError) as exc:
                cause = f"malformed output: {type(exc).__name__}"
        raise Unavailable(cause)
