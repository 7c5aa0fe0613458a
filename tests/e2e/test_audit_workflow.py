"""The auditor's workflow (README, "For auditors"), run literally on a clean clone, leaves the checkout clean.

The repository is cloned with ``git clone`` into a temporary directory; uncommitted
changes of this checkout, if any, are copied in and committed there, so the clone is
clean and holds exactly the code under test (in CI the checkout is itself a clean
clone and nothing is copied). Each line of the README's workflow block then runs in the
clone with bash, as a user's shell would: ``pipenv run NAME`` is the Pipfile's script
NAME run with this checkout's virtualenv (a stand-in ``pipenv`` on PATH: the clone has no
``.venv`` of its own and installing one would take minutes), checkov is this checkout's
``.venv-checkov``, Terraform reads the AWS provider from the local mirror, and AWS is a
local emulator of its own, empty, so the plan is a first deploy that the review gate
checks against the account and passes. Afterwards ``git status --porcelain`` is empty,
and ``pipenv run audit`` finds the committed AUDIT.md up to date and leaves it alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cci_tools import emulator, terraform
from cci_tools.scan import checkov_binary
from tests.helpers import PROJECT_DIR, require_tool, seed_settings

pytestmark = pytest.mark.e2e

STACK_DIR = "cdktf.out/stacks/cci-lite-production"
REVIEW = f"{STACK_DIR}/plan-review.md"


def readme_workflow() -> list[str]:
    """The command lines of the README's auditor workflow block, as written."""
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## For auditors") :]
    block = re.search(r"The workflow, in a few lines[^\n]*\n\n```sh\n(.*?)\n```", section, re.S)
    assert block, 'README, "For auditors": the workflow block is missing'
    return [line for line in block.group(1).splitlines() if line.strip()]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    ).stdout  # fmt: skip


def clean_clone(destination: Path) -> Path:
    """``git clone`` of this checkout, with its uncommitted changes committed in the clone."""
    git("clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(destination), cwd=destination.parent)
    wanted = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT_DIR).split("\0")
    for name in filter(None, wanted):
        source, target = PROJECT_DIR / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.is_file():
            target.unlink()  # deleted in this checkout, not yet committed
    if git("status", "--porcelain", cwd=destination):
        git("add", "-A", cwd=destination)
        git(
            "-c", "user.name=cci-lite tests", "-c", "user.email=tests@cci-lite.invalid",
            "commit", "--quiet", "-m", "uncommitted changes of the checkout under test",
            cwd=destination,
        )  # fmt: skip
    assert git("status", "--porcelain", cwd=destination) == ""
    return destination


def pipenv_stand_in(bin_dir: Path) -> None:
    """A ``pipenv`` that runs the Pipfile's scripts (``pipenv run NAME ARGS``) with this checkout's virtualenv."""
    scripts = tomllib.loads((PROJECT_DIR / "Pipfile").read_text(encoding="utf-8"))["scripts"]
    python = shlex.quote(str(Path(sys.executable)))
    cases = "".join(
        f'  {name}) shift; exec {re.sub(r"^python ", python + " ", command)} "$@" ;;\n'
        for name, command in scripts.items()
    )
    shim = bin_dir / "pipenv"
    shim.write_text(
        "#!/bin/sh\n"
        "# Stands in for `pipenv run`: the Pipfile's scripts with the virtualenv of the checkout under test.\n"
        '[ "$1" = run ] || { echo "pipenv stand-in: only pipenv run is supported" >&2; exit 64; }\n'
        "shift\n"
        f'case "$1" in\n{cases}  *) exec "$@" ;;\nesac\n',
        encoding="utf-8",
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)


@dataclass
class Clone:
    root: Path
    env: dict[str, str]

    def run(self, line: str) -> subprocess.CompletedProcess[str]:
        """One README line, in bash, from the clone's directory."""
        result = subprocess.run(
            ["bash", "-c", f"set -euo pipefail\n{line}"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, f"{line}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr, line
        return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    require_tool("git", shutil.which("git"))
    require_tool("terraform", terraform.terraform_binary())
    require_tool("moto_server", emulator.moto_server_binary())
    checkov = require_tool("checkov", checkov_binary())
    if not (PROJECT_DIR / ".git").exists():
        require_tool("a git checkout of the project", None)
    tmp = tmp_path_factory.mktemp("audit-workflow")
    root = clean_clone(tmp / "clone")
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    pipenv_stand_in(bin_dir)
    (bin_dir / "checkov").symlink_to(checkov)
    settings = seed_settings()
    with emulator.Emulator(account_id=settings.account_id, log_path=tmp / "moto.log") as aws:
        user = {
            k: v for k, v in os.environ.items() if not k.startswith(("CCI_", "TF_", "AWS_")) and k != "CDKTF_OUTDIR"
        }
        env = {
            **user,
            **aws.aws_env(region=settings.region),
            "TF_CLI_CONFIG_FILE": str(terraform.write_cli_config(tmp)),
            "CHECKPOINT_DISABLE": "1",
            "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), user.get("PATH", "")]),
        }
        yield Clone(root=root, env=env)


@pytest.fixture(scope="module")
def workflow(clone: Clone) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every line of the README's workflow, run in order in the clone; the results by line."""
    return {line: clone.run(line) for line in readme_workflow()}


def test_readme_workflow_is_the_one_this_test_runs() -> None:
    assert [line.split("#")[0].strip() for line in readme_workflow()] == [
        "pipenv run synth",
        "pipenv run scan",
        f"terraform -chdir={STACK_DIR} init",
        f"terraform -chdir={STACK_DIR} plan -out=plan.bin",
        f"terraform -chdir={STACK_DIR} show -json plan.bin > plan.json",
        "pipenv run audit --plan plan.json --fail-on-destroy",
    ]


def test_audit_workflow_on_a_clean_clone_leaves_git_status_empty(
    clone: Clone, workflow: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    audited = next(result for line, result in workflow.items() if line.startswith("pipenv run audit"))
    assert (audited.stdout, audited.stderr) == (f"wrote {REVIEW}\n", "")
    again = clone.run("pipenv run audit")  # the committed report of the shipped settings: unchanged, not rewritten
    assert again.stdout == "AUDIT.md is up to date: unchanged\n"
    assert (clone.root / "AUDIT.md").read_bytes() == (PROJECT_DIR / "AUDIT.md").read_bytes()
    assert git("status", "--porcelain", cwd=clone.root) == ""
    assert (clone.root / "plan.json").is_file() and (clone.root / REVIEW).is_file()  # made, and ignored


def test_audit_workflow_scan_shows_the_waivers_as_skipped(
    workflow: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    scanned = next(result for line, result in workflow.items() if line.startswith("pipenv run scan"))
    lines = scanned.stdout.splitlines()
    assert lines[0] == f"{STACK_DIR}:"
    assert lines[-1] == "  Passed checks: 69, Failed checks: 0, Skipped checks: 8 (waived), Parsing errors: 0"
    assert [line.split("  ")[2] for line in lines if line.startswith("  SKIPPED")] == [
        "CKV_AWS_144",
        "CKV_AWS_18",
        "CKV2_AWS_62",
    ]


def test_audit_workflow_review_names_its_plan_and_commit_and_passes_the_gate(
    clone: Clone, workflow: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    review = (clone.root / REVIEW).read_text(encoding="utf-8")
    plan_digest = hashlib.sha256((clone.root / "plan.json").read_bytes()).hexdigest()
    assert f"Plan: `plan.json`, SHA-256 `{plan_digest}` (`terraform show -json` output; Terraform `" in review
    head = git("rev-parse", "HEAD", cwd=clone.root).strip()
    assert f"Commit: `{head}`, with no uncommitted changes." in review
    for name in ("cdk.tf.json", "tenants.tf.json", ".terraform.lock.hcl"):
        digest = hashlib.sha256((clone.root / STACK_DIR / name).read_bytes()).hexdigest()
        assert f"| `{name}` | `{digest}` |" in review
    assert (
        "Checked against account 591338347562: none of the created key, alias, buckets or table exists yet." in review
    )
    assert "[!CAUTION]" not in review and "[!WARNING]" not in review
