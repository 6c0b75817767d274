"""The template passes cfn-lint and `sam validate --lint`, and `sam build` (no container) produces the layer
and functions for the functions' architecture."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import ROOT, TEMPLATE_PATH

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
@pytest.mark.parametrize("layer", ["CoreLayer", "ModelLayer"])
def test_every_compiled_library_in_the_layers_matches_the_functions_architecture(built, layer):
    libraries = [p for p in (built / layer).rglob("*") if p.is_file() and ".so" in p.name]
    assert libraries, f"{layer} ships compiled libraries (pydantic-core, numpy); none found"
    assert {str(p): _elf_machine(p) for p in libraries} == {str(p): AARCH64 for p in libraries}


def unzipped_megabytes(*folders: Path) -> float:
    return sum(p.stat().st_size for folder in folders for p in folder.rglob("*") if p.is_file()) / 2**20


@pytest.mark.sam
def test_detect_function_with_its_layers_is_far_under_lambdas_unzipped_limit(built):
    size = unzipped_megabytes(built / "DetectFunction", built / "CoreLayer", built / "ModelLayer")
    print(f"DetectFunction + CoreLayer + ModelLayer unzipped: {size:.1f} MB (limit 250 MB)")
    assert size < 100, f"{size:.1f} MB"


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
    assert {p.name for p in page.iterdir()} == {"index.html", "dashboard.css", "dashboard.js"}
