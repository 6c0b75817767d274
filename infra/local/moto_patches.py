"""The one way in for every patch of moto's (and botocore's) internals, checked against the moto it was written for.

Why: the local stack replaces private moto methods (Item.__init__, Table.query, transact_write_items, the
condition parser, the response serializer, the stubber's path) and one botocore helper. Nothing in moto's API
promises those stay as they are: moto's patch releases rework them too (between 5.2.0 and 5.2.5 the request
dispatch in moto/core/responses.py and the botocore stubber's entry point changed, and moto_fast_responses and
moto_direct_calls lean on both). A
patch applied to internals it was not written for breaks silently, or worse, answers differently from
DynamoDB. So pyproject pins moto exactly, each patch file below names the moto version it was checked against
(its equivalence test, under tests/integration/, compares it with stock moto), and `install()` refuses any other
version before importing a single patch, naming the files to revisit.

To move to a new moto: change the pin, run each file's equivalence test, fix what differs, then raise that
file's `written_for` here. The message says the same.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Patch:
    module: str  # importable name, e.g. infra.local.moto_speedups
    written_for: str  # the exact moto version its equivalence test was last run against
    touches: str  # the internals it replaces: where to look first when moto changes
    test: str  # its equivalence test against stock moto

    @property
    def file(self) -> str:
        return self.module.replace(".", "/") + ".py"


# In install order: the dirty-key recorder, then the item lock, which wraps it (a key is noted under the lock);
# moto_speedups and moto_plain_updates take the lock.
PATCHES: tuple[Patch, ...] = (
    Patch("infra.local.moto_dirty_items", "5.2.5", "Table.put_item/delete_item, DynamoDBBackend.update_item",
          "tests/integration/test_moto_dirty_items.py"),
    Patch("infra.local.moto_item_lock", "5.2.5",
          "DynamoDBBackend put/update/delete/transact_write_items, DynamoHandler reads",
          "tests/integration/test_moto_item_lock.py"),
    Patch("infra.local.moto_speedups", "5.2.5",
          "DynamoDBBackend.transact_write_items/update_item, Item.__init__, Table.query/all_items/sorted_items/"
          "_item_comes_before_dct, "
          "ConditionExpressionParser.parse (and its private steps), "
          "dynamodb.responses.UpdateExpressionParser, botocore.useragent.sanitize_user_agent_string_component",
          "tests/integration/test_moto_speedups.py"),
    Patch("infra.local.moto_plain_updates", "5.2.5", "DynamoHandler.update_item",
          "tests/integration/test_moto_plain_updates.py"),
    Patch("infra.local.moto_fast_responses", "5.2.5",
          "DynamoHandler/DynamoDBStreamsHandler.serialized, moto.core.responses.method_names_from_class",
          "tests/integration/test_moto_fast_responses.py"),
    Patch("infra.local.moto_direct_calls", "5.2.5",
          "botocore.handlers.BUILTIN_HANDLERS (before-call), moto's botocore_stubber and handler call path; with "
          "infra/local/direct_requests.py: botocore BaseClient._convert_to_request_dict/_resolve_endpoint_ruleset",
          "tests/integration/test_moto_direct_calls.py"),
    Patch("infra.local.stream_retention", "5.2.5",
          "dynamodb StreamShard.add/get, dynamodbstreams ShardIterator.__init__/get, DynamoDBStreamsBackend.get_records",
          "tests/integration/test_stream_retention.py"),
    # last: after mock_aws started (its reset would put moto's tracking lists back)
    Patch("infra.local.moto_untracked", "5.2.5", "BaseModel.instances_tracked of dynamodb, streams, sns, sqs models",
          "tests/integration/test_moto_untracked.py"),
)  # fmt: skip
_BY_NAME = {p.module.rsplit(".", 1)[1]: p for p in PATCHES}
_installed: list[ModuleType] = []


class MotoVersionError(RuntimeError):
    """The installed moto is not the one a patch was written for: applying it could break moto silently."""


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def check(patches: tuple[Patch, ...] = PATCHES) -> None:
    """Raise MotoVersionError naming every patch file not written for the installed moto."""
    installed = installed_moto_version()
    stale = [p for p in patches if p.written_for != installed]
    if not stale:
        return
    lines = [f"moto {installed} is installed, but these patches of moto's internals were written for another version:"]
    lines += [f"  {p.file} (written for moto {p.written_for}; replaces {p.touches}; test: {p.test})" for p in stale]
    lines.append(
        "Either install the pinned moto (`make install`, pyproject's moto==...), or revisit each file named above "
        "against the new moto, run its test, and raise its `written_for` in infra/local/moto_patches.py."
    )
    raise MotoVersionError("\n".join(lines))


def install(*names: str) -> list[ModuleType]:
    """Check the moto version, then apply the named patches (default: all, in order); idempotent. Nothing is
    imported or applied when the check fails."""
    chosen = tuple(_BY_NAME[n] for n in names) if names else PATCHES
    check(chosen)
    modules = [importlib.import_module(p.module) for p in chosen]
    for module in modules:
        module.install()
        if module not in _installed:
            _installed.append(module)
    return modules


def uninstall(*names: str) -> None:
    """Undo the named patches (default: every one installed here), in reverse order."""
    chosen = [m for m in _installed if not names or m.__name__.rsplit(".", 1)[1] in names]
    for module in reversed(chosen):
        module.uninstall()
        _installed.remove(module)


__all__ = ["PATCHES", "MotoVersionError", "check", "install", "installed_moto_version", "uninstall"]
