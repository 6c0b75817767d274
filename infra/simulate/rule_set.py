"""A rule set for a simulation: the analysts' rules and lists a run starts with (`shopwatch simulate --rules
FILE`, and the demo's own), published through the same HTTP routes an admin uses, so the run exercises the
whole path: validation, versions, the functions' rule cache, ingest decisions and DetectFunction's matches.

File shape (JSON): {"rules": [{rule_id, name, description, expression, mode, severity?, decision?, score?}],
"lists": [{name, kind, mode, description?, items: [{value, reason, expires_at?}]}]}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.client import ApiError, ShopwatchClient

DEMO_RULE_SET = Path(__file__).with_name("demo_rules.json")


@dataclass(frozen=True)
class RuleSet:
    rules: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> RuleSet:
        document = json.loads(path.read_text())
        unknown = set(document) - {"rules", "lists"}
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}; a rule set has 'rules' and 'lists'")
        return cls(list(document.get("rules", [])), list(document.get("lists", [])))


def publish(client: ShopwatchClient, rule_set: RuleSet) -> list[str]:
    """Every list (PUT, so a second run replaces it) and rule (created, or a new version when it exists) of the
    set, through the API as the signed-in admin; what was done, one line each. A refusal raises ApiError with
    the API's field errors."""
    done = []
    for entry in rule_set.lists:
        body = {k: v for k, v in entry.items() if k != "name"}
        _call(client, "PUT", f"/lists/{entry['name']}", body)
        done.append(f"list {entry['name']} ({entry['mode']} {entry['kind']}): {len(entry.get('items', []))} items")
    for rule in rule_set.rules:
        status, _ = client.request("GET", f"/rules/{rule['rule_id']}")
        if status == 200:
            _call(client, "PUT", f"/rules/{rule['rule_id']}", {k: v for k, v in rule.items() if k != "rule_id"})
        else:
            _call(client, "POST", "/rules", rule)
        done.append(f"rule {rule['rule_id']} ({rule['mode']}): {rule['expression']}")
    return done


def _call(client: ShopwatchClient, method: str, path: str, body: dict[str, Any]) -> Any:
    status, answer = client.request(method, path, body)
    if status not in (200, 201):
        raise ApiError(status, answer)
    return answer
