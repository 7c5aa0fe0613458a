"""The fast bindings load: same bytes as the stock import, and a safe fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib.fast_load import lazy_index
from constructs_lib.output import output_files
from tests.helpers import PROJECT_DIR

TENANTS = {
    "tenants": [
        {"tenant_id": "globex", "display_name": "Globex ${x}", "kms_guard": True, "tags": {"CostCenter": "cc-1"}},
        {"tenant_id": "acme", "display_name": "Acme"},
    ]
}


def synth(tmp_path: Path, name: str, **env: str) -> tuple[dict[str, bytes], str]:
    tenants = tmp_path / "tenants.json"
    tenants.write_text(json.dumps(TENANTS), encoding="utf-8")
    out = tmp_path / name
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=PROJECT_DIR,
        env={**os.environ, "CDKTF_OUTDIR": str(out), "CCI_TENANTS_FILE": str(tenants), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return output_files(out), result.stderr


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    files, stderr = synth(tmp_path_factory.mktemp("stock"), "out", CCI_STOCK_IMPORT="1")
    assert "warning" not in stderr
    return files


def test_fast_path_output_is_byte_identical_to_the_stock_import(stock: dict[str, bytes], tmp_path: Path) -> None:
    fast, stderr = synth(tmp_path, "out")
    assert stderr == ""  # no fallback warning: the fast path was taken
    assert (
        sorted(fast)
        == sorted(stock)
        == [
            ".cci-lite-generated.json",
            "manifest.json",
            "stacks/cci-lite-production/.cci-lite-generated.json",
            "stacks/cci-lite-production/.terraform.lock.hcl",
            "stacks/cci-lite-production/cdk.tf.json",
            "stacks/cci-lite-production/tenants.tf.json",
        ]
    )
    assert fast == stock


def test_a_failing_fast_path_falls_back_to_the_stock_import_with_one_warning(
    stock: dict[str, bytes], tmp_path: Path
) -> None:
    # A cache directory that cannot be created (its parent is a file) makes the
    # fast path fail for real, the way a broken or read-only cache would.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    files, stderr = synth(tmp_path, "out", XDG_CACHE_HOME=str(blocker / "cache"))
    (line,) = stderr.splitlines()
    assert line.startswith("warning: fast bindings load unavailable (") and line.endswith("); using the stock import")
    assert files == stock


def test_lazy_index_turns_every_eager_require_into_a_getter() -> None:
    eager = "".join(f'exports.mod{i} = require("./mod-{i}");\n' for i in range(1200))
    lazy = lazy_index('"use strict";\n' + eager)
    assert "require(" not in lazy.replace('get: () => require("./mod-', "")
    getter = 'Object.defineProperty(exports, "mod7", { enumerable: true, configurable: true, get: () => '
    assert getter + 'require("./mod-7") });' in lazy


def test_lazy_index_refuses_an_unexpected_layout() -> None:
    with pytest.raises(RuntimeError, match=r"unexpected lib/index\.js layout: 1 eager"):
        lazy_index('exports.a = require("./a");\n')
