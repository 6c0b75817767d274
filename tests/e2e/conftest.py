"""One local stack for the end-to-end suite, on a free port, served over HTTP like `shopwatch up`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.client import ShopwatchClient
from infra.local.stack import LocalStack, free_port
from tests.e2e.up_process import stacks_env, started  # noqa: F401 - fixtures of the tests that run `shopwatch up`


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory) -> Iterator[LocalStack]:
    stack = LocalStack(port=free_port(), api_key="e2e-key", state_dir=tmp_path_factory.mktemp("shopwatch"))
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def api(local_stack: LocalStack) -> ShopwatchClient:
    """The shop's key and the local admin's sign-in: each route gets the credential it takes."""
    client = ShopwatchClient(local_stack.url, local_stack.api_key, retries=0)
    client.sign_in("admin", local_stack.admin_password)
    return client
