"""One Powertools Router per area of the API. Each module's `router(...)` builds a new Router over the services
it is given, so a fresh ApiFunction (a test's new container) gets routes over its own tables.

No `from __future__ import annotations` in these modules: Powertools reads the routes' types at run time.
"""
