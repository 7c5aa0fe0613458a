"""What a synth needs besides valid input: Node.js for jsii and the pinned Python packages.

Checked before the provider bindings load, so a missing piece is one line that says
what to install (exit status 2), not a traceback or an "internal error". No jsii import.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

#: The modules the synth imports from Pipfile.lock's packages: the input checks' (regress,
#: jsonschema) and the bindings' (jsii starts the Node.js kernel).
PYTHON_MODULES = ("regress", "jsonschema", "jsii", "cdktf", "constructs", "cdktf_cdktf_provider_aws")

NODE_INSTALL = "install Node.js 20 or later (https://nodejs.org/en/download, or apt-get install nodejs)"


def missing_runtime(environ: Mapping[str, str]) -> list[str]:
    """Each missing piece as one message with its fix; empty when the synth can run.

    Node.js is looked up as jsii does: ``JSII_NODE`` if set, else ``node`` on ``PATH``.
    The Python packages are looked up in this interpreter (``sys.executable``).
    """
    return missing_node(environ) + missing_packages()


def missing_node(environ: Mapping[str, str]) -> list[str]:
    """Node.js as jsii finds it, or one message saying how to install it."""
    node = environ.get("JSII_NODE") or "node"
    if shutil.which(node, path=environ.get("PATH")) is not None:
        return []
    where = (
        f"JSII_NODE names {node!r}, which is not an executable"
        if environ.get("JSII_NODE")
        else "node not found on PATH"
    )
    return [f"{where}: the AWS provider bindings run in Node.js (jsii); {NODE_INSTALL}"]


#: What the tools (``python -m cci_tools.<tool>``) import from Pipfile.lock's packages besides the synth's.
TOOL_MODULES = (*PYTHON_MODULES, "boto3")


def missing_packages(modules: tuple[str, ...] = PYTHON_MODULES, command: str = "synth") -> list[str]:
    """The pinned Python packages in this interpreter, or one message saying how to install them.

    ``modules`` are looked up without importing them; ``command`` is the ``pipenv run``
    command the message says to run again after the install.
    """
    absent = [name for name in modules if importlib.util.find_spec(name) is None]
    if not absent:
        return []
    return [
        f"the project's Python packages are not installed for {sys.executable} "
        f"(no module {', '.join(absent)}): run scripts/bootstrap, then pipenv run {command}"
    ]


def foreign_virtualenv(project_dir: Path, environ: Mapping[str, str], prefix: str = sys.prefix) -> str | None:
    """One message when ``pipenv run`` runs this in a virtualenv pipenv made outside the project; else None.

    ``pipenv run synth`` before ``scripts/bootstrap`` makes a virtualenv in pipenv's own
    directory (``WORKON_HOME``, default ``~/.local/share/virtualenvs``, named
    ``<project directory>-<hash>``) instead of the project's ``.venv``: empty, and a place a
    later command may keep using. Recognised by ``PIPENV_ACTIVE=1`` (``pipenv run`` sets it)
    and the interpreter's ``prefix`` in that directory under the project's name.
    https://pipenv.pypa.io/en/latest/virtualenv.html
    """
    if environ.get("PIPENV_ACTIVE") != "1":
        return None
    venv = Path(prefix).resolve()
    home = Path(environ.get("WORKON_HOME") or Path.home() / ".local" / "share" / "virtualenvs").expanduser()
    if venv == (project_dir / ".venv").resolve() or venv.parent != home.resolve():
        return None
    if not venv.name.startswith(f"{project_dir.name}-"):
        return None
    if (project_dir / ".venv").is_dir():
        return (
            f"pipenv runs this in {venv}, a virtualenv outside the project, not in the project's .venv: run "
            f"with PIPENV_VENV_IN_PROJECT=1 (scripts/env.sh sets it), and remove that virtualenv (rm -rf {venv})"
        )
    return (
        f"pipenv made a virtualenv outside the project ({venv}) because scripts/bootstrap has not run yet: remove "
        "it with `pipenv --rm`, then run scripts/bootstrap (it makes the project's .venv)"
    )
