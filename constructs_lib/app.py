"""Build the cdktf App for validated settings and tenants, and synthesize it all or nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cdktf import App

from constructs_lib.config import Settings, Tenant
from constructs_lib.foundation_stack import FoundationStack
from constructs_lib.naming import Names
from constructs_lib.output import output_dir, replace_atomically


def build_app(settings: Settings, tenants: Sequence[Tenant], **app_options: object) -> tuple[App, FoundationStack]:
    """The App with its one stack."""
    app = App(**app_options)  # type: ignore[arg-type]
    stack = FoundationStack(app, Names(settings=settings).stack, settings=settings, tenants=tenants)
    return app, stack


def synth(settings: Settings, tenants: Sequence[Tenant], environ: Mapping[str, str] = os.environ) -> Path:
    """Synthesize into the App's output directory, all or nothing; return the directory."""
    final = output_dir(environ)

    def write(staging: Path) -> None:
        app, _ = build_app(settings, tenants, outdir=str(staging))
        app.synth()

    replace_atomically(final, write)
    return final
