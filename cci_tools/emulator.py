"""The local AWS emulator (moto_server) on a free loopback port.

Used by the end-to-end tests and the demo. The server only ever listens on
127.0.0.1, and leaving the ``with`` block stops it, whatever happened inside.

Example::

    with Emulator(account_id="591338347562") as emulator:
        env = {**os.environ, **emulator.aws_env(region="eu-central-1")}
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

LOOPBACK = "127.0.0.1"
#: moto accepts any credentials; these keep real ones from ever being sent to it.
CREDENTIAL = "emulator"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def moto_server_binary() -> str | None:
    """moto_server from this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.exists() else shutil.which("moto_server")


class Emulator:
    """A moto_server process whose default account is ``account_id``.

    The provider's ``allowed_account_ids`` then accepts the emulator's identity,
    so the synthesized JSON applies unchanged.
    """

    def __init__(self, *, account_id: str, log_path: Path | None = None, start_timeout_s: float = 30) -> None:
        self.account_id = account_id
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._log_path = log_path
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Emulator:
        binary = moto_server_binary()
        if binary is None:
            raise RuntimeError("moto_server not found: install the dev packages (scripts/bootstrap --dev)")
        log = open(self._log_path, "wb") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "MOTO_ACCOUNT_ID": self.account_id}
        self._process = subprocess.Popen(
            [binary, "-H", LOOPBACK, "-p", str(self.port)], stdout=log, stderr=log, env=env
        )
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited with status {self._process.returncode} while starting")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto_server did not answer on {self.endpoint} within {self._start_timeout_s:.0f}s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def aws_env(self, *, region: str) -> dict[str, str]:
        """Environment for the AWS provider, the CLI tools and boto3 to talk to the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": CREDENTIAL,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str, *, region: str) -> Any:
        """A boto3 client bound to the emulator, and to nothing else."""
        import boto3  # imported here: only the demo and the tests talk to the emulator

        session = boto3.session.Session(
            aws_access_key_id=CREDENTIAL, aws_secret_access_key=CREDENTIAL, region_name=region
        )
        return session.client(service, endpoint_url=self.endpoint)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
