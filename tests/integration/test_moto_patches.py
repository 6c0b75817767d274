"""Every patch of moto's internals goes in through moto_patches.install(), which refuses a moto version the patches
were not written for and names the files to revisit. (Each patch's equivalence test against stock moto is in its
own module: test_moto_speedups.py, test_moto_item_lock.py, ...)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from infra.local import moto_patches
from infra.local.moto_patches import MotoVersionError, Patch
from infra.template import ROOT


def _stock():
    from moto.dynamodb.models import DynamoDBBackend, Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    return {
        "transact_write_items": DynamoDBBackend.transact_write_items,
        "put_item": DynamoDBBackend.put_item,
        "item_init": Item.__init__,
        "query": Table.query,
        "update_item": DynamoHandler.update_item,
        "serialized": DynamoHandler.serialized,
    }


def test_the_pin_the_installed_moto_and_every_patch_agree():
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pin = next(d for d in dev if d.startswith("moto["))
    assert re.search(r"==(\S+)$", pin).group(1) == moto_patches.installed_moto_version()
    assert {p.written_for for p in moto_patches.PATCHES} == {moto_patches.installed_moto_version()}
    for patch in moto_patches.PATCHES:
        assert (ROOT / patch.file).exists() and (ROOT / patch.test).exists()


def test_every_module_that_patches_moto_is_registered():
    """A new patch module must go through the registry (and so through the version check): every local-stack
    module that imports moto and installs something, whatever its name (stream_retention patches moto too)."""
    registered = {Path(p.file).name for p in moto_patches.PATCHES}
    imports_moto = re.compile(r"^\s*(from|import) moto[.\s]", re.M)
    patching = {
        path.name
        for path in (ROOT / "infra" / "local").glob("*.py")
        if path.name != "moto_patches.py" and "def install" in (text := path.read_text()) and imports_moto.search(text)
    }
    assert {"moto_untracked.py", "stream_retention.py"} <= patching
    assert patching == registered


def test_another_moto_version_is_refused_before_anything_is_patched(monkeypatch):
    before = _stock()
    monkeypatch.setattr(moto_patches, "installed_moto_version", lambda: "5.3.0")
    with pytest.raises(MotoVersionError) as refused:
        moto_patches.install()
    message = str(refused.value)
    assert message.startswith("moto 5.3.0 is installed")
    for patch in moto_patches.PATCHES:
        assert patch.file in message and patch.test in message
    assert "moto_patches.py" in message and "make install" in message
    assert _stock() == before  # nothing was applied


def test_only_the_files_written_for_another_version_are_named(monkeypatch):
    current = moto_patches.installed_moto_version()
    old = Patch("infra.local.moto_speedups", "5.1.22", "Table.query", "tests/integration/test_moto_speedups.py")
    fine = Patch("infra.local.moto_item_lock", current, "put_item", "tests/integration/test_moto_item_lock.py")
    moto_patches.check((fine,))  # no error
    with pytest.raises(MotoVersionError) as refused:
        moto_patches.check((fine, old))
    assert "infra/local/moto_speedups.py (written for moto 5.1.22" in str(refused.value)
    assert "moto_item_lock.py" not in str(refused.value)


def test_install_applies_every_patch_and_uninstall_restores_stock_moto():
    before = _stock()
    moto_patches.install()
    try:
        patched = _stock()
        assert all(patched[name] is not before[name] for name in before)
        moto_patches.install()  # idempotent
        assert _stock() == patched
    finally:
        moto_patches.uninstall()
    assert _stock() == before


def test_the_local_stack_refuses_to_start_on_another_moto(monkeypatch, tmp_path):
    from infra.local.stack import LocalStack, free_port

    monkeypatch.setattr(moto_patches, "installed_moto_version", lambda: "6.0.0")
    stack = LocalStack(port=free_port(), state_dir=tmp_path)
    with pytest.raises(MotoVersionError, match=r"moto 6\.0\.0 is installed"):
        stack.start()
    assert not (tmp_path / "stack.json").exists()
