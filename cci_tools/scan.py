"""Scan the synthesized stacks with checkov and the project's own checks.

    pipenv run scan [STACK_DIR ...]

With no argument, scans every stack under the output directory (CDKTF_OUTDIR, default
cdktf.out). Uses .checkov.yaml (waivers and the external checks in policy_checks/),
offline. Exits non-zero when any check fails, and with status 2 and one line when
there is no synthesized stack or checkov is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from constructs_lib.output import output_dir

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_DIR / ".checkov.yaml"


def checkov_binary() -> str | None:
    """checkov from its own virtualenv (scripts/bootstrap --dev), else from PATH."""
    local = PROJECT_DIR / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


#: What to say when checkov is absent: it is a dev tool, in its own virtualenv.
CHECKOV_MISSING = (
    "checkov not found (neither .venv-checkov/bin/checkov nor checkov on PATH): "
    "run scripts/bootstrap --dev, which installs the pinned checkov into .venv-checkov"
)


def run_checkov(stack_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    binary = checkov_binary()
    if binary is None:
        raise RuntimeError(CHECKOV_MISSING)
    return subprocess.run(
        [binary, "--config-file", str(CONFIG), "-d", str(stack_dir), *extra],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )


def main(argv: list[str]) -> int:
    stacks = [Path(a) for a in argv] or sorted(p for p in (output_dir(os.environ) / "stacks").glob("*") if p.is_dir())
    if not stacks:
        print("error: no synthesized stack found; run pipenv run synth first", file=sys.stderr)
        return 2
    if checkov_binary() is None:
        print(f"error: {CHECKOV_MISSING}", file=sys.stderr)
        return 2
    worst = 0
    for stack_dir in stacks:
        result = run_checkov(stack_dir)
        print(result.stdout, end="")
        if result.returncode != 0:
            print(result.stderr, end="", file=sys.stderr)
        worst = max(worst, result.returncode)
    return worst


if __name__ == "__main__":
    from cci_tools import cli

    sys.exit(cli.run(main, sys.argv[1:], prog="scan"))
