"""The fast bindings load: same bytes as the stock import, a safe fallback, and warm after the first synth."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from constructs_lib import fast_load
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
            "stacks/cci-lite-production/synth-overrides.json",  # CCI_TENANTS_FILE names this test's tenants
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


def test_first_synth_after_an_install_leaves_the_fast_path_warm(
    stock: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Empty cache directories stand for a fresh install (pipenv install, a CI image):
    # nothing built, nothing extracted, no jsii index. The shared ~/.cache is not touched.
    caches = {
        "XDG_CACHE_HOME": str(tmp_path / "caches" / "xdg"),
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(tmp_path / "caches" / "jsii-package-cache"),
    }
    for name, value in caches.items():
        monkeypatch.setenv(name, value)
    assert not fast_load.is_warm()
    try:
        check_first_and_second_synth(stock, tmp_path, caches)
    finally:
        shutil.rmtree(tmp_path / "caches", ignore_errors=True)  # 0.45 GB, not for pytest to keep


def check_first_and_second_synth(stock: dict[str, bytes], tmp_path: Path, caches: dict[str, str]) -> None:
    first, stderr = synth(tmp_path, "first", **caches)
    notes = stderr.splitlines()
    assert notes[0].startswith("note: building the lazy copy of the AWS provider bindings in ")
    assert notes[0].endswith(" (once after an install, a few seconds)")
    for note in notes[1:]:  # none when jsii happened to finish its index during the synth
        assert note.startswith("note: waiting for jsii to save its type index of ")
    assert first == stock
    # The index of every package the synth loads is on disk: the lazy provider copy, cdktf, constructs.
    assert fast_load.is_warm()

    second, stderr = synth(tmp_path, "second", **caches)
    assert stderr == ""  # nothing left to build or to wait for
    assert second == stock


def test_pending_runtime_indexes_are_extracted_packages_without_jsii_manifest(tmp_path: Path) -> None:
    tarball = tmp_path / "demo@1.0.0.jsii.tgz"
    tarball.write_bytes(b"not really a tarball")
    package = fast_load.JsiiPackage(name="@scope/demo", version="1.0.0", tarball=tarball)
    root = tmp_path / "cache"
    directory = package.cache_dir(root)
    assert directory.relative_to(root).parts[:3] == ("@scope", "demo", "1.0.0")
    # jsii's key: sha256 over the tarball's bytes, then NUL + name and NUL + version.
    expected_key = hashlib.sha256(b"not really a tarball\0@scope/demo\x001.0.0").hexdigest()
    assert directory.name == expected_key

    assert fast_load.pending_runtime_indexes([package], root) == []  # not extracted: nothing to wait for
    directory.mkdir(parents=True)
    (directory / "package.json").write_text("{}")
    assert fast_load.pending_runtime_indexes([package], root) == [directory]
    (directory / fast_load.RUNTIME_INDEX_MANIFEST).write_text("{}")
    assert fast_load.pending_runtime_indexes([package], root) == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/x/cache"}, "/x/cache"),
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/x/cache", "JSII_RUNTIME_PACKAGE_CACHE": "disabled"}, None),
        ({"JSII_RUNTIME_PACKAGE_CACHE_ROOT": "/x/cache", "JSII_VALIDATE_ASSEMBLIES": "1"}, None),
    ],
)
def test_no_index_is_awaited_where_jsii_writes_none(environ: dict[str, str], expected: str | None) -> None:
    root = fast_load.jsii_cache_root(environ)
    assert (str(root) if root else None) == expected
