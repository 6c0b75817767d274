"""The dashboard page: one HTML document assembled from the files beside ApiFunction's handler, with its
CSS and JavaScript inline, so it needs no other route, no CDN and no external request.

The script is `dashboard.js` (shared helpers, the overview, rules and lists), then every `pages/*.js` in name
order (each registers one page with `registerPage`), then `boot.js`, which starts the page once every page is
registered. The style is `dashboard.css` then every `pages/*.css`. One script and one style, so one hash each.

The Content-Security-Policy allows exactly the inline script and style by their hashes and connections to
this origin only: data shown by the page (alert texts, customer names) can never run as code.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from aws_lambda_powertools.event_handler import Response


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _joined(files: list[Path]) -> str:
    return "\n".join(f"/* {f.name} */\n" + f.read_text(encoding="utf-8") for f in files)


@dataclass(frozen=True)
class DashboardPage:
    html: str
    policy: str

    @classmethod
    def load(cls, folder: Path) -> DashboardPage:
        script = _joined([folder / "dashboard.js", *sorted((folder / "pages").glob("*.js")), folder / "boot.js"])
        style = _joined([folder / "dashboard.css", *sorted((folder / "pages").glob("*.css"))])
        html = (
            (folder / "index.html")
            .read_text(encoding="utf-8")
            .replace("/*STYLE*/", style)
            .replace("/*SCRIPT*/", script)
        )
        policy = (
            f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return cls(html, policy)

    def response(self) -> Response[str]:
        return Response(
            status_code=200,
            content_type="text/html; charset=utf-8",
            body=self.html,
            headers={
                "Content-Security-Policy": self.policy,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )
