"""The template passes cfn-lint and `sam validate --lint`, and `sam build` (no container) produces the layer
and functions for the functions' architecture."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from infra.template import ROOT, TEMPLATE_PATH, load_template, resources_of_type

AARCH64 = 0xB7


def sam_cli() -> str:
    sam = os.environ.get("SAM_CLI") or shutil.which("sam")
    if not sam:
        pytest.skip("the SAM CLI is not installed here; `make test` installs it into .tools/sam")
    assert Path(sam).exists(), f"SAM_CLI={sam} does not exist"
    return sam


def sam_env() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    # sam build without a container needs the exact runtime interpreter (python3.13) on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_cfn_lint_finds_nothing():
    result = subprocess.run(
        [Path(sys.executable).parent / "cfn-lint", str(TEMPLATE_PATH)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.sam
def test_sam_validate_lint_passes():
    result = subprocess.run(
        [sam_cli(), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        env=sam_env(),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def _elf_machine(path: Path) -> int | None:
    with path.open("rb") as handle:
        header = handle.read(20)
    if header[:4] != b"\x7fELF":
        return None
    return struct.unpack("<H", header[18:20])[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    result = subprocess.run(
        [
            sam_cli(),
            "build",
            "--template-file",
            str(TEMPLATE_PATH),
            "--build-dir",
            str(build_dir),
            "--cache-dir",
            str(build_dir.parent / "cache"),
        ],
        capture_output=True,
        text=True,
        env=sam_env(),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return build_dir


@pytest.mark.sam
def test_sam_build_puts_shopwatch_and_its_dependencies_in_the_core_layer(built):
    layer = built / "CoreLayer" / "python"
    assert (layer / "shopwatch" / "detection" / "service.py").exists()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (layer / "pydantic").is_dir()
    for heavy in ("sklearn", "scipy", "pandas", "moto", "pytest", "boto3"):
        assert not (layer / heavy).exists(), f"{heavy} must not ship in CoreLayer"


@pytest.mark.sam
def test_sam_build_puts_numpy_and_the_default_model_and_nothing_heavier_in_the_model_layer(built):
    layer = built / "ModelLayer" / "python"
    assert (layer / "shopwatch_model" / "isolation_forest.py").exists()
    assert (layer / "shopwatch_model" / "default" / "arrays.npz").exists()
    assert (layer / "shopwatch_model" / "default" / "metadata.json").exists()
    assert (layer / "numpy").is_dir()
    for name in ("ModelLayer", "CoreLayer"):
        for heavy in ("sklearn", "scipy", "pandas", "joblib", "threadpoolctl"):
            assert not list((built / name).rglob(heavy)), f"{heavy} must not ship in {name}"


@pytest.mark.sam
def test_sam_build_puts_the_cel_runtime_and_protobufs_c_extension_and_nothing_else_in_the_rules_layer(built):
    """layers/rules/Makefile: cel-expr-python's core module without the wheel's ext/ modules and build tree, and
    protobuf's upb extension (not the pure-Python wheel pip takes when only manylinux_2_28 is allowed)."""
    layer = built / "RulesLayer" / "python"
    assert (layer / "cel_expr_python" / "cel.cpython-313-aarch64-linux-gnu.so").is_file()
    assert not (layer / "cel_expr_python" / "ext").exists()
    assert not (layer / "bazel-project").exists()
    assert list((layer / "google" / "_upb").glob("_message*.so")), "protobuf without its upb C extension"
    assert {p.name for p in layer.iterdir()} == {
        "cel_expr_python", "cel_expr_python-0.1.3.dist-info", "google", "protobuf-7.36.2.dist-info"
    }  # fmt: skip


def test_the_rules_layer_pins_what_the_dev_venv_runs():
    """The layer's requirements against the installed versions the tests ran with (pyproject's dependencies)."""
    pins = dict(
        line.split("#")[0].strip().split("==")
        for line in (ROOT / "layers" / "rules" / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    )
    assert pins == {name: version(name) for name in ("cel-expr-python", "protobuf")}


@pytest.mark.sam
@pytest.mark.parametrize("layer", ["CoreLayer", "ModelLayer", "RulesLayer"])
def test_every_compiled_library_in_the_layers_matches_the_functions_architecture(built, layer):
    libraries = [p for p in (built / layer).rglob("*") if p.is_file() and ".so" in p.name]
    assert libraries, f"{layer} ships compiled libraries (pydantic-core, numpy, cel, upb); none found"
    assert {str(p): _elf_machine(p) for p in libraries} == {str(p): AARCH64 for p in libraries}


# Lambda's quota on a function's code and all its layers, unzipped: "250 MB", enforced in bytes (CreateFunction's
# "Unzipped size must be smaller than 262144000 bytes"); at most five layers per function.
UNZIPPED_LIMIT_BYTES = 262_144_000
MAX_LAYERS = 5


def unzipped_bytes(*folders: Path) -> int:
    return sum(p.stat().st_size for folder in folders for p in folder.rglob("*") if p.is_file())


def function_layers(template: dict, name: str) -> list[str]:
    """The layers Lambda extracts for a function: Globals' and its own (SAM appends lists from Globals)."""
    layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    return [layer["Ref"] for layer in layers + template["Resources"][name]["Properties"].get("Layers", [])]


@pytest.mark.sam
@pytest.mark.parametrize("function", sorted(resources_of_type(load_template(), "AWS::Serverless::Function")))
def test_each_function_with_its_layers_is_under_lambdas_unzipped_limit(built, function):
    """Measured on sam build's output, per function of the template (a new function is covered as it lands)."""
    layers = function_layers(load_template(), function)
    size = unzipped_bytes(built / function, *(built / layer for layer in layers))
    print(
        f"{function} + {' + '.join(layers)} unzipped: {size / 1e6:.1f} MB (limit {UNZIPPED_LIMIT_BYTES / 1e6:.1f} MB)"
    )
    assert len(layers) <= MAX_LAYERS
    assert size < UNZIPPED_LIMIT_BYTES, f"{size / 1e6:.1f} MB"


@pytest.mark.sam
def test_sam_build_packages_each_function_with_its_handler_only(built):
    for function in ("IngestFunction", "ApiFunction", "DetectFunction", "NotifyFunction"):
        files = {p.name for p in (built / function).iterdir()}
        assert "app.py" in files
        assert not any(name.endswith(".dist-info") for name in files), (
            f"{function} bundles dependencies; they belong in CoreLayer"
        )


@pytest.mark.sam
def test_the_dashboard_page_ships_with_the_api_function(built):
    page = built / "ApiFunction" / "dashboard"
    assert {"index.html", "dashboard.css", "dashboard.js", "boot.js"} <= {p.name for p in page.iterdir()}
    source = Path(__file__).parents[2] / "functions/api/dashboard/pages"
    shipped = {p.name for p in (page / "pages").glob("*")} if (page / "pages").exists() else set()
    assert shipped == {p.name for p in source.glob("*")} if source.exists() else not shipped


@pytest.mark.sam
def test_the_api_package_ships_with_the_api_function_only_and_not_in_the_core_layer(built):
    """The API's routes, models, docs and page are ApiFunction's: in its artifact, in no other function's and
    not in CoreLayer, which all seven functions load."""
    package = built / "ApiFunction" / "shopwatch_api"
    assert {"app.py", "shopwatch_api"} <= {p.name for p in (built / "ApiFunction").iterdir()}
    assert {"__init__.py", "models.py", "responses.py", "params.py", "docs.py", "page.py"} <= {
        p.name for p in package.iterdir()
    }
    routes = {p.stem for p in (package / "routes").glob("*.py")}
    assert {"alerts", "catalog", "customers", "models", "rules", "lists", "backtest", "auth"} <= routes
    core = built / "CoreLayer" / "python" / "shopwatch"
    moved = ("api_models.py", "api_responses.py", "api_docs.py", "api_params.py", "dashboard_page.py")
    assert not [name for name in moved if (core / name).exists()]
    assert not [p for p in ("rules/routes.py", "rules/api_models.py", "backtest/routes.py") if (core / p).exists()]
    others = [d for d in built.iterdir() if d.name.endswith("Function") and d.name != "ApiFunction"]
    assert others and not [d.name for d in others if list(d.rglob("shopwatch_api"))]
