"""Online Retail rows become transactions: an invoice with its lines, C invoices reversed, guests named."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from infra.replay import online_retail_transactions

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROWS = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
    "536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
    "536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,,EIRE",
    "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,Unspecified",
]


def write(tmp_path: Path, gz: bool) -> Path:
    text = HEADER + "\n".join(ROWS) + "\n"
    path = tmp_path / ("retail.csv.gz" if gz else "retail.csv")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_invoices_become_transactions_with_their_lines(tmp_path, gz):
    first, guest, cancelled = list(online_retail_transactions(write(tmp_path, gz)))
    assert first["transaction_id"] == "OR-536365"
    assert first["customer_id"] == "17850"
    assert first["timestamp"] == "2010-12-01T08:26:00Z"
    assert first["country"] == "GB" and first["status"] == "approved" and first["currency"] == "GBP"
    assert [(i["sku"], i["quantity"], i["unit_price"]) for i in first["items"]] == [
        ("85123A", 6, "2.55"),
        ("71053", 6, "3.39"),
    ]
    assert guest["customer_id"] == "guest-536366" and guest["country"] == "IE"
    assert cancelled["status"] == "reversed" and cancelled["items"][0]["quantity"] == -1
    assert "country" not in cancelled


def test_the_guest_id_is_stable_across_replays(tmp_path):
    path = write(tmp_path, False)
    assert [t["customer_id"] for t in online_retail_transactions(path)] == [
        t["customer_id"] for t in online_retail_transactions(path)
    ]
