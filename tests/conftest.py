"""Session fixtures: one synth of the stack for the whole session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ecma import EcmaOracle, start_oracle
from tests.helpers import TEST_TENANTS, seed_settings

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")


def synth_to(outdir: Path, settings: Any, tenants: Any) -> Path:
    """Synthesize into ``outdir`` through the same code path as main.py; return cdk.tf.json."""
    from constructs_lib.app import build_app  # loads the bindings once per session
    from constructs_lib.naming import Names

    app, _ = build_app(settings, tenants, outdir=str(outdir))
    app.synth()
    return outdir / "stacks" / Names(settings=settings).stack / "cdk.tf.json"


@pytest.fixture(scope="session")
def synth_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_to(tmp_path_factory.mktemp("synth"), seed_settings(), TEST_TENANTS)


@pytest.fixture(scope="session")
def tf(synth_file: Path) -> dict[str, Any]:
    """The parsed cdk.tf.json of the session's synth."""
    document: dict[str, Any] = json.loads(synth_file.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def tenant_locals(synth_file: Path) -> dict[str, Any]:
    """The locals of the session's tenants.tf.json, the per-tenant values beside cdk.tf.json."""
    document: dict[str, Any] = json.loads((synth_file.parent / "tenants.tf.json").read_text(encoding="utf-8"))
    locals_: dict[str, Any] = document["locals"]
    return locals_


@pytest.fixture(scope="session")
def resources(tf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_type: dict[str, dict[str, Any]] = tf["resource"]
    return by_type


@pytest.fixture(scope="session")
def ecma_oracle() -> Iterator[EcmaOracle]:
    """One node process for the session that answers with ajv and cdktf (tests/ecma.py)."""
    oracle = start_oracle()
    yield oracle
    oracle.close()
