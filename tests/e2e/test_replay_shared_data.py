"""The real Online Retail data through the local stack (skips when ../shared is not beside the clone)."""

from __future__ import annotations

import pytest

from infra.replay import replay
from infra.template import ROOT

DATA = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


@pytest.mark.skipif(not DATA.exists(), reason="the shared Online Retail data is not beside this clone")
def test_the_first_invoices_replay_with_every_well_formed_one_accepted(local_stack):
    result = replay(DATA, local_stack.url, local_stack.api_key, limit=150, show_progress=False)
    assert result.sent == 150
    assert result.accepted + result.rejected == 150
    assert result.accepted >= 145, result.rejection_examples
    assert local_stack.wait_until_idle(timeout=120)
