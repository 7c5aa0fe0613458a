"""Run Terraform on a synthesized stack, offline where a provider mirror exists.

The provider mirror is configurable: ``CCI_TF_PROVIDER_MIRROR`` names a directory laid
out as Terraform's ``filesystem_mirror`` expects
(``registry.terraform.io/hashicorp/aws/<version>/<os_arch>/``). When it is unset and
``/opt/tf-plugins`` holds such a mirror, that one is used; otherwise Terraform
downloads the provider from the registry as usual.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_MIRROR = Path("/opt/tf-plugins")
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"


def provider_mirror(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The provider mirror to use, or None to download from the registry."""
    configured = environ.get("CCI_TF_PROVIDER_MIRROR")
    if configured:
        return Path(configured)
    if (DEFAULT_MIRROR / AWS_PROVIDER).is_dir():
        return DEFAULT_MIRROR
    return None


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def write_cli_config(directory: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """Write a Terraform CLI config into ``directory`` and return its path.

    With a mirror, the AWS provider comes only from the mirror (no network);
    without one, the file is empty and Terraform behaves as it does by default.
    """
    mirror = provider_mirror(environ)
    path = directory / "terraform.rc"
    if mirror is None:
        path.write_text("", encoding="utf-8")
    else:
        path.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{AWS_PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{AWS_PROVIDER}"]\n  }}\n'
            "}\n",
            encoding="utf-8",
        )
    return path


def terraform_env(cli_config: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a Terraform run: quiet, non-interactive, with our CLI config."""
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd`` and capture its output (pass ``-no-color``).

    With ``check``, a failure raises RuntimeError carrying Terraform's output.
    """
    binary = terraform_binary()
    if binary is None:
        raise RuntimeError("terraform is not on PATH")
    result = subprocess.run(
        [binary, *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def init_with_state_file(stack_dir: Path, *, env: Mapping[str, str], state: Path) -> None:
    """``terraform init`` with the stack's local backend pointed at ``state`` for this run.

    A partial backend configuration, so the synthesized JSON stays as it is.
    """
    run(["init", "-input=false", "-no-color", f"-backend-config=path={state}"], cwd=stack_dir, env=env)


def outputs(stack_dir: Path, *, env: Mapping[str, str]) -> dict[str, Any]:
    """The applied stack's outputs, name -> value (``terraform output -json``)."""
    shown = run(["output", "-json", "-no-color"], cwd=stack_dir, env=env)
    return {name: value["value"] for name, value in json.loads(shown.stdout).items()}
