"""What RulesLayer adds to a cold start: importing the CEL runtime and protobuf, and the first compile.

Each figure is a fresh interpreter timing itself (Python's own start-up is out), best of `repeats`, on this
machine's x86_64 wheels of the same versions the layer ships for arm64. The handlers are imported as Lambda
imports them: their layers' folders on sys.path and the template's environment (tables named after their
logical ids, fake credentials so that nothing waits for an instance-metadata lookup). `python -X importtime`
splits a handler's import: the self time of every cel_expr_python and google.protobuf module it loaded is what
the rules cost it; the rest is what it imports without them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from rich.table import Table

from infra.local.resources import function_environment
from infra.template import ROOT, Resolver, load_template

HANDLERS = ("IngestFunction", "ApiFunction", "DetectFunction")
RULES_MODULES = ("cel_expr_python", "google.protobuf", "google._upb")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")

IMPORT_CEL = "from cel_expr_python import cel"
IMPORT_PROTOBUF = "from google.protobuf import descriptor_pb2, descriptor_pool, message_factory"
# one checked compile and one evaluation over a message type built from a descriptor, as shopwatch.rules does
FIRST_COMPILE = f"""
{IMPORT_CEL}
{IMPORT_PROTOBUF}
file = descriptor_pb2.FileDescriptorProto(name="bench.proto", package="bench", syntax="proto3")
message = file.message_type.add(name="Transaction")
message.field.add(name="amount", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE)
message.field.add(name="email", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING)
pool = descriptor_pool.DescriptorPool()
pool.Add(file)
Transaction = message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.Transaction"))
env = cel.NewEnv(pool, variables={{"tx": cel.Type("bench.Transaction")}})
expression = env.compile("tx.amount > 500.0 && tx.email.endsWith('@example.com')")
assert expression.eval(env.Activation({{"tx": Transaction(amount=600.0, email="a@example.com")}})).value() is True
"""

# after a handler's import, in the same interpreter: the rules package and an engine of the 100 benchmark rules
# (the environment, 100 checked compiles): what a function adds on its first evaluation
RULES_AFTER_HANDLER = """
from datetime import UTC, datetime
import shopwatch.rules.engine
from infra.benchmarks.rule_set import benchmark_rules
assert len(shopwatch.rules.engine.RuleEngine(benchmark_rules(), [], datetime.now(UTC)).rules) == 100
"""


@dataclass(frozen=True)
class HandlerImport:
    function: str
    seconds: float  # the whole `import app`, best of the repeats
    engine_seconds: float  # then the rules package and a 100-rule engine (difference of the bests)
    rules_seconds: float  # self time of the CEL and protobuf modules within it (-X importtime), best


def fresh_python(code: str, env: dict[str, str] | None = None, importtime: bool = False) -> tuple[float, str]:
    """Seconds a new interpreter takes to run `code` by its own clock, and what it printed: its stdout, or with
    `importtime` its stderr (-X importtime's table)."""
    timed = f"import time\n_t = time.perf_counter()\n{code}\nprint(time.perf_counter() - _t)"
    flags = ["-X", "importtime"] if importtime else []
    out = subprocess.run([sys.executable, *flags, "-c", timed], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the timed code failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1]), out.stderr if importtime else out.stdout


def self_seconds(importtime: str, prefixes: tuple[str, ...] = RULES_MODULES) -> float:
    """Self time of the modules named by `prefixes` (a package and its submodules) in -X importtime's output."""
    total = 0
    for line in importtime.splitlines():
        match = _IMPORTTIME.match(line)
        if match and any(match[4] == p or match[4].startswith(p + ".") for p in prefixes):
            total += int(match[1])
    return total / 1e6


def handler_environment(function: str) -> tuple[dict[str, str], list[str]]:
    """The function's environment from the template and the sys.path Lambda gives it (layers, then its code)."""
    template = load_template()
    resolver = Resolver(template, refs={name: name for name in template["Resources"]})
    env = dict(os.environ) | function_environment(template, function, resolver)
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    properties = template["Resources"][function]["Properties"]
    layers = template["Globals"]["Function"].get("Layers", []) + properties.get("Layers", [])
    paths = [str(ROOT / template["Resources"][layer["Ref"]]["Properties"]["ContentUri"]) for layer in layers]
    return env, [*paths, str(ROOT / properties["CodeUri"])]


def handler_import(function: str, repeats: int) -> HandlerImport:
    """`import app`, then the rules in the same interpreter (each timed by it, best of `repeats` each)."""
    env, paths = handler_environment(function)
    code = f"import sys\nsys.path[:0] = {paths!r}\nimport app"
    split = f"_t0 = time.perf_counter()\n{code}\n_t1 = time.perf_counter()\n{RULES_AFTER_HANDLER}\nprint(_t1 - _t0)"
    runs = [fresh_python(split, env) for _ in range(repeats)]
    seconds = min(float(out.strip().splitlines()[-2]) for _, out in runs)
    engine = min(total - float(out.strip().splitlines()[-2]) for total, out in runs)
    rules = min(self_seconds(fresh_python(code, env, importtime=True)[1]) for _ in range(repeats))
    return HandlerImport(function, seconds, engine, rules)


def best(code: str, repeats: int) -> float:
    return min(fresh_python(code)[0] for _ in range(repeats))


def cold_start_table(repeats: int = 5) -> Table:
    table = Table(title=f"RulesLayer at cold start: fresh interpreters, best of {repeats} (x86_64 wheels)")
    for column in ("what", "ms"):
        table.add_column(column, justify="right")
    table.add_row(IMPORT_CEL, f"{1e3 * best(IMPORT_CEL, repeats):.1f}")
    table.add_row(IMPORT_PROTOBUF, f"{1e3 * best(IMPORT_PROTOBUF, repeats):.1f}")
    table.add_row(
        "both, a message type from a descriptor, NewEnv, one checked compile, one eval",
        f"{1e3 * best(FIRST_COMPILE, repeats):.1f}",
    )
    for function in HANDLERS:
        measured = handler_import(function, repeats)
        table.add_row(f"{function}: import app (layers and environment as Lambda)", f"{1e3 * measured.seconds:.1f}")
        table.add_row(
            f"{function}: of which cel_expr_python and protobuf modules (-X importtime self)",
            f"{1e3 * measured.rules_seconds:.1f}",
        )
        table.add_row(
            f"{function}: then import shopwatch.rules and compile the 100 benchmark rules",
            f"{1e3 * measured.engine_seconds:.1f} (+{measured.engine_seconds / measured.seconds:.0%})",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    import argparse

    from infra.report import console

    parser = argparse.ArgumentParser(prog="python -m infra.benchmarks.rules_cold_start")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    console.print(cold_start_table(args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
