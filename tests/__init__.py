"""The test suite. Importing it first checks that the packages the tests import are installed.

The tests need the dev packages of Pipfile.lock (pytest, hypothesis, moto), which
``scripts/bootstrap --dev`` (and so ``scripts/test``) installs and ``scripts/synth`` does
not. Without them, ``pipenv run pytest`` or ``pipenv run python -m tests.test_isolation``
says so in one line, exit status 2, instead of an ImportError traceback; run by
``pipenv run`` in a virtualenv pipenv made outside the project, it says that instead.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from constructs_lib.runtime import TOOL_MODULES, foreign_virtualenv

#: The modules of the dev packages that the tests import, then the project's own.
NEEDED = ("pytest", "hypothesis", "moto", *TOOL_MODULES)

_stray = foreign_virtualenv(Path(__file__).resolve().parent.parent, os.environ)
if _stray is not None:  # pipenv run pytest before scripts/bootstrap: the packages are missing for that reason
    print(f"error: {_stray}", file=sys.stderr)
    raise SystemExit(2)
_absent = [name for name in NEEDED if importlib.util.find_spec(name) is None]
if _absent:
    print(
        f"error: the tests need the dev packages, which are not installed for {sys.executable} "
        f"(no module {', '.join(_absent)}): run scripts/bootstrap --dev (scripts/test runs it), then pipenv run pytest",
        file=sys.stderr,
    )
    raise SystemExit(2)
