"""The external tools the project's commands use, and the one line each prints when one is missing.

Every documented command checks what it needs before it starts and, for each missing
tool, prints ``error: <what is missing>: <the command that installs it>`` and exits
with status 2: a missing tool is not a bug and gets no traceback.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable

from cci_tools import emulator, scan, terraform
from constructs_lib.runtime import missing_runtime

#: The tool's name -> the message when it is absent.
MISSING = {
    "terraform": (
        "terraform not found on PATH: install Terraform 1.11 or later "
        "(https://developer.hashicorp.com/terraform/install), then run this again"
    ),
    "moto_server": "moto_server (the local AWS emulator, a dev package) not found: run scripts/bootstrap --dev",
    "boto3": "boto3 is not installed: run scripts/bootstrap",
    "checkov": scan.CHECKOV_MISSING,
}


def is_present(tool: str) -> bool:
    """Whether ``tool`` (a key of ``MISSING``, or ``synth`` for Node.js and the bindings) can run."""
    if tool == "terraform":
        return terraform.terraform_binary() is not None
    if tool == "moto_server":
        return emulator.moto_server_binary() is not None
    if tool == "boto3":
        return importlib.util.find_spec("boto3") is not None
    if tool == "checkov":
        return scan.checkov_binary() is not None
    if tool == "synth":
        return not missing_runtime(os.environ)
    raise ValueError(f"unknown tool {tool!r}")


def missing(tools: Iterable[str]) -> list[str]:
    """One message per absent tool, in the order given; empty when all are there."""
    problems: list[str] = []
    for tool in tools:
        if tool == "synth":
            problems += missing_runtime(os.environ)
        elif not is_present(tool):
            problems.append(MISSING[tool])
    return problems
