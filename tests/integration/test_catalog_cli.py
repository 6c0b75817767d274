"""`shopwatch catalog load`: catalog prices into StateTable, all or nothing."""

from __future__ import annotations

from decimal import Decimal

from infra.cli import main
from shopwatch.storage.state import StateRepository


def test_a_valid_file_loads_every_price(stack, tmp_path, capsys):
    path = tmp_path / "catalog.csv"
    path.write_text("sku,price,currency,name\nLAPTOP,50000.00,INR,Laptop\nMUG,8.5,,Mug\n")
    assert main(["catalog", "load", str(path), "--table", stack.table("StateTable"), "--currency", "GBP"]) == 0
    catalog = StateRepository(stack.table("StateTable")).get_catalog(["LAPTOP", "MUG"])
    assert (catalog["LAPTOP"].price, catalog["LAPTOP"].currency, catalog["LAPTOP"].name) == (
        Decimal("50000.00"),
        "INR",
        "Laptop",
    )
    assert (catalog["MUG"].price, catalog["MUG"].currency) == (Decimal("8.5"), "GBP")
    assert "loaded 2 catalog prices" in capsys.readouterr().out


def test_a_file_with_a_bad_row_loads_nothing_and_names_the_line(stack, tmp_path, capsys):
    path = tmp_path / "catalog.csv"
    path.write_text("sku,price\nGOOD,1.00\nBAD,-3\nWORSE,abc\n")
    assert main(["catalog", "load", str(path), "--table", stack.table("StateTable")]) == 2
    error = capsys.readouterr().err
    assert "line 3: must be greater than or equal to 0" in error
    assert "line 4: must be a number" in error
    assert StateRepository(stack.table("StateTable")).get_catalog(["GOOD"]) == {}


def test_a_file_without_the_required_columns_is_refused(stack, tmp_path, capsys):
    path = tmp_path / "catalog.csv"
    path.write_text("product,cost\nA,1\n")
    assert main(["catalog", "load", str(path), "--table", stack.table("StateTable")]) == 2
    assert "missing column(s): price, sku" in capsys.readouterr().err
