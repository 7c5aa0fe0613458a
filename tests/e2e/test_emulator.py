"""The emulator helper: loopback only, and stopped even when the work inside fails."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from cci_tools import emulator
from tests.helpers import require_tool

pytestmark = pytest.mark.e2e


def test_emulator_listens_on_loopback_and_stops_after_a_failure() -> None:
    require_tool("moto_server", emulator.moto_server_binary())
    running = emulator.Emulator(account_id="111122223333")
    assert running.endpoint.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError, match="boom"), running:
        with urllib.request.urlopen(f"{running.endpoint}/moto-api/", timeout=5) as response:
            assert response.status == 200
        raise RuntimeError("boom")
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", running.port))
