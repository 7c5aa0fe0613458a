"""Build the cdktf App for validated settings and tenants, and synthesize it."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from constructs_lib.config import Settings, Tenant
from constructs_lib.foundation_stack import FoundationStack
from constructs_lib.naming import Names


def build_app(settings: Settings, tenants: Sequence[Tenant], **app_options: object) -> tuple[App, FoundationStack]:
    """The App with its one stack. The output directory is the App's: CDKTF_OUTDIR is honoured."""
    app = App(**app_options)  # type: ignore[arg-type]
    stack = FoundationStack(app, Names(settings=settings).stack, settings=settings, tenants=tenants)
    return app, stack


def synth(settings: Settings, tenants: Sequence[Tenant]) -> str:
    """Synthesize into the App's output directory and return it."""
    app, _ = build_app(settings, tenants)
    app.synth()
    return app.outdir
