"""Ctrl-C in the documented commands: one line, exit status 130, and what it says about the output is true.

A Ctrl-C in a terminal reaches the whole foreground process group: the synth and its jsii
kernel (node). Each test runs main.py in a process group of its own through a small
driver that delivers SIGINT at one chosen point (deterministic injection, no timing): the
settings check, the synth with the jsii kernel running (to the whole group, as a terminal
does), a failure of a kernel that Ctrl-C killed, and the move of the new files into place.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from constructs_lib.output import output_files
from tests.helpers import PROJECT_DIR

#: Runs main.py with SIGINT delivered at the point named by argv[1].
DRIVER = """
import os, signal, sys, time
sys.path.insert(0, os.environ["CCI_PROJECT_DIR"])
point = sys.argv[1]

if point == "settings":
    import constructs_lib.config as config
    original_settings = config.load_app_settings
    def load_app_settings(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the settings are checked: no binding loaded yet
        return original_settings(*args, **kwargs)
    config.load_app_settings = load_app_settings
elif point == "kernel":
    # Patched once main.py has set up how the kernel starts, as it loads the bindings after that.
    import constructs_lib.interrupts as interrupts
    original_isolate = interrupts.isolate_jsii_kernel
    def isolate_jsii_kernel():
        isolated = original_isolate()
        import constructs_lib.app as app
        original_build = app.build_environments
        app.build_environments = lambda *args, **kwargs: build_environments(original_build, *args, **kwargs)
        return isolated
    interrupts.isolate_jsii_kernel = isolate_jsii_kernel
    def build_environments(original_build, *args, **kwargs):
        built = original_build(*args, **kwargs)  # the jsii kernel is running
        from jsii._runtime import kernel
        node = kernel.provider._process._process.pid
        with open(os.environ["CCI_KERNEL_REPORT"], "w") as report:
            report.write(f"{node} {os.getsid(node) != os.getsid(0)}")
        os.killpg(os.getpgrp(), signal.SIGINT)  # the terminal's Ctrl-C, to the whole foreground group
        time.sleep(3)
        return built
elif point == "kernel-failed":
    import json
    import constructs_lib.app as app
    def build_environments(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(3)
        except KeyboardInterrupt:
            pass  # swallowed on the way, as a library between us and a dead kernel may
        return json.loads("")  # what reading the closed pipe of a kernel killed by Ctrl-C gives
    app.build_environments = build_environments
elif point == "moving":
    import constructs_lib.output as output
    original_move = output._move_unit
    def move_unit(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the new files move into place
        return original_move(*args, **kwargs)
    output._move_unit = move_unit

import runpy
sys.argv = ["main.py"]
runpy.run_path(os.path.join(os.environ["CCI_PROJECT_DIR"], "main.py"), run_name="__main__")
"""

NEW_TENANT = {"tenant_id": "newco", "display_name": "NewCo", "kms_guard": True}


def synth(
    out: Path, tmp_path: Path, point: str | None = None, *, tenants: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CDKTF_OUTDIR": str(out),
        "CCI_PROJECT_DIR": str(PROJECT_DIR),
        "CCI_KERNEL_REPORT": str(tmp_path / "kernel.txt"),
    }
    env.pop("CCI_DEBUG", None)
    if tenants is not None:
        env["CCI_TENANTS_FILE"] = str(tenants)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    command = [sys.executable, str(driver), point] if point else [sys.executable, str(PROJECT_DIR / "main.py")]
    return subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,  # its own process group: the group's SIGINT reaches main.py and node, not pytest
    )


@pytest.fixture()
def published(tmp_path: Path) -> tuple[Path, dict[str, bytes], Path]:
    """An output directory with a finished synth of the shipped tenants; a tenants file with one more."""
    out = tmp_path / "cdktf.out"
    first = synth(out, tmp_path)
    assert first.returncode == 0, first.stderr
    tenants = json.loads((PROJECT_DIR / "tenants.json").read_text(encoding="utf-8"))
    tenants["tenants"].append(NEW_TENANT)
    more = tmp_path / "more-tenants.json"
    more.write_text(json.dumps(tenants), encoding="utf-8")
    return out, output_files(out), more


@pytest.mark.parametrize("point", ["settings", "kernel", "kernel-failed"])
def test_interrupted_synth_says_so_in_one_line_and_leaves_the_output_as_it_was_interrupt(
    published: tuple[Path, dict[str, bytes], Path], tmp_path: Path, point: str
) -> None:
    out, before, more = published
    result = synth(out, tmp_path, point, tenants=more)
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines() == [f"error: interrupted; nothing was published: {out} is as it was"]
    assert result.stdout == ""
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert output_files(out) == before  # byte for byte
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".cdktf.out.new-")]  # no staging left
    if point == "kernel":
        # The terminal's Ctrl-C never reached the jsii kernel: it runs in a session of its own, and ends when the
        # synth does (its stdin closes).
        pid, isolated = (tmp_path / "kernel.txt").read_text(encoding="utf-8").split()
        assert isolated == "True"
        assert wait_until_gone(int(pid))


def wait_until_gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_synth_interrupted_while_its_files_move_finishes_the_move_first_interrupt(
    published: tuple[Path, dict[str, bytes], Path], tmp_path: Path
) -> None:
    out, _, more = published
    result = synth(out, tmp_path, "moving", tenants=more)
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines() == [f"error: interrupted after the new output was written in full to {out}"]
    # The output is the new synth, whole: the same bytes as an uninterrupted synth of the same settings.
    reference = tmp_path / "reference" / "cdktf.out"
    clean = synth(reference, tmp_path, tenants=more)
    assert clean.returncode == 0, clean.stderr
    assert output_files(out) == output_files(reference)
    assert "newco" in (out / "stacks" / "cci-lite-production" / "tenants.tf.json").read_text(encoding="utf-8")


def test_interrupted_audit_says_so_and_keeps_the_report_whole_interrupt(tmp_path: Path) -> None:
    driver = tmp_path / "audit_driver.py"
    driver.write_text(
        "import os, signal, sys, runpy\n"
        "sys.path.insert(0, os.environ['CCI_PROJECT_DIR'])\n"
        "import cci_tools.provenance as provenance\n"
        "original = provenance.stack_files\n"
        "def stack_files(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    return original(*args, **kwargs)\n"
        "provenance.stack_files = stack_files\n"
        "sys.argv = ['audit', *sys.argv[1:]]\n"
        "runpy.run_module('cci_tools.audit', run_name='__main__', alter_sys=True)\n",
        encoding="utf-8",
    )
    out = tmp_path / "cdktf.out"
    assert synth(out, tmp_path).returncode == 0
    report = tmp_path / "report.md"
    report.write_text("the previous report\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            str(driver),
            "--stack-dir",
            str(out / "stacks" / "cci-lite-production"),
            "--output",
            str(report),
        ],
        cwd=tmp_path,
        env={**os.environ, "CCI_PROJECT_DIR": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (130, "")
    assert result.stderr.splitlines() == ["error: audit: interrupted; the report file is as it was, or written in full"]
    assert report.read_text(encoding="utf-8") == "the previous report\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_interrupt_module_runs_a_deferred_block_to_its_end_then_raises_interrupt() -> None:
    from constructs_lib import interrupts

    done = []
    with pytest.raises(interrupts.InterruptedAfter), interrupts.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("after the signal")
    assert done == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
