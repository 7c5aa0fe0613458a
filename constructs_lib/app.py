"""Build the cdktf App for validated settings and tenants, and synthesize it into the output directory."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from cdktf import App

from constructs_lib.adoption import Adoption
from constructs_lib.config import Settings, Tenant
from constructs_lib.foundation_stack import FoundationStack
from constructs_lib.naming import Names
from constructs_lib.output import MANIFEST, OVERRIDES_FILE, output_dir, overrides_record, publish

#: Terraform's dependency lock file; the project's copy is placed in every stack directory.
PROVIDER_LOCK_FILE = ".terraform.lock.hcl"


def build_app(
    settings: Settings, tenants: Sequence[Tenant], adoption: Adoption | None = None, **app_options: object
) -> tuple[App, FoundationStack]:
    """An App with the one stack of ``settings`` (and its checked discovery file, if any)."""
    app = App(**app_options)  # type: ignore[arg-type]
    stack = FoundationStack(app, Names(settings=settings).stack, settings=settings, tenants=tenants, adoption=adoption)
    return app, stack


def build_environments(
    environments: Sequence[tuple[Settings, Sequence[Tenant]]],
    adoptions: Mapping[str, Adoption] | None = None,
    **app_options: object,
) -> App:
    """An App with one stack per environment, each with its own settings, tenants and state.

    ``adoptions``: stack name -> its checked discovery file, for stacks with ``adopt_file``.
    """
    app = App(**app_options)  # type: ignore[arg-type]
    for settings, tenants in environments:
        stack = Names(settings=settings).stack
        FoundationStack(app, stack, settings=settings, tenants=tenants, adoption=(adoptions or {}).get(stack))
    return app


def synth(
    environments: Sequence[tuple[Settings, Sequence[Tenant]]],
    environ: Mapping[str, str] = os.environ,
    *,
    provider_lock: Path | None = None,
    keep_stacks: Collection[str] = (),
    adoptions: Mapping[str, Adoption] | None = None,
    overrides: Sequence[str] = (),
) -> Path:
    """Synthesize every environment into the output directory (constructs_lib.output.publish); return it.

    ``provider_lock`` is the project's ``.terraform.lock.hcl``: copied into every stack
    directory, so ``terraform init -lockfile=readonly`` works there. None (or a missing
    file) places none, and the stack directory's own lock file is Terraform's to manage.
    ``keep_stacks``: stacks of the app this run does not synthesize (see ``publish``).
    ``adoptions``: stack name -> its checked discovery file (constructs_lib.adoption).
    ``overrides``: the ``CCI_*`` variables that set this run's settings (default none); when
    there are any, each stack directory records them in ``OVERRIDES_FILE``, so the audit
    knows the stack is not the shipped settings' (constructs_lib.output.read_overrides).
    """
    final = output_dir(environ)
    lock_text = provider_lock.read_bytes() if provider_lock is not None and provider_lock.is_file() else None

    def write(staging: Path) -> None:
        build_environments(environments, adoptions, outdir=str(staging)).synth()
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
        for entry in manifest["stacks"].values():
            if lock_text is not None:
                (staging / entry["workingDirectory"] / PROVIDER_LOCK_FILE).write_bytes(lock_text)
            if overrides:
                (staging / entry["workingDirectory"] / OVERRIDES_FILE).write_text(
                    overrides_record(overrides), encoding="utf-8"
                )

    publish(final, write, keep_stacks=keep_stacks)
    return final
