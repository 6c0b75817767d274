"""The dashboard's script is one inline script assembled from several files (shopwatch_api.page): a name declared
at the top level of two of them is one global, and the later file's silently replaces the earlier's everywhere
(the cases page once showed "(— days ago)": the transaction page's `age` had replaced its own)."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

API = Path(__file__).parents[2] / "functions/api"
DASHBOARD = API / "dashboard"
TOP_LEVEL = re.compile(r"^(?:async\s+)?(?:function\s*\*?\s*|const\s+|let\s+|var\s+|class\s+)([A-Za-z_$][\w$]*)", re.M)


def _declared(script: str) -> Counter[str]:
    return Counter(TOP_LEVEL.findall(script))


def test_no_two_parts_of_the_page_declare_the_same_top_level_name():
    # ApiFunction's own page.py, loaded from its file (shopwatch_api is on the path of ApiFunction only)
    spec = importlib.util.spec_from_file_location("dashboard_page_under_test", API / "shopwatch_api/page.py")
    page = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = page  # dataclasses look their module up there
    spec.loader.exec_module(page)
    html = page.DashboardPage.load(DASHBOARD).html
    script = html[html.index("<script>") + len("<script>") : html.rindex("</script>")]
    twice = sorted(name for name, count in _declared(script).items() if count > 1)
    assert twice == [], f"declared at the top level of more than one part of the page: {twice}"


def test_the_check_sees_a_name_declared_twice():
    assert _declared("function age(x) {}\nconst a = 1;\nasync function age(y) {}\n")["age"] == 2
