"""Synthesize the CCI Lite foundation: python main.py [--debug] (or cdktf synth).

Settings and tenants are validated before the provider bindings load; a mistake
prints one line per problem and exits with status 2, without a traceback, and so
does a missing Node.js or missing Python packages, a settings change that would leave
a deployed stack's state behind, two stacks sharing one state (constructs_lib.state),
or a discovery file (``adopt_file``) whose foundation the stack cannot adopt without
replacing or dropping something (constructs_lib.adoption). The output directory
(CDKTF_OUTDIR, default cdktf.out) is updated only from a complete new synth, one file at
a time, keeping everything Terraform keeps in a stack directory (constructs_lib.output):
on any failure the previous output stays as it was. The first synth after an install
waits (a few seconds, at most a minute, with one note) until jsii has saved its type
index, so later synths load the bindings fast. An unexpected failure is a bug: it prints
one line and exits with status 1; --debug (or CCI_DEBUG=1) shows the traceback. Ctrl-C is
one line and exit status 130: "nothing was published" before the new output moves into
place, and once it has started moving, after all of it has (constructs_lib.interrupts).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from constructs_lib import interrupts
from constructs_lib.runtime import foreign_virtualenv, missing_node, missing_packages

if TYPE_CHECKING:
    from constructs_lib.adoption import Adoption
    from constructs_lib.config import AppSettings

PROJECT_DIR = Path(__file__).resolve().parent
#: The committed provider lock file, placed in every stack directory by the synth.
PROVIDER_LOCK = PROJECT_DIR / ".terraform.lock.hcl"


def run() -> int:
    stray = foreign_virtualenv(PROJECT_DIR, os.environ)
    if stray is not None:
        print(f"error: {stray}", file=sys.stderr)
        return 2
    # Without the pinned packages not even the settings can be checked (the checks use
    # regress and jsonschema): say what to install, and nothing else.
    absent = missing_packages()
    if absent:
        for problem in absent + missing_node(os.environ):
            print(f"error: {problem}", file=sys.stderr)
        return 2
    from constructs_lib.adoption import load_for_synth, outside_note, partition_tenants
    from constructs_lib.config import ENV_OVERRIDES, check_guards, display_path, load_app_settings, load_tenants
    from constructs_lib.errors import ConfigError
    from constructs_lib.output import output_dir
    from constructs_lib.state import abandoned_state_problems, state_warnings

    problems: list[str] = []
    environments = []
    adoptions: dict[str, Adoption] = {}
    app: AppSettings | None = None
    out_dir = output_dir(os.environ)
    try:
        app = load_app_settings(PROJECT_DIR, os.environ)
        for settings in app.stacks:
            try:
                tenants = load_tenants(settings.tenants_file)
                check_guards(settings, tenants, display_path(settings.tenants_file))
                adoption = load_for_synth(settings, tenants)  # refusals of adopting what exists (README)
                if adoption is not None:
                    adoptions[settings.stack] = adoption
                environments.append((settings, tenants))
            except ConfigError as error:
                problems += [p for p in error.problems if p not in problems]  # a shared file reports once
    except ConfigError as error:
        problems += error.problems
    if app is not None:
        problems += abandoned_state_problems(
            stacks=app.states,
            retired=app.retired_stacks,
            name_prefix=app.name_prefix,
            out_dir=out_dir,
            label="cdktf.json",
        )
    problems += missing_node(os.environ)  # before jsii needs it
    if problems or app is None:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    produced = {settings.stack for settings, _ in environments}
    for warning in state_warnings([s for s in app.states if s.stack in produced], out_dir):
        print(f"warning: {warning}", file=sys.stderr)

    # jsii warns on every run that Node 20 is past end of life; that is not the user's concern here.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # The bindings allocate hundreds of thousands of objects that live until exit:
    # collecting them is wasted time (seconds with the stock import).
    gc.disable()
    interrupts.isolate_jsii_kernel()  # the terminal's Ctrl-C then stops Python alone, never the kernel mid-call
    from constructs_lib import fast_load
    from constructs_lib.app import synth  # loads the provider bindings (constructs_lib.fast_load)

    out_dir = synth(
        environments,
        provider_lock=PROVIDER_LOCK,
        keep_stacks=[s.stack for s in app.declared if s.stack not in produced],
        adoptions=adoptions,
        overrides=[name for name in ENV_OVERRIDES if name in os.environ],
    )
    _published.append(out_dir)
    for settings, tenants in environments:
        print(f"synthesized {settings.stack} with {len(tenants)} tenant(s) into {out_dir}", flush=True)
        adoption = adoptions.get(settings.stack)
        if adoption is not None:
            print(f"{settings.stack}: {len(adoption.imports())} import block(s) from {adoption.source}", flush=True)
            outside = partition_tenants(adoption, tenants).outside
            if outside:
                print(f"note: {outside_note(adoption, outside, settings.stack)}", file=sys.stderr)
    # Once after an install, jsii is still writing its type index in the kernel: let it
    # finish, or every later synth parses the whole 120 MB assembly again.
    fast_load.await_runtime_indexes()
    return 0


#: Set once the new output is in place (constructs_lib.app.synth returned): what Ctrl-C after it leaves.
_published: list[Path] = []


def main(argv: list[str]) -> int:
    interrupts.watch()
    debug = "--debug" in argv or os.environ.get("CCI_DEBUG") == "1"
    unknown = [arg for arg in argv if arg != "--debug"]
    if unknown:
        print(f"error: unknown argument {unknown[0]!r}; usage: python main.py [--debug]", file=sys.stderr)
        return 2
    try:
        try:
            return run()
        except Exception as exc:
            # Ctrl-C kills the jsii kernel too; the call into it then fails with whatever a closed pipe gives.
            if interrupts.received():
                raise KeyboardInterrupt from exc
            if debug:
                raise
            print(
                f"error: internal error, not a problem with your input: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)",
                file=sys.stderr,
            )
            return 1
    except KeyboardInterrupt as interrupt:
        from constructs_lib.output import output_dir

        out_dir = output_dir(os.environ)
        if _published or isinstance(interrupt, interrupts.InterruptedAfter):
            print(f"error: interrupted after the new output was written in full to {out_dir}", file=sys.stderr)
        else:
            print(f"error: interrupted; nothing was published: {out_dir} is as it was", file=sys.stderr)
        return 130


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # Every file is written and renamed into place by now. Skipping interpreter
    # teardown saves freeing the bindings' objects one by one (seconds); the jsii
    # kernel (node) exits when its stdin closes.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
