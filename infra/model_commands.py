"""`shopwatch model train|list|promote VERSION|rollback`: the model registry's routes from a terminal, as an
admin of the local stack (its stack.json: URL and admin password) or of a deployed one (--url with --token, or
--user and --password to sign in). The API does the work and the recording; this only asks and prints."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rich.table import Table

from infra.client import ShopwatchClient
from infra.report import console

TOKEN_ENV = "SHOPWATCH_TOKEN"  # noqa: S105 - a variable name, not a value. A signed-in admin's ID token, so it need not appear in the shell's history


def client_for(args: argparse.Namespace, local_state: Any) -> ShopwatchClient:
    """The deployed stack at --url (with a token, or signed in with --user/--password), else the local one."""
    if args.url:
        token = args.token or os.environ.get(TOKEN_ENV)
        client = ShopwatchClient(args.url, token=token)
        if not token:
            if not (args.user and args.password):
                raise SystemExit(f"--url needs --token (or {TOKEN_ENV}), or --user and --password")
            client.sign_in(args.user, args.password)
        return client
    return ShopwatchClient.for_local_stack(local_state())


def models_table(body: dict[str, Any]) -> Table:
    table = Table(title=f"Models (champion: {body['champion'] or 'the layer default'})")
    for column in ("version", "status", "created", "trained by", "rows", "labels", "holdout"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for m in body["models"]:
        labels = ", ".join(f"{k} {v}" for k, v in m["label_counts"].items()) or "-"
        holdout = ", ".join(f"{k} {v}" for k, v in m["holdout_metrics"].items()) or "-"
        rows = "-" if m["rows"] is None else f"{m['rows']:,}"
        table.add_row(m["version"], m["status"], m["created_at"][:19], m["trained_by"], rows, labels, holdout)
    return table


def run(args: argparse.Namespace, local_state: Any) -> int:
    client = client_for(args, local_state)
    command = args.model_command
    if command == "list":
        status, body = client.request("GET", "/models")
    elif command == "train":
        status, body = client.request("POST", "/models/train")
    elif command == "promote":
        status, body = client.request("POST", f"/models/{args.version}/promote")
    else:
        status, body = client.request("POST", "/models/rollback")
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        print(f"error: HTTP {status}: {error.get('message', body)}", file=sys.stderr)
        return 1
    if command == "list":
        console.print(models_table(body))
        for entry in body["history"][:10]:
            console.print(f"  {entry['at'][:19]}  {entry['action']:<10} {entry['version']}  by {entry['by']}")
    elif command == "train":
        console.print(f"training started by {body['requested_by']} ({body['function']}); `shopwatch model list` "
                      "shows the new challenger when it is done")  # fmt: skip
    else:
        console.print(f"champion: {body['champion']}   challenger: {body['challenger'] or '-'}")
    return 0


def add_parser(commands: Any, local: Any) -> None:
    model = commands.add_parser("model", help="the model registry: train, list, promote, rollback (as an admin)")
    model.add_argument("--url", help="a deployed stack's API URL (default: the running local stack)")
    model.add_argument("--token", help=f"an admin's ID token for --url (default: ${TOKEN_ENV})")
    model.add_argument("--user", help="sign in to --url as this admin instead of a token")
    model.add_argument("--password", help="the password for --user")
    local(model)
    sub = model.add_subparsers(dest="model_command", required=True)
    sub.add_parser("list", help="versions, their status and training figures, and the latest changes")
    sub.add_parser("train", help="start a training run (asynchronous); its model becomes the challenger")
    promote = sub.add_parser("promote", help="make VERSION the champion")
    promote.add_argument("version")
    sub.add_parser("rollback", help="the champion before the current one becomes champion again")


__all__ = ["add_parser", "run"]
