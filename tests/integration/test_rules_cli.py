"""`shopwatch lists import` and `shopwatch rules list|show|add|mode` against ApiFunction on moto (their HTTP
requests answered by the handler, as an admin): every good row added, every bad one named by its line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from infra import rules_commands
from infra.cli import main
from shopwatch.domain.clock import to_iso
from shopwatch.rules.definitions import ListKind, ListMode
from shopwatch.storage.rules import ListRepository
from tests.builders import T0
from tests.integration.api_requests import ADMIN, ApiClient, set_api_clock

NOW = T0 + timedelta(hours=1)


class HandlerClient:
    """ShopwatchClient's `request`, answered by the handler in process."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.requests: list[tuple[str, str]] = []

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        self.requests.append((method, path))
        return self.api(method, path, body)


@pytest.fixture
def client(stack, monkeypatch) -> HandlerClient:
    handler_client = HandlerClient(ApiClient(stack.handler("ApiFunction"), ADMIN))
    set_api_clock(monkeypatch, lambda: NOW)
    monkeypatch.setattr(rules_commands, "utcnow", lambda: NOW)
    monkeypatch.setattr(rules_commands, "client_for", lambda args, local_state: handler_client)
    return handler_client


@pytest.fixture
def lists(stack) -> ListRepository:
    return ListRepository(stack.table("StateTable"))


def write(tmp_path, text: str):
    path = tmp_path / "items.csv"
    path.write_text(text)
    return str(path)


def test_good_rows_are_added_and_bad_rows_named_by_line(client, lists, tmp_path, capsys):
    path = write(
        tmp_path,
        "value,reason\nFraud@Example.com,chargebacks\nnot-an-email,typo\nok@example.com,\nmule@example.net,ring\n",
    )
    assert main(["lists", "import", "blocked-emails", path, "--kind", "email", "--mode", "block"]) == 1
    out, err = capsys.readouterr()
    assert "2 added, 0 updated, 2 refused" in out
    assert "line 3: value must be an e-mail address" in err and "line 4: reason must be one line" in err
    values = [entry.value for entry in lists.items("blocked-emails", NOW)]
    assert values == ["fraud@example.com", "mule@example.net"]
    assert {entry.added_by for entry in lists.items("blocked-emails", NOW)} == {ADMIN.name}


def test_a_file_that_imports_whole_exits_zero(client, tmp_path, capsys):
    path = write(tmp_path, "value,reason\n411111,test bin\n")
    assert main(["lists", "import", "test-bins", path, "--kind", "card_bin", "--mode", "block"]) == 0
    assert "1 added" in capsys.readouterr().out


def test_a_value_repeated_in_the_file_is_refused_naming_the_first_line(client, tmp_path):
    write(tmp_path, "value,reason\nGB,a\ngb,b\n")
    report = rules_commands.import_list(client, "countries", tmp_path / "items.csv", ListKind.COUNTRY, ListMode.ALLOW)
    assert (report.added, report.refused) == (1, [(3, "value GB repeats line 2")])


def test_an_expiry_column_sets_each_entrys_expiry(client, lists, tmp_path):
    expiry = NOW + timedelta(days=30)
    write(tmp_path, f"value,reason,expires_at\ndev-1,ring,{to_iso(expiry)}\ndev-2,ring,\ndev-3,ring,next week\n")
    report = rules_commands.import_list(client, "devices", tmp_path / "items.csv", ListKind.DEVICE, ListMode.BLOCK)
    assert report.added == 2 and [line for line, _ in report.refused] == [4]
    expiries = {entry.value: entry.expires_at for entry in lists.items("devices", NOW)}
    assert expiries == {"dev-1": expiry, "dev-2": None}


def test_rows_go_in_requests_of_the_servers_limit(client, lists, tmp_path, monkeypatch):
    monkeypatch.setattr(rules_commands, "MAX_ITEMS_PER_REQUEST", 2)
    write(tmp_path, "value,reason\n" + "".join(f"c-{i},x\n" for i in range(5)))
    report = rules_commands.import_list(client, "customers", tmp_path / "items.csv", ListKind.CUSTOMER, ListMode.ALLOW)
    assert report.added == 5 and lists.count("customers", NOW) == 5
    assert [r for r in client.requests if r[0] == "POST"] == [("POST", "/lists/customers/items")] * 3


def test_importing_the_same_file_again_updates_instead_of_adding(client, tmp_path):
    write(tmp_path, "value,reason\n198.51.100.1,bot\n")
    rules_commands.import_list(client, "ips", tmp_path / "items.csv", ListKind.IP, ListMode.BLOCK)
    report = rules_commands.import_list(client, "ips", tmp_path / "items.csv")
    assert (report.added, report.updated, report.refused) == (0, 1, [])


def test_a_new_list_needs_its_kind_and_mode(client, lists, tmp_path, capsys):
    path = write(tmp_path, "value,reason\ndev-1,x\n")
    assert main(["lists", "import", "devices", path]) == 2
    assert "give --kind and --mode" in capsys.readouterr().err and lists.heads() == []


def test_an_existing_list_of_another_kind_is_refused(client, tmp_path, capsys):
    path = write(tmp_path, "value,reason\ndev-1,x\n")
    main(["lists", "import", "devices", path, "--kind", "device", "--mode", "block"])
    assert main(["lists", "import", "devices", path, "--kind", "email"]) == 2
    assert "holds device values, not email" in capsys.readouterr().err


def test_a_file_without_the_required_columns_is_refused_and_creates_nothing(client, lists, tmp_path, capsys):
    path = write(tmp_path, "email,why\na@example.com,x\n")
    assert main(["lists", "import", "emails", path, "--kind", "email", "--mode", "block"]) == 2
    assert "missing column(s): value, reason" in capsys.readouterr().err and lists.heads() == []


def test_rules_add_shows_the_new_version_and_rules_list_shows_it(client, capsys):
    added = ["rules", "add", "--name", "Big order", "--expression", "tx.amount > 500.0", "--decision", "review"]
    assert main(added) == 0
    assert "big-order is at version 1, shadow" in capsys.readouterr().out
    assert main(["rules", "mode", "big-order", "active"]) == 0
    assert "big-order is at version 2, active" in capsys.readouterr().out
    assert main(["rules", "list"]) == 0
    assert "big-order" in capsys.readouterr().out


def test_rules_add_prints_each_problem_of_a_refused_expression_with_its_position(client, capsys):
    assert main(["rules", "add", "--name", "Broken", "--expression", "tx.amount >", "--score", "5"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 400" in err and "line 1, column" in err


def test_rules_show_prints_each_version_with_its_diff(client, capsys):
    main(["rules", "add", "--name", "Big order", "--expression", "tx.amount > 500.0", "--score", "20"])
    main(["rules", "mode", "big-order", "disabled"])
    capsys.readouterr()
    assert main(["rules", "show", "big-order"]) == 0
    assert "v2" in (out := capsys.readouterr().out) and "mode: 'shadow' -> 'disabled'" in out
