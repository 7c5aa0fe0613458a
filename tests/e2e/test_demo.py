"""The no-account demo: one command, the whole foundation, the emulator stopped after."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from cci_tools import emulator, terraform
from tests.helpers import PROJECT_DIR, require_tool

pytestmark = pytest.mark.e2e


def test_demo_deploys_the_shipped_foundation_and_stops_the_emulator() -> None:
    require_tool("terraform", terraform.terraform_binary())
    require_tool("moto_server", emulator.moto_server_binary())
    result = subprocess.run(
        [sys.executable, "-m", "cci_tools.demo"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in (
        "alias/cci-lite-master-key  rotation on",
        "cci-lite-input-591338347562-eu-central-1",
        "cci-lite-results-591338347562-eu-central-1",
        "cci-lite-athena-staging-591338347562-eu-central-1",
        "cci-lite-config  deletion protection on",
        "demo-tenant  'Demo Tenant'  KMS guard off  CostCenter=cc-100",
    ):
        assert name in out, out
    assert out.count("versioning Enabled, SSE-KMS (foundation key), bucket key") == 3
    port = int(re.search(r"on http://127\.0\.0\.1:(\d+)", result.stderr).group(1))  # type: ignore[union-attr]
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
