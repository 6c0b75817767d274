"""The local stack's fast request building (infra/local/direct_requests.py) refuses exactly what botocore's
validator refuses, writes the body botocore's serializer writes, and resolves the endpoint botocore resolves."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import botocore.handlers
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator
from moto import mock_aws

from infra.local import direct_requests, moto_direct_calls
from tests.integration.moto_conversation import conversation

SESSION = botocore.session.get_session()
MODELS = [SESSION.get_service_model(name) for name in sorted(direct_requests.SERVICES)]


def _value(shape: Any, rng: random.Random, depth: int) -> Any:
    """A valid value of `shape` (members chosen at random, recursion bounded)."""
    kind = shape.type_name
    if kind == "structure":
        names = list(shape.members)
        if shape.is_tagged_union:
            leaves = [n for n in names if shape.members[n].type_name not in ("structure", "map", "list")]
            chosen = [rng.choice(leaves if depth > 2 else names)]
        else:
            required = shape.metadata.get("required", [])
            chosen = list(required) + [n for n in names if n not in required and depth < 3 and rng.random() < 0.5]
        return {n: _value(shape.members[n], rng, depth + 1) for n in chosen}
    if kind == "list":
        return [
            _value(shape.member, rng, depth + 1) for _ in range(max(shape.metadata.get("min", 0), rng.randint(0, 2)))
        ]
    if kind == "map":
        return {f"k{i}": _value(shape.value, rng, depth + 1) for i in range(rng.randint(0, 2) if depth < 3 else 0)}
    if kind == "string":
        enum = shape.metadata.get("enum")
        return rng.choice(enum) if enum else "x" * max(shape.metadata.get("min", 0), rng.randint(0, 4))
    if kind in ("integer", "long"):
        return int(shape.metadata.get("min", 0)) + rng.randint(0, 5)
    if kind in ("double", "float"):
        return float(shape.metadata.get("min", 0)) + rng.random()
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return b"\x00\x01"
    if kind == "timestamp":
        return "2026-11-30T00:00:00Z"
    raise AssertionError(kind)


def _nodes(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _nodes(child, (*path, index))
    return found


def _broken(value: Any, rng: random.Random) -> Any:
    """The value with one thing changed: a node's type, a member dropped or added, a string shortened."""
    value = json.loads(json.dumps(value, default=lambda b: "blob")) if rng.random() < 0.1 else _copy(value)
    path = rng.choice(_nodes(value))
    if not path:
        return rng.choice([None, [], "x", 3])
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    change = rng.choice(["type", "drop", "extra", "short", "none"])
    if change == "type":
        parent[last] = rng.choice([3, "3", 3.5, True, [], {}, b"b", None])
    elif change == "drop" and isinstance(parent, dict):
        del parent[last]
    elif change == "extra" and isinstance(parent, dict):
        parent["NotAMember"] = "x"
    elif change == "short" and isinstance(parent[last], (str, list)):
        parent[last] = parent[last][:0]
    else:
        parent[last] = None
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _botocore_accepts(value: Any, shape: Any) -> bool:
    return not ParamValidator().validate(value, shape).has_errors()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.service_name)
def test_the_compiled_check_passes_only_what_botocore_accepts_and_every_plain_valid_input(model):
    rng = random.Random(20261130)
    checked = broken_refused = 0
    for name in model.operation_names:
        shape = model.operation_model(name).input_shape
        if shape is None:
            continue
        check = direct_requests.checker(shape)
        for _ in range(40):
            value = _value(shape, rng, 0)
            assert _botocore_accepts(value, shape), (name, value)  # the generator makes valid inputs
            if "timestamp" not in repr(_kinds(shape)):
                assert check(value), (name, value)
            checked += 1
            bad = _broken(value, rng)
            accepted = _botocore_accepts(bad, shape)
            if check(bad):
                assert accepted, (name, bad)
            broken_refused += not accepted
    assert checked == 40 * sum(1 for n in model.operation_names if model.operation_model(n).input_shape is not None)
    assert broken_refused > checked // 4  # the breakages are real ones, mostly


def _kinds(shape: Any, seen: set | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if shape.name in seen:
        return set()
    seen.add(shape.name)
    kinds = {shape.type_name}
    for child in (
        list(shape.members.values()) if shape.type_name == "structure" else
        [shape.member] if shape.type_name == "list" else [shape.key, shape.value] if shape.type_name == "map" else []
    ):  # fmt: skip
        kinds |= _kinds(child, seen)
    return kinds


def test_the_body_is_what_botocores_serializer_writes_and_the_endpoint_what_it_resolves():
    captured: dict[bool, list[tuple[str, Any, str, dict[str, str]]]] = {}
    for fast in (False, True):
        seen: list[tuple[str, Any, str, dict[str, str]]] = []

        def record(params: dict[str, Any], model: Any, seen: list = seen, **_: Any) -> None:
            body = json.loads(params["body"]) if params["body"] else None
            if body and "ClientRequestToken" in body:
                body["ClientRequestToken"] = "generated"  # botocore fills in a new uuid each time
            seen.append((model.name, body, params["url"], dict(params["headers"])))

        with mock_aws():
            moto_direct_calls.install()
            if not fast:
                direct_requests.uninstall()
            before = direct_requests.served["fast"]
            botocore.handlers.BUILTIN_HANDLERS.insert(0, ("before-call.dynamodb", record))
            try:
                conversation()
            finally:
                botocore.handlers.BUILTIN_HANDLERS.remove(("before-call.dynamodb", record))
                moto_direct_calls.uninstall()
            assert (direct_requests.served["fast"] > before) is fast
        captured[fast] = seen
    assert len(captured[True]) == len(captured[False]) > 10
    for (name, body, url, headers), (_, fast_body, fast_url, fast_headers) in zip(
        captured[False], captured[True], strict=True
    ):
        assert (fast_body, fast_url) == (body, url), name
        assert {k: v for k, v in fast_headers.items() if k != "User-Agent"} == {
            k: v for k, v in headers.items() if k != "User-Agent"
        }, name


def test_a_bad_call_is_refused_by_botocore_with_its_own_message():
    with mock_aws():
        moto_direct_calls.install()
        try:
            dynamodb = boto3.Session(region_name="us-east-1").client("dynamodb")
            with pytest.raises(ParamValidationError) as refused:
                dynamodb.get_item(TableName="t", Key={"pk": {"S": 3}})
            assert "Invalid type for parameter Key.pk.S" in str(refused.value)
            with pytest.raises(ParamValidationError) as missing:
                dynamodb.get_item(Key={"pk": {"S": "a"}})
            assert 'Missing required parameter in input: "TableName"' in str(missing.value)
        finally:
            moto_direct_calls.uninstall()


def test_a_checker_being_built_is_never_handed_to_another_thread(monkeypatch):
    """At a cold start several threads ask for the same operation's checker at once. A recursive shape's
    checker calls a placeholder filled only when the build returns: a thread handed it early raised
    IndexError (an ingest request answered 500). Here the build is slowed so that the threads overlap."""
    import threading
    import time

    shape = botocore.session.get_session().get_service_model("dynamodb").operation_model("PutItem").input_shape
    monkeypatch.setattr(direct_requests, "_checkers", {})
    real = direct_requests._build

    def slow(built_shape: Any) -> Any:
        if built_shape.name == "AttributeValue":
            time.sleep(0.05)
        return real(built_shape)

    monkeypatch.setattr(direct_requests, "_build", slow)
    request = {"TableName": "t", "Item": {"pk": {"S": "a"}, "m": {"M": {"n": {"L": [{"N": "1"}]}}}}}
    outcomes: list[object] = []

    def ask() -> None:
        try:
            outcomes.append(direct_requests.checker(shape)(request))
        except Exception as error:  # noqa: BLE001 - the failure is what is recorded
            outcomes.append(error)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
        time.sleep(0.005)
    for t in threads:
        t.join()
    assert outcomes == [True] * 6
