"""The `shopwatch` command line. Subcommands arrive with their issues; each prints tables, not JSON dumps."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.catalog import CatalogFileError, load_catalog


def _catalog_load(args: argparse.Namespace) -> int:
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    try:
        count = load_catalog(Path(args.file), args.table, args.currency)
    except CatalogFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"loaded {count} catalog prices into {args.table}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopwatch", description="Shopwatch: anomaly and fraud detection for shops")
    commands = parser.add_subparsers(dest="command", required=True)
    catalog = commands.add_parser("catalog", help="catalog prices for the price detector")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    load = catalog_commands.add_parser("load", help="load catalog prices from a CSV (sku,price[,currency][,name])")
    load.add_argument("file")
    load.add_argument("--table", required=True, help="the StateTable name (stack output StateTableName)")
    load.add_argument("--currency", default="USD", help="currency of rows that name none (default USD)")
    load.add_argument("--endpoint-url", help="DynamoDB endpoint, e.g. the local stack's moto server")
    load.set_defaults(run=_catalog_load)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
