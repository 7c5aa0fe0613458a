"""Synthesize the CCI Lite foundation: python main.py (or cdktf synth).

Settings and tenants are validated before the provider bindings load; a mistake
prints one line per problem and exits with status 2, without a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from constructs_lib.config import load_settings, load_tenants
from constructs_lib.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent


def main() -> int:
    # jsii warns on every run that Node 20 is past end of life; that is not the user's concern here.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    try:
        settings = load_settings(PROJECT_DIR, os.environ)
        tenants = load_tenants(settings.tenants_file)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2

    from constructs_lib.app import synth  # loads the provider bindings: seconds

    try:
        out_dir = synth(settings, tenants)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"synthesized {len(tenants)} tenant(s) into {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
