"""The committed provider lock file: what it pins, where the synth puts it, and that Terraform accepts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cci_tools import terraform
from tests.helpers import PROJECT_DIR, copy_project, require_tool

LOCK = PROJECT_DIR / ".terraform.lock.hcl"
STACK = "cci-lite-production"
#: The hash of the provider package in /opt/tf-plugins, as `terraform providers lock
#: -fs-mirror=/opt/tf-plugins -platform=linux_amd64` computes it.
H1_LINUX_AMD64 = "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0="


def parse_lock(text: str) -> dict[str, dict[str, Any]]:
    """The provider blocks of a lock file: address -> version, constraints, hashes."""
    blocks = {}
    for address, body in re.findall(r'provider "([^"]+)" \{(.*?)\n\}', text, re.S):
        blocks[address] = {
            "version": re.search(r'version\s*=\s*"([^"]+)"', body).group(1),  # type: ignore[union-attr]
            "constraints": re.search(r'constraints\s*=\s*"([^"]+)"', body).group(1),  # type: ignore[union-attr]
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }
    return blocks


def test_lock_file_pins_exactly_the_provider_the_stack_requires(tf: dict[str, Any]) -> None:
    required = tf["terraform"]["required_providers"]["aws"]
    (address, block), *others = parse_lock(LOCK.read_text(encoding="utf-8")).items()
    assert others == []
    assert address == f"registry.terraform.io/{required['source']}"
    # The constraints line is what Terraform itself writes for this configuration, so a
    # plain `terraform init` leaves the file as it is and the cdktf CLI sees no mismatch.
    assert block["version"] == block["constraints"] == required["version"] == "5.100.0"


def test_lock_file_covers_every_published_platform_and_linux_amd64_by_package_hash() -> None:
    (block,) = parse_lock(LOCK.read_text(encoding="utf-8")).values()
    zip_hashes = [h for h in block["hashes"] if h.startswith("zh:")]
    assert len(zip_hashes) == len(set(zip_hashes)) == 15  # one per platform zip of the 5.100.0 release
    assert all(re.fullmatch(r"zh:[0-9a-f]{64}", h) for h in zip_hashes)
    assert [h for h in block["hashes"] if h.startswith("h1:")] == [H1_LINUX_AMD64]
    assert block["hashes"] == sorted(block["hashes"])  # Terraform's own order


def synth(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CCI_") and k != "CDKTF_OUTDIR"}
    result = subprocess.run(
        [sys.executable, str(project / "main.py")],
        cwd=project,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_every_synth_places_the_committed_lock_file_in_each_stack_directory(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"environments": {"production": {}, "staging": {"region": "eu-west-1"}}})
    synth(project)
    for stack in ("cci-lite-production", "cci-lite-staging"):
        assert (project / "cdktf.out" / "stacks" / stack / ".terraform.lock.hcl").read_bytes() == LOCK.read_bytes()


def test_resynth_restores_the_committed_lock_file_over_a_change_in_the_stack_directory(tmp_path: Path) -> None:
    """The project's file is the one source: add a platform there, not in cdktf.out (README)."""
    project = copy_project(tmp_path, {})
    synth(project)
    placed = project / "cdktf.out" / "stacks" / STACK / ".terraform.lock.hcl"
    placed.write_text(placed.read_text().replace("  ]\n", '    "h1:another-platform=",\n  ]\n'))
    synth(project)
    assert placed.read_bytes() == LOCK.read_bytes()


def test_without_a_committed_lock_file_the_stack_directory_keeps_terraforms_own(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {}, without=".terraform.lock.hcl")
    synth(project)
    placed = project / "cdktf.out" / "stacks" / STACK / ".terraform.lock.hcl"
    assert not placed.exists()
    placed.write_text("# written by terraform init\n")
    synth(project)
    assert placed.read_text() == "# written by terraform init\n"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("terraform", terraform.terraform_binary())
    project = copy_project(tmp_path_factory.mktemp("lock"), {})
    synth(project)
    return project / "cdktf.out" / "stacks" / STACK


def init_readonly(stack_dir: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = terraform.terraform_env(terraform.write_cli_config(tmp_path), {"TF_DATA_DIR": str(tmp_path / "data")})
    return terraform.run(
        ["init", "-lockfile=readonly", "-backend=false", "-input=false", "-no-color"],
        cwd=stack_dir,
        env=env,
        check=False,
    )


def test_terraform_init_lockfile_readonly_accepts_the_committed_lock_file(synthesized: Path, tmp_path: Path) -> None:
    result = init_readonly(synthesized, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Reusing previous version of hashicorp/aws from the dependency lock file" in result.stdout
    assert (synthesized / ".terraform.lock.hcl").read_bytes() == LOCK.read_bytes()


def test_lock_file_refuses_a_provider_package_it_does_not_list(synthesized: Path, tmp_path: Path) -> None:
    """Proof that the hashes pin the binary: a lock file without this package's hash fails init."""
    mirror = terraform.provider_mirror()  # an unpacked mirror is checked by its h1 hash alone
    require_tool("provider mirror", str(mirror) if mirror else None)
    changed = tmp_path / "stack"
    changed.mkdir()
    for name in ("cdk.tf.json", "tenants.tf.json"):
        (changed / name).write_bytes((synthesized / name).read_bytes())
    (changed / ".terraform.lock.hcl").write_text(LOCK.read_text().replace(H1_LINUX_AMD64, "h1:" + "A" * 43 + "="))
    result = init_readonly(changed, tmp_path)
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "doesn't match any of the checksums previously recorded in the dependency lock file" in output


def test_lock_file_is_committed_not_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".terraform.lock.hcl"], cwd=PROJECT_DIR, capture_output=True, check=False
    )
    assert ignored.returncode == 1, "the project's .terraform.lock.hcl must not be git-ignored"
