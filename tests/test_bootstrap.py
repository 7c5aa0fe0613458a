"""scripts/bootstrap says what each set-up step does, that a long one is still running, and how long each took.

The real script runs in a scratch project whose ``python3`` and ``node`` are stand-ins:
``pipenv sync`` takes a few seconds and creates ``.venv``, and the fast-path step
reports what it prepared. No package is installed. The heartbeat is set to one second
(``CCI_BOOTSTRAP_HEARTBEAT_S``) so that a step of three seconds must report it is
still running; the assertions are on the lines, never on the durations.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.helpers import PROJECT_DIR

BASICS = ("bash", "env", "dirname", "cat", "cut", "rm", "mkdir", "sleep", "sha256sum", "cp", "touch")

FAKE_PYTHON3 = """#!/bin/bash
# python3 -c '<is pipenv installed?>' -> yes; python3 -m pipenv sync ... -> 3 s, then a .venv
case "$1 $2" in
  "-c "*) exit 0 ;;
  "-m pipenv") sleep 3; mkdir -p .venv/bin; cp "$FAKES/venv-python" .venv/bin/python; exit 0 ;;
esac
echo "unexpected: python3 $*" >&2
exit 99
"""

FAKE_VENV_PYTHON = """#!/bin/bash
# .venv/bin/python -m constructs_lib.fast_load [--check]
case "$*" in
  "-m constructs_lib.fast_load --check") [[ -f .venv/warm ]]; exit ;;
  "-m constructs_lib.fast_load")
    touch .venv/warm
    echo "fast load path: prepared (lazy bindings built, jsii index written)"
    exit 0 ;;
esac
echo "unexpected: python $*" >&2
exit 99
"""


def scratch_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "project"
    for name in ("scripts/bootstrap", "scripts/env.sh", "Pipfile.lock"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, project / name)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in BASICS:
        found = shutil.which(name)
        assert found, name
        (bin_dir / name).symlink_to(found)
    for path, text in (
        (bin_dir / "python3", FAKE_PYTHON3),
        (bin_dir / "node", "#!/bin/sh\nexit 0\n"),
        (fakes / "venv-python", FAKE_VENV_PYTHON),
    ):
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "FAKES": str(fakes),
        "CCI_BOOTSTRAP_HEARTBEAT_S": "1",
    }
    return project, env


def bootstrap(project: Path, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        ["scripts/bootstrap"], cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


def test_bootstrap_reports_each_step_a_long_one_still_running_and_its_duration(tmp_path: Path) -> None:
    project, env = scratch_project(tmp_path)
    lines = bootstrap(project, env)

    sync = "installing the Python packages of Pipfile.lock into .venv (pipenv sync)"
    assert lines[0] == f"bootstrap: {sync} ..."
    heartbeats = [line for line in lines if line.startswith("bootstrap:   ... still ")]
    assert heartbeats, lines  # a 3 s step with a 1 s heartbeat is never silent
    for line in heartbeats:
        assert re.fullmatch(rf"bootstrap:   \.\.\. still {re.escape(sync)} \(\d+\.\d s so far\)", line), line
    rest = lines[1 + len(heartbeats) :]
    assert re.fullmatch(r"bootstrap:   done in \d+\.\d s", rest[0]), rest
    fast = (
        "preparing the fast load path of the AWS provider bindings "
        "(lazy package copy and jsii's type index, once per install)"
    )
    assert rest[1] == f"bootstrap: {fast} ..."
    assert rest[2] == "fast load path: prepared (lazy bindings built, jsii index written)"
    assert re.fullmatch(r"bootstrap:   done in \d+\.\d s", rest[3]), rest
    assert re.fullmatch(r"bootstrap: set-up finished in \d+\.\d s", rest[4]), rest
    assert len(rest) == 5, rest
    assert (project / ".venv" / ".cci-pipfile-lock").read_text().split() == [
        subprocess.run(["sha256sum", "Pipfile.lock"], cwd=project, capture_output=True, text=True).stdout.split()[0],
        "default",
    ]

    # Again, with nothing to do: one line, and pipenv sync is not run (its stand-in would take 3 s).
    (again,) = bootstrap(project, env)
    assert re.fullmatch(r"bootstrap: up to date: Python packages, fast load path \(checked in \d+\.\d s\)", again)

    # A changed lock file is synced again.
    with open(project / "Pipfile.lock", "a", encoding="utf-8") as lock:
        lock.write("\n")
    assert bootstrap(project, env)[0] == f"bootstrap: {sync} ..."


def test_bootstrap_stops_at_a_failing_step_with_its_status_and_no_heartbeat_left(tmp_path: Path) -> None:
    project, env = scratch_project(tmp_path)
    (Path(env["PATH"]) / "python3").write_text(
        '#!/bin/bash\ncase "$1" in -c) exit 0 ;; esac\necho "pipenv: no network" >&2\nexit 7\n', encoding="utf-8"
    )
    result = subprocess.run(
        ["scripts/bootstrap"], cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 7
    lines = result.stderr.splitlines()
    assert lines[1] == "pipenv: no network"
    assert re.fullmatch(
        r"bootstrap: FAILED after \d+\.\d s: installing the Python packages of Pipfile\.lock into \.venv "
        r"\(pipenv sync\) \(exit status 7\); the lines above say why",
        lines[2],
    ), lines
    assert len(lines) == 3
    assert not os.path.exists(project / ".venv")


def test_bootstrap_heartbeat_of_a_step_that_ends_at_once_stops_without_shell_noise_heartbeat_race(
    tmp_path: Path,
) -> None:
    # A step that ends before its heartbeat subshell has reset the traps it inherits: stopping the heartbeat
    # with a TERM then ran the script's EXIT trap in it, and bash printed "wait_for: No record of process"
    # (9 bootstraps in 25 on a loaded machine). The window is widest for a step that ends at once: here the
    # script's own heartbeat functions and traps, a step that is a builtin, 200 times.
    script = (PROJECT_DIR / "scripts" / "bootstrap").read_text(encoding="utf-8")
    start = script.index("say() {")
    end = script.index("\n", script.index("trap 'stop_heartbeat; exit 143' TERM"))
    harness = tmp_path / "harness"
    harness.write_text(
        "#!/usr/bin/env bash\nset -euo pipefail\nHEARTBEAT_S=1\n"
        + script[start:end]
        + '\nfor _ in $(seq 200); do clock now; heartbeat "a step" "$now" & BEAT=$!; true; stop_heartbeat; done\n',
        encoding="utf-8",
    )
    result = subprocess.run(["bash", str(harness)], capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
