"""Synthesize the CCI Lite foundation: python main.py [--debug] (or cdktf synth).

Settings and tenants are validated before the provider bindings load; a mistake
prints one line per problem and exits with status 2, without a traceback. The
output directory (CDKTF_OUTDIR, default cdktf.out) is replaced only by a complete
new synth: on any failure the previous output stays as it was. An unexpected
failure is a bug: it prints one line and exits with status 1; --debug (or
CCI_DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from constructs_lib.config import check_guards, display_path, load_settings, load_tenants
from constructs_lib.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent


def run() -> int:
    try:
        settings = load_settings(PROJECT_DIR, os.environ)
        tenants = load_tenants(settings.tenants_file)
        check_guards(settings, tenants, display_path(settings.tenants_file))
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2

    # jsii warns on every run that Node 20 is past end of life; that is not the user's concern here.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from constructs_lib.app import synth  # loads the provider bindings: seconds

    out_dir = synth(settings, tenants)
    print(f"synthesized {len(tenants)} tenant(s) into {out_dir}")
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
    sys.exit(main(sys.argv[1:]))
