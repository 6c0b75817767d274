"""The local stack's API key and admin password, kept across restarts in `<state_dir>/identity.json`.

Why: a restart used to issue a new key, so every open dashboard and every script holding the old one got 403.
The key and the password now outlive the process (the data they guard does too, see durable_state); they
change only when given anew (`--api-key`, `--admin-password`) or with `shopwatch up --reset`. The file is
readable by its owner alone, as stack.json is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE = "identity.json"


@dataclass(frozen=True)
class Identity:
    api_key: str | None = None
    admin_password: str | None = None


def load(directory: Path) -> Identity:
    try:
        data = json.loads((directory / FILE).read_text())
    except FileNotFoundError:
        return Identity()
    except ValueError:
        return Identity()  # a torn write (it is replaced whole, so only a disk fault): new ones are issued
    return Identity(data.get("api_key"), data.get("admin_password"))


def save(directory: Path, identity: Identity) -> None:
    """Written whole and renamed (fsynced), so a crash leaves the old file or the new one, never half."""
    directory.mkdir(parents=True, exist_ok=True)
    draft = directory / (FILE + ".new")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"api_key": identity.api_key, "admin_password": identity.admin_password}))
        handle.flush()
        os.fsync(handle.fileno())
    draft.replace(directory / FILE)


__all__ = ["FILE", "Identity", "load", "save"]
