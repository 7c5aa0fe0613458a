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
    """An App with the one stack of ``settings``."""
    app = App(**app_options)  # type: ignore[arg-type]
    stack = FoundationStack(app, Names(settings=settings).stack, settings=settings, tenants=tenants)
    return app, stack


def build_environments(environments: Sequence[tuple[Settings, Sequence[Tenant]]], **app_options: object) -> App:
    """An App with one stack per environment, each with its own settings, tenants and state."""
    app = App(**app_options)  # type: ignore[arg-type]
    for settings, tenants in environments:
        FoundationStack(app, Names(settings=settings).stack, settings=settings, tenants=tenants)
    return app


def synth(environments: Sequence[tuple[Settings, Sequence[Tenant]]], environ: Mapping[str, str] = os.environ) -> Path:
    """Synthesize every environment into the App's output directory, all or nothing; return it."""
    final = output_dir(environ)

    def write(staging: Path) -> None:
        build_environments(environments, outdir=str(staging)).synth()

    replace_atomically(final, write)
    return final
