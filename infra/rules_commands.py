"""`shopwatch rules list|show|add|mode` and `shopwatch lists import NAME FILE.csv`: the rules and lists routes from a
terminal, as an admin of the local stack (its stack.json) or of a deployed one (--url with --token, or --user and
--password). The API checks and records every change; this only asks and prints.

The import checks each row with the server's own rules (shopwatch.rules.service.item_problems) before sending
anything, so a file with a few bad rows adds every good row and names each bad one by its line, instead of the
server refusing a whole request for one typo. The good rows go in requests of MAX_ITEMS_PER_REQUEST.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from rich.table import Table

from infra.model_commands import TOKEN_ENV, client_for
from infra.report import console
from shopwatch.domain.clock import parse_rfc3339, utcnow
from shopwatch.rules.definitions import ListKind, ListMode, RuleMode
from shopwatch.rules.list_values import normalise_value
from shopwatch.rules.service import MAX_ITEMS_PER_REQUEST, ItemDraft, item_problems

COLUMNS = ("value", "reason")  # required; `expires_at` (RFC 3339) is optional


class Client(Protocol):
    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


class CommandError(Exception):
    """A refusal to report and stop on (exit status 2): a file or a list that cannot be imported at all."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


@dataclass(frozen=True)
class _Row:
    line: int
    draft: ItemDraft


def _segment(text: str) -> str:
    return quote(text, safe="")


def _message(body: Any) -> str:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    return str(error.get("message", body))


def read_rows(path: Path, kind: ListKind, now: datetime, report: ImportReport) -> list[_Row]:
    """The file's rows that pass the server's rules; the others go to `report.refused` with their line."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CommandError(f"{path}: missing column(s): {', '.join(missing)} (columns: value,reason[,expires_at])")
        rows: list[_Row] = []
        first_line: dict[str, int] = {}
        for record in reader:
            line = reader.line_num
            row = _row(record, line, kind, now, first_line, report)
            if row is not None:
                rows.append(row)
        return rows


def _row(
    record: dict[str, Any], line: int, kind: ListKind, now: datetime, first_line: dict[str, int], report: ImportReport
) -> _Row | None:
    if None in record:  # more cells than columns
        report.refused.append((line, "more cells than the header has columns"))
        return None
    expiry_text = (record.get("expires_at") or "").strip()
    try:
        expires_at = parse_rfc3339(expiry_text) if expiry_text else None
    except ValueError as exc:
        report.refused.append((line, f"expires_at {exc}"))
        return None
    draft = ItemDraft(record.get("value") or "", record.get("reason") or "", expires_at)
    problems = item_problems(kind, draft, now)
    if problems:
        report.refused.append((line, "; ".join(f"{name} {message}" for name, message in problems.items())))
        return None
    value = normalise_value(kind, draft.value)
    if value in first_line:
        report.refused.append((line, f"value {value} repeats line {first_line[value]}"))
        return None
    first_line[value] = line
    return _Row(line, draft)


def _list_kind(client: Client, name: str, kind: ListKind | None, mode: ListMode | None, create: bool) -> ListKind:
    """The list's kind, creating the list when it does not exist (which needs --kind and --mode)."""
    status, body = client.request("GET", f"/lists/{_segment(name)}")
    if status == 404:
        if kind is None or mode is None:
            raise CommandError(f"there is no list {name}: give --kind and --mode to create it")
        if create:
            status, body = client.request("PUT", f"/lists/{_segment(name)}", {"kind": kind.value, "mode": mode.value})
            if status != 200:
                raise CommandError(f"cannot create list {name}: HTTP {status}: {_message(body)}")
        return kind
    if status != 200:
        raise CommandError(f"cannot read list {name}: HTTP {status}: {_message(body)}")
    if kind is not None and kind.value != body["kind"]:
        raise CommandError(f"list {name} holds {body['kind']} values, not {kind.value}")
    if mode is not None and mode.value != body["mode"]:
        raise CommandError(f"list {name} is a {body['mode']} list, not {mode.value} (change it with PUT /lists/{name})")
    return ListKind(body["kind"])


def import_list(
    client: Client,
    name: str,
    path: Path,
    kind: ListKind | None = None,
    mode: ListMode | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Add the file's good rows to list `name` (created when missing); report what was added and refused."""
    report = ImportReport()
    list_kind = _list_kind(client, name, kind, mode, create=False)
    rows = read_rows(path, list_kind, now or utcnow(), report)
    if rows:
        _list_kind(client, name, kind, mode, create=True)
    for start in range(0, len(rows), MAX_ITEMS_PER_REQUEST):
        chunk = rows[start : start + MAX_ITEMS_PER_REQUEST]
        items = [
            {"value": r.draft.value, "reason": r.draft.reason}
            | ({"expires_at": r.draft.expires_at.isoformat()} if r.draft.expires_at else {})
            for r in chunk
        ]
        status, body = client.request("POST", f"/lists/{_segment(name)}/items", {"items": items})
        if status == 200:
            report.added += body["added"]
            report.updated += body["updated"]
        else:
            report.refused += _refusals(chunk, status, body)
    report.refused.sort()
    return report


def _refusals(chunk: list[_Row], status: int, body: Any) -> list[tuple[int, str]]:
    """A refused request's rows: the ones the server named (items.<i>.<field>) with its reason, else all of them."""
    details = body.get("error", {}).get("details") if isinstance(body, dict) else None
    named: dict[int, str] = {}
    if isinstance(details, list):
        for detail in details:
            parts = str(detail.get("field", "")).split(".")
            if len(parts) >= 2 and parts[0] == "items" and parts[1].isdigit() and int(parts[1]) < len(chunk):
                named[chunk[int(parts[1])].line] = f"{'.'.join(parts[2:])} {detail.get('message', '')}".strip()
    why = f"not sent: HTTP {status}: {_message(body)}"
    return [(row.line, named.get(row.line, why)) for row in chunk]


# --- rules -----------------------------------------------------------------------------------------------------
def rules_table(rules: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Rules ({len(rules)})")
    for column in ("id", "version", "mode", "outcome", "name", "updated", "by"):
        table.add_column(column)
    for rule in rules:
        outcome = ", ".join(
            f"{name} {rule[name]}" for name in ("severity", "decision", "score") if rule.get(name) is not None
        )
        table.add_row(
            rule["rule_id"], str(rule["version"]), rule["mode"], outcome, rule["name"],
            rule["updated_at"][:19], rule["author"],
        )  # fmt: skip
    return table


def _show(body: dict[str, Any]) -> None:
    console.print(rules_table([body]))
    console.print(f"expression: {body['expression']}")
    for version in body.get("versions", []):
        changes = "; ".join(f"{c['field']}: {c['before']!r} -> {c['after']!r}" for c in version["diff"])
        console.print(f"  v{version['version']}  {version['created_at'][:19]}  by {version['author']}  {changes}")


def _rule_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"name": args.name, "expression": args.expression, "mode": args.mode}
    for name in ("description", "severity", "decision", "score", "rule_id"):
        if getattr(args, name, None) is not None:
            body[name] = getattr(args, name)
    return body


def run_rules(args: argparse.Namespace, client: Client) -> int:
    command = args.rules_command
    if command == "list":
        status, body = client.request("GET", "/rules")
    elif command == "show":
        status, body = client.request("GET", f"/rules/{_segment(args.rule_id)}")
    elif command == "add":
        status, body = client.request("POST", "/rules", _rule_body(args))
    else:
        status, body = client.request("POST", f"/rules/{_segment(args.rule_id)}/mode", {"mode": args.mode})
    if status >= 400:
        print(f"error: HTTP {status}: {_message(body)}", file=sys.stderr)
        for problem in (
            (body.get("error", {}).get("details") or {}).get("problems", []) if isinstance(body, dict) else []
        ):
            print(f"  line {problem['line']}, column {problem['column']}: {problem['message']}", file=sys.stderr)
        return 1
    if command == "list":
        console.print(rules_table(body["rules"]))
    elif command == "show":
        _show(body)
    else:
        console.print(f"{body['rule_id']} is at version {body['version']}, {body['mode']}")
    return 0


def run_lists(args: argparse.Namespace, client: Client) -> int:
    kind = ListKind(args.kind) if args.kind else None
    mode = ListMode(args.mode) if args.mode else None
    try:
        report = import_list(client, args.name, Path(args.file), kind, mode)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line, why in report.refused:
        print(f"line {line}: {why}", file=sys.stderr)
    console.print(f"list {args.name}: {report.added} added, {report.updated} updated, {len(report.refused)} refused")
    return 1 if report.refused else 0


def run(args: argparse.Namespace, local_state: Any) -> int:
    client = client_for(args, local_state)
    return run_rules(args, client) if args.command == "rules" else run_lists(args, client)


def _remote_options(parser: argparse.ArgumentParser, local: Any) -> None:
    parser.add_argument("--url", help="a deployed stack's API URL (default: the running local stack)")
    parser.add_argument("--token", help=f"an admin's ID token for --url (default: ${TOKEN_ENV})")
    parser.add_argument("--user", help="sign in to --url as this admin instead of a token")
    parser.add_argument("--password", help="the password for --user")
    local(parser)


def add_parsers(commands: Any, local: Any) -> None:
    rules = commands.add_parser("rules", help="rules as data: list, show, add, change mode (as an admin)")
    _remote_options(rules, local)
    sub = rules.add_subparsers(dest="rules_command", required=True)
    sub.add_parser("list", help="every rule's current version")
    show = sub.add_parser("show", help="a rule and its versions, each with its diff")
    show.add_argument("rule_id")
    add = sub.add_parser("add", help="a new rule (checked by the server; problems are shown with their position)")
    add.add_argument("--name", required=True)
    add.add_argument("--expression", required=True, help="CEL, e.g. 'tx.amount > 500.0'")
    add.add_argument("--mode", default=RuleMode.SHADOW.value, choices=[m.value for m in RuleMode])
    add.add_argument("--description")
    add.add_argument("--severity", choices=["low", "medium", "high", "critical"])
    add.add_argument("--decision", choices=["review", "block"])
    add.add_argument("--score", type=int, help="1 to 100, added to risk_score")
    add.add_argument("--id", dest="rule_id", help="default: made from the name")
    mode = sub.add_parser("mode", help="publish (active), shadow or disable a rule")
    mode.add_argument("rule_id")
    mode.add_argument("mode", choices=[m.value for m in RuleMode])

    lists = commands.add_parser("lists", help="block and allow lists (as an admin)")
    _remote_options(lists, local)
    list_commands = lists.add_subparsers(dest="lists_command", required=True)
    load = list_commands.add_parser(
        "import", help="add a CSV's rows (value,reason[,expires_at]) to a list; bad rows are named by line"
    )
    load.add_argument("name")
    load.add_argument("file")
    load.add_argument("--kind", choices=[k.value for k in ListKind], help="needed to create the list")
    load.add_argument("--mode", choices=[m.value for m in ListMode], help="needed to create the list")


__all__ = ["add_parsers", "import_list", "run"]
