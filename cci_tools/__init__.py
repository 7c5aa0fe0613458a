"""Tooling around the synthesized stack: Terraform, the local AWS emulator, the demo.

Run as ``python -m cci_tools.<tool>`` (what ``pipenv run audit``, ``adopt``, ``scan`` and
``demo`` do), this package first checks, with the standard library alone, that the tool
runs in the project's virtualenv with its packages installed: otherwise the tool's imports
would end in a traceback. One line says what to run, exit status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _preflight() -> None:
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" not in argv[:-1] or not argv[argv.index("-m") + 1].startswith("cci_tools."):
        return  # imported, not run as a tool
    from constructs_lib.runtime import TOOL_MODULES, foreign_virtualenv, missing_packages

    prog = argv[argv.index("-m") + 1].removeprefix("cci_tools.")
    stray = foreign_virtualenv(Path(__file__).resolve().parent.parent, os.environ)
    problems = [stray] if stray is not None else missing_packages(TOOL_MODULES, prog)
    if problems:
        for problem in problems:
            print(f"error: {prog}: {problem}", file=sys.stderr)
        raise SystemExit(2)


_preflight()
