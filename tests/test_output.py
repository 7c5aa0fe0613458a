"""The output directory is Terraform's working directory: a synth replaces only what it generates.

The publish step (constructs_lib.output) is exercised directly with a stand-in synth,
and through the real main job in a subprocess where a process must be killed or run
twice at once.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from constructs_lib import output
from constructs_lib.output import RECORD, lock_path, output_files, publish, read_record
from tests.helpers import PROJECT_DIR

STACK = "stacks/cci-lite-production"
OLD = {
    "manifest.json": b'{"stacks": {"cci-lite-production": {}}, "version": "old"}',
    f"{STACK}/cdk.tf.json": b'{"old": "cdk"}',
    f"{STACK}/tenants.tf.json": b'{"old": "tenants"}',
    f"{STACK}/.terraform.lock.hcl": b"# old lock\n",
}
NEW = {
    "manifest.json": b'{"stacks": {"cci-lite-production": {}}, "version": "new"}',
    f"{STACK}/cdk.tf.json": b'{"new": "cdk"}',
    f"{STACK}/tenants.tf.json": b'{"new": "tenants"}',
    f"{STACK}/.terraform.lock.hcl": b"# new lock\n",
}
#: What terraform init, a local backend, plan -out and the user leave in a stack directory.
TERRAFORM_AND_USER_FILES = {
    f"{STACK}/.terraform/terraform.tfstate": b'{"backend": {"type": "local", "config": {"path": "/srv/prod.tfstate"}}}',
    f"{STACK}/.terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/provider": b"binary",
    f"{STACK}/terraform.tfstate": b'{"version": 4, "resources": [{"mode": "managed"}]}',
    f"{STACK}/terraform.tfstate.backup": b'{"version": 4}',
    f"{STACK}/main_override.tf.json": b'{"provider": {"aws": [{"profile": "ops"}]}}',
    f"{STACK}/plan.bin": b"PK\x03\x04plan",
}


def synth_of(files: dict[str, bytes]) -> Callable[[Path], None]:
    """A stand-in for the cdktf synth: writes ``files`` into the staging directory."""

    def write(staging: Path) -> None:
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)

    return write


def generated(directory: Path) -> dict[str, bytes]:
    """The output's files without the synth's records."""
    return {name: data for name, data in output_files(directory).items() if not name.endswith(RECORD)}


def place(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)


def test_resynth_keeps_everything_terraform_and_the_user_keep_in_a_stack_directory(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of(OLD))
    place(final, TERRAFORM_AND_USER_FILES)
    publish(final, synth_of(NEW))
    assert generated(final) == {**NEW, **TERRAFORM_AND_USER_FILES}
    assert read_record(final / STACK) == {
        name.removeprefix(f"{STACK}/"): output._sha256(final / name) for name in NEW if name.startswith(STACK)
    }


def test_resynth_removes_a_generated_file_it_no_longer_writes(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of({**OLD, f"{STACK}/extra.tf.json": b"{}", "stacks/other/cdk.tf.json": b"{}"}))
    publish(final, synth_of({**NEW, "stacks/other/cdk.tf.json": b"{}"}))
    assert generated(final) == {**NEW, "stacks/other/cdk.tf.json": b"{}"}


def test_resynth_keeps_a_no_longer_generated_file_that_was_changed_since(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of({**OLD, f"{STACK}/extra.tf.json": b"{}"}))
    (final / STACK / "extra.tf.json").write_text('{"edited": true}')
    warnings: list[str] = []
    publish(final, synth_of(NEW), warn=warnings.append)
    assert generated(final) == {**NEW, f"{STACK}/extra.tf.json": b'{"edited": true}'}
    assert warnings == [
        f"warning: kept {final / STACK / 'extra.tf.json'}: an earlier synth generated it and this one does not, "
        "but it was changed since"
    ]


def test_a_stack_directory_the_synth_no_longer_produces_is_left_as_it_is(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    staging_files = {"stacks/cci-lite-staging/cdk.tf.json": b'{"staging": 1}'}
    publish(final, synth_of({**OLD, **staging_files}))
    place(final, {"stacks/cci-lite-staging/.terraform/terraform.tfstate": b"{}"})
    publish(final, synth_of(NEW))
    assert generated(final) == {
        **NEW,
        **staging_files,
        "stacks/cci-lite-staging/.terraform/terraform.tfstate": b"{}",
    }


def test_synth_of_one_stack_keeps_the_other_stacks_in_the_manifest(tmp_path: Path) -> None:
    """CCI_STACK: cdktf synth deletes the directory of any stack its manifest does not list."""
    final = tmp_path / "cdktf.out"
    both = {
        "manifest.json": json.dumps(
            {
                "stacks": {
                    name: {"name": name, "synthesizedStackPath": f"stacks/{name}/cdk.tf.json"}
                    for name in ("cci-lite-production", "cci-lite-staging")
                },
                "version": "0.21.0",
            }
        ).encode(),
        "stacks/cci-lite-production/cdk.tf.json": b"{}",
        "stacks/cci-lite-staging/cdk.tf.json": b"{}",
    }
    publish(final, synth_of(both))
    only_staging = {
        "manifest.json": json.dumps(
            {
                "stacks": {"cci-lite-staging": {"name": "cci-lite-staging", "synthesizedStackPath": "x/cdk.tf.json"}},
                "version": "0.21.0",
            }
        ).encode(),
        "stacks/cci-lite-staging/cdk.tf.json": b'{"new": 1}',
    }
    publish(final, synth_of(only_staging), keep_stacks=["cci-lite-production", "cci-lite-dev"])
    manifest = json.loads((final / "manifest.json").read_text())
    assert manifest["stacks"] == {
        "cci-lite-production": {
            "name": "cci-lite-production",
            "synthesizedStackPath": "stacks/cci-lite-production/cdk.tf.json",
        },
        "cci-lite-staging": {"name": "cci-lite-staging", "synthesizedStackPath": "x/cdk.tf.json"},
    }


def test_failed_synth_leaves_the_previous_output_byte_for_byte(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of(OLD))
    place(final, TERRAFORM_AND_USER_FILES)
    before = output_files(final)

    def half_written(staging: Path) -> None:
        synth_of({"stacks/cci-lite-production/cdk.tf.json": b"{"})(staging)
        raise RuntimeError("synth failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        publish(final, half_written)
    assert output_files(final) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cdktf.out.lock", "cdktf.out"]


def test_output_without_a_manifest_is_not_published(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    with pytest.raises(RuntimeError, match=r"wrote no manifest\.json"):
        publish(final, synth_of({f"{STACK}/cdk.tf.json": b"{}"}))
    assert list(tmp_path.iterdir()) == []


def test_interrupted_publish_leaves_only_whole_files_and_the_next_synth_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of(OLD))
    real_replace = output._replace
    moves: list[Path] = []

    def interrupted(source: Path, destination: Path) -> None:
        if len(moves) == 2:
            raise KeyboardInterrupt  # Ctrl-C between two files
        moves.append(destination)
        real_replace(source, destination)

    monkeypatch.setattr(output, "_replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish(final, synth_of(NEW))
    files = output_files(final)
    assert all(name in OLD for name in generated(final))  # no temporary or partial name
    assert sorted(name for name in OLD if files[name] == NEW[name]) == [
        f"{STACK}/.terraform.lock.hcl",
        f"{STACK}/cdk.tf.json",
    ]  # the two moved files are whole; the others are whole and old
    assert not list(tmp_path.glob(".cdktf.out.new-*"))

    monkeypatch.setattr(output, "_replace", real_replace)
    publish(final, synth_of(NEW))
    assert generated(final) == NEW


def test_a_state_file_in_the_stack_directory_survives_every_synth(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    state = TERRAFORM_AND_USER_FILES[f"{STACK}/terraform.tfstate"]
    for synth in (OLD, NEW, OLD):
        publish(final, synth_of(synth))
        place(final, {} if (final / STACK / "terraform.tfstate").exists() else {f"{STACK}/terraform.tfstate": state})
    assert (final / STACK / "terraform.tfstate").read_bytes() == state


# --- the real main job: killed, and run twice at once ---------------------------------------


@contextmanager
def holding_the_lock(final: Path) -> Iterator[None]:
    """Hold the output directory's lock, as a synth moving its files does."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(final), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def start_main(final: Path, tenants: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CDKTF_OUTDIR": str(final), "CCI_TENANTS_FILE": str(tenants)}
    return subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "main.py")],
        cwd=final.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_the_lock(process: subprocess.Popen[str]) -> str:
    """Read the process's first stderr line: the note that it waits for the lock."""
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.startswith("note: waiting for another synth to finish writing "), line
    return line


def write_tenants(path: Path, *ids: str) -> Path:
    path.write_text(json.dumps({"tenants": [{"tenant_id": i} for i in ids]}), encoding="utf-8")
    return path


def test_synth_killed_before_it_publishes_leaves_the_previous_output_and_its_leftovers_go(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    publish(final, synth_of(OLD))
    before = output_files(final)
    with holding_the_lock(final):
        process = start_main(final, write_tenants(tmp_path / "t.json", "acme"))
        wait_for_the_lock(process)  # its synth is complete and staged; it waits to move the files
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    assert output_files(final) == before
    assert len(list(tmp_path.glob(".cdktf.out.new-*"))) == 1  # a killed process cleans nothing up
    publish(final, synth_of(NEW))
    assert not list(tmp_path.glob(".cdktf.out.new-*"))  # the next synth removes a dead synth's leftovers
    assert generated(final) == NEW


def test_two_synths_at_once_both_succeed_one_after_the_other(tmp_path: Path) -> None:
    final = tmp_path / "cdktf.out"
    with holding_the_lock(final):
        first = start_main(final, write_tenants(tmp_path / "first.json", "acme"))
        second = start_main(final, write_tenants(tmp_path / "second.json", "acme", "globex"))
        wait_for_the_lock(first)
        wait_for_the_lock(second)
        assert not final.exists()  # neither has moved a file while the lock is held
    results = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert [first.returncode, second.returncode] == [0, 0], results
    tenants = json.loads((final / STACK / "tenants.tf.json").read_text())["locals"]["tenant_config_items"]
    assert sorted(tenants) in (["acme"], ["acme", "globex"])
    for unit in (final, final / STACK):  # every file is the one its record names: one synth's output
        assert read_record(unit) == {name: output._sha256(unit / name) for name in read_record(unit)}
    assert not list(tmp_path.glob(".cdktf.out.new-*"))


def test_output_on_another_file_system_is_still_replaced_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.replace cannot cross file systems (a mounted cdktf.out): copy beside, then rename."""
    final = tmp_path / "cdktf.out"
    publish(final, synth_of(OLD))
    real_replace = os.replace
    renamed: list[str] = []

    def no_cross_device(source: str | Path, destination: str | Path) -> None:
        if ".cdktf.out.new-" in str(source):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        renamed.append(Path(source).name)
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", no_cross_device)
    publish(final, synth_of(NEW))
    assert generated(final) == NEW
    assert not [name for name in renamed if name.endswith((".tf", ".tf.json"))]  # temporaries are never *.tf.json
