"""Synthesize the CCI Lite foundation: python main.py [--debug] (or cdktf synth).

Settings and tenants are validated before the provider bindings load; a mistake
prints one line per problem and exits with status 2, without a traceback, and so
does a missing Node.js or missing Python packages. The first synth after an install
waits (a few seconds, at most a minute, with one note) until jsii has saved its type
index, so later synths load the bindings fast. The output directory (CDKTF_OUTDIR,
default cdktf.out) is replaced only by a complete new synth: on any failure the
previous output stays as it was. An unexpected failure is a bug: it prints one
line and exits with status 1; --debug (or CCI_DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from constructs_lib.config import check_guards, display_path, load_environments, load_tenants
from constructs_lib.errors import ConfigError
from constructs_lib.runtime import missing_runtime

PROJECT_DIR = Path(__file__).resolve().parent


def run() -> int:
    problems: list[str] = []
    environments = []
    try:
        for settings in load_environments(PROJECT_DIR, os.environ):
            try:
                tenants = load_tenants(settings.tenants_file)
                check_guards(settings, tenants, display_path(settings.tenants_file))
                environments.append((settings, tenants))
            except ConfigError as error:
                problems += [p for p in error.problems if p not in problems]  # a shared file reports once
    except ConfigError as error:
        problems += error.problems
    problems += missing_runtime(os.environ)  # Node.js and the Python packages, before they are needed
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2

    # jsii warns on every run that Node 20 is past end of life; that is not the user's concern here.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # The bindings allocate hundreds of thousands of objects that live until exit:
    # collecting them is wasted time (seconds with the stock import).
    gc.disable()
    from constructs_lib import fast_load
    from constructs_lib.app import synth  # loads the provider bindings (constructs_lib.fast_load)

    out_dir = synth(environments)
    for settings, tenants in environments:
        print(f"synthesized {settings.stack} with {len(tenants)} tenant(s) into {out_dir}", flush=True)
    # Once after an install, jsii is still writing its type index in the kernel: let it
    # finish, or every later synth parses the whole 120 MB assembly again.
    fast_load.await_runtime_indexes()
    return 0


def main(argv: list[str]) -> int:
    debug = "--debug" in argv or os.environ.get("CCI_DEBUG") == "1"
    unknown = [arg for arg in argv if arg != "--debug"]
    if unknown:
        print(f"error: unknown argument {unknown[0]!r}; usage: python main.py [--debug]", file=sys.stderr)
        return 2
    try:
        return run()
    except Exception as exc:
        if debug:
            raise
        print(
            f"error: internal error, not a problem with your input: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # Every file is written and renamed into place by now. Skipping interpreter
    # teardown saves freeing the bindings' objects one by one (seconds); the jsii
    # kernel (node) exits when its stdin closes.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
