"""Run a command's ``main`` so that no mistake or missing file ends in a traceback.

    if __name__ == "__main__":
        sys.exit(cli.run(main, sys.argv[1:], prog="audit"))

A file the command cannot read, write or parse is the user's to fix: one line naming
the file and the reason, exit status 2. Ctrl-C is one line, exit status 130. Anything
else is a bug: one line saying so, exit status 1; ``CCI_DEBUG=1`` shows the traceback
(the same switch as main.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable


def describe(error: BaseException) -> str:
    """An OSError or a parse error as a user reads it: the file, then the reason."""
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return f"{error.filename}: {reason}"
    if isinstance(error, json.JSONDecodeError):
        return f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    return str(error)


def run(
    main: Callable[[list[str]], int], argv: list[str], *, prog: str, interrupted: str = "what it had done is kept"
) -> int:
    """``main(argv)``'s exit status, with every exception turned into one line on stderr.

    Ctrl-C (KeyboardInterrupt) is ``error: <prog>: interrupted; <interrupted>`` and exit
    status 130, as a shell reports SIGINT: ``interrupted`` says truthfully what the command
    leaves behind when stopped at any point.
    """
    # The virtualenv and the packages were checked before the tool's imports (cci_tools/__init__.py).
    try:
        return main(argv)
    except KeyboardInterrupt:
        print(f"error: {prog}: interrupted; {interrupted}", file=sys.stderr)
        return 130
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        if os.environ.get("CCI_DEBUG") == "1":
            raise
        print(f"error: {prog}: {describe(error)}", file=sys.stderr)
        return 2
    except Exception as error:
        if os.environ.get("CCI_DEBUG") == "1":
            raise
        print(
            f"error: {prog}: internal error, not a problem with your input: {type(error).__name__}: {error} "
            "(set CCI_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
