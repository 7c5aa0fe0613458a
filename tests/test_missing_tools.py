"""No documented command ends in a traceback when a tool it needs is missing.

Each case runs a command the README documents, as a subprocess, in a copy of the
project's tracked files, with only chosen tools on ``PATH``: the command must exit
with status 2, print nothing but ``error: ...`` lines, each naming what is missing
and the command that installs it, and no ``Traceback``.

``pipenv run X`` is run as pipenv runs it: the ``[scripts]`` line of the Pipfile with
``python`` being an interpreter that has the project's packages (a throw-away
virtualenv that points at the project's site-packages) but none of the tools that
live beside it (moto_server, checkov). ``pipenv run test`` (pytest) is left out: it
cannot run inside the suite, and its Terraform and emulator tests skip or, in CI,
fail by name (tests/helpers.py: require_tool).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from cci_tools import tools
from constructs_lib.runtime import NODE_INSTALL
from tests.helpers import PROJECT_DIR, require_tool

#: Commands the scripts themselves run, present in every case.
BASICS = ("bash", "sh", "env", "dirname", "cat", "cut", "rm", "mkdir", "sleep", "sha256sum")

NODE_MISSING = f"node not found on PATH: the AWS provider bindings run in Node.js (jsii); {NODE_INSTALL}"


@dataclass(frozen=True, kw_only=True)
class Sandbox:
    project: Path  # a copy of the files git tracks or would: no .venv, .venv-checkov, node_modules
    python: Path  # has the project's Python packages, but no tool scripts beside it
    bare_python: Path  # no packages at all: no pipenv, no pip
    system_python: Path  # the interpreter behind python3 (pipenv is installed for it)
    tmp: Path

    def path(self, *tools_on_path: str, python3: Path | None = None) -> str:
        """A PATH of one directory holding the basics, the given tools and ``python3``."""
        directory = self.tmp / f"bin-{len(list(self.tmp.glob('bin-*')))}"
        directory.mkdir()
        for name in (*BASICS, *tools_on_path):
            (directory / name).symlink_to(require_tool(name, shutil.which(name)))
        # A script, not a symlink: Python resolves a symlink to the base interpreter and
        # would leave the virtualenv behind (and its missing pip with it).
        launcher = directory / "python3"
        launcher.write_text(f'#!/bin/sh\nexec "{python3 or self.system_python}" "$@"\n', encoding="utf-8")
        launcher.chmod(0o755)
        return str(directory)

    def run(self, command: list[str], path: str, **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CCI_", "PIPENV_", "VIRTUAL_ENV"))}
        return subprocess.run(
            command,
            cwd=self.project,
            env={**clean, "PATH": path, "HOME": os.environ.get("HOME", str(self.tmp)), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def pipenv_run(self, script: str, *args: str, path: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``pipenv run <script> <args>`` as pipenv runs it: the Pipfile's [scripts] line."""
        scripts = tomllib.loads((self.project / "Pipfile").read_text(encoding="utf-8"))["scripts"]
        command = shlex.split(scripts[script])
        assert command[0] == "python", command
        return self.run([str(self.python), *command[1:], *args], path, **env)


def virtualenv(directory: Path, packages: Path | str | None = None) -> Path:
    """A virtualenv without pip in ``directory``, its python returned; with ``packages``, it also sees that
    directory's packages through a .pth file (its bin/ still has only python)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / "bin" / "python"
    if packages is not None:
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(purelib) / "packages.pth").write_text(f"{packages}\n", encoding="utf-8")
    return python


def _system_python() -> Path:
    """The real interpreter behind ``python3`` on PATH (not a pyenv shim, not this virtualenv)."""
    shown = subprocess.run(
        ["python3", "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True
    )
    return Path(shown.stdout.strip())


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    tmp = tmp_path_factory.mktemp("missing-tools")
    project = tmp / "project"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, tracked):
        if (PROJECT_DIR / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_DIR / name, project / name)
    # A virtualenv that sees the project's packages through a .pth file; its bin/ has
    # only python, so moto_server and checkov are not beside sys.executable.
    return Sandbox(
        project=project,
        python=virtualenv(tmp / "shadow-venv", sysconfig.get_paths()["purelib"]),
        bare_python=virtualenv(tmp / "bare-venv"),
        system_python=_system_python(),
        tmp=tmp,
    )


def errors_of(result: subprocess.CompletedProcess[str], *, tool: bool = True) -> list[str]:
    """The error lines of a refused run, after checking it refused cleanly (for a missing ``tool``, with its fix)."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = [line for line in result.stderr.splitlines() if not line.startswith(("bootstrap: ", "note: "))]
    assert lines and all(line.startswith("error: ") for line in lines), output
    for line in lines:  # each says what to run or install
        assert not tool or "run " in line or "install " in line, line
    return [line.removeprefix("error: ") for line in lines]


# --- pipenv run ... -------------------------------------------------------------------------


def test_refuses_scan_without_checkov_in_one_line(sandbox: Sandbox, synth_file: Path) -> None:
    # The known case: after only scripts/synth, `pipenv run scan` ended in a traceback.
    out_dir = synth_file.parent.parent.parent
    result = sandbox.pipenv_run("scan", path=sandbox.path("node"), CDKTF_OUTDIR=str(out_dir))
    assert errors_of(result) == [
        "checkov not found (neither .venv-checkov/bin/checkov nor checkov on PATH): "
        "run scripts/bootstrap --dev, which installs the pinned checkov into .venv-checkov"
    ]


def test_refuses_demo_without_terraform_or_emulator_naming_each(sandbox: Sandbox) -> None:
    result = sandbox.pipenv_run("demo", path=sandbox.path("node"))
    assert errors_of(result) == [tools.MISSING["terraform"], tools.MISSING["moto_server"]]


def test_refuses_demo_without_node_before_starting_anything(sandbox: Sandbox) -> None:
    result = sandbox.pipenv_run("demo", path=sandbox.path("terraform"))
    assert errors_of(result) == [NODE_MISSING, tools.MISSING["moto_server"]]


@pytest.mark.parametrize("command", ["pipenv run synth", "python main.py"])
def test_refuses_synth_without_node_in_one_line(sandbox: Sandbox, command: str, tmp_path: Path) -> None:
    path = sandbox.path("terraform")
    if command == "pipenv run synth":
        result = sandbox.pipenv_run("synth", path=path, CDKTF_OUTDIR=str(tmp_path / "out"))
    else:
        result = sandbox.run([str(sandbox.python), "main.py"], path, CDKTF_OUTDIR=str(tmp_path / "out"))
    assert errors_of(result) == [NODE_MISSING]
    assert not (tmp_path / "out").exists()


def test_refuses_synth_without_the_python_packages_in_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    result = sandbox.run([str(sandbox.bare_python), "main.py"], sandbox.path("node"), CDKTF_OUTDIR=str(tmp_path))
    (message,) = errors_of(result)
    assert message == (
        f"the project's Python packages are not installed for {sandbox.bare_python} "
        "(no module regress, jsonschema, jsii, cdktf, constructs, cdktf_cdktf_provider_aws): "
        "run scripts/bootstrap, then pipenv run synth"
    )


@pytest.mark.parametrize("tool", ["audit", "adopt", "scan", "demo"])
def test_refuses_a_tool_without_the_python_packages_in_one_line_missing_packages(sandbox: Sandbox, tool: str) -> None:
    # The tester's repro: pipenv run audit / adopt / demo before scripts/bootstrap ended in ModuleNotFoundError.
    result = sandbox.run([str(sandbox.bare_python), "-m", f"cci_tools.{tool}"], sandbox.path("node"))
    assert errors_of(result) == [
        f"{tool}: the project's Python packages are not installed for {sandbox.bare_python} (no module regress, "
        f"jsonschema, jsii, cdktf, constructs, cdktf_cdktf_provider_aws, boto3): run scripts/bootstrap, then pipenv "
        f"run {tool}"
    ]


def test_audit_needs_no_optional_tool_and_a_missing_plan_is_one_line(sandbox: Sandbox, synth_file: Path) -> None:
    stack_dir = synth_file.parent
    path = sandbox.path()  # no node, terraform, checkov or emulator
    report = sandbox.tmp / "report.md"
    made = sandbox.pipenv_run("audit", "--stack-dir", str(stack_dir), "--output", str(report), path=path)
    assert made.returncode == 0, made.stderr
    assert report.read_text(encoding="utf-8").startswith("# ")
    result = sandbox.pipenv_run(
        "audit", "--stack-dir", str(stack_dir), "--output", str(report), "--plan", "plan.json", path=path
    )
    assert errors_of(result, tool=False) == ["audit: plan.json: No such file or directory"]


def test_adopt_without_credentials_or_a_discovery_file_is_one_line_each(sandbox: Sandbox) -> None:
    path = sandbox.path()  # no node, terraform, checkov or emulator
    nowhere = str(sandbox.tmp / "no-such-aws-file")
    no_aws = {"AWS_SHARED_CREDENTIALS_FILE": nowhere, "AWS_CONFIG_FILE": nowhere, "AWS_EC2_METADATA_DISABLED": "true"}
    out = sandbox.tmp / "adopt.json"
    result = sandbox.pipenv_run("adopt", "--out", str(out), path=path, **no_aws)
    (message,) = errors_of(result, tool=False)
    assert message.startswith("adopt: cannot read account 591338347562: no AWS credentials found"), message
    assert not out.exists()
    taken = sandbox.pipenv_run("adopt", "take-over", "demo-tenant", path=path, CCI_ADOPT_FILE=str(out), **no_aws)
    (message,) = errors_of(taken, tool=False)
    assert "adopt_file names a file that does not exist; run discovery first" in message, message


# --- scripts/* --------------------------------------------------------------------------------


@pytest.mark.parametrize("script", ["scripts/synth", "scripts/test", "scripts/demo"])
def test_refuses_scripts_without_node_before_installing_anything(sandbox: Sandbox, script: str) -> None:
    result = sandbox.run([script], sandbox.path("npm"))
    assert errors_of(result) == [f"{NODE_MISSING}, then run scripts/bootstrap again"]
    assert not (sandbox.project / ".venv").exists()


@pytest.mark.parametrize("script", ["scripts/test", "scripts/demo"])
def test_refuses_dev_scripts_without_npm(sandbox: Sandbox, script: str) -> None:
    result = sandbox.run([script], sandbox.path("node"))
    assert errors_of(result) == [
        "npm not found on PATH: the cdktf CLI and the IAM policy evaluator are npm packages; install npm "
        "(it comes with Node.js; or apt-get install npm), then run scripts/bootstrap --dev again"
    ]
    assert not (sandbox.project / ".venv").exists()


def test_refuses_scripts_without_pipenv_or_pip_to_install_it(sandbox: Sandbox) -> None:
    path = sandbox.path("node", python3=sandbox.bare_python)
    result = sandbox.run(["scripts/synth"], path)
    assert errors_of(result) == [
        f"pipenv is not installed for python3 ({path}/python3), and that python3 has no pip to install it: "
        "run python3 -m ensurepip --upgrade (or apt-get install python3-pip), then scripts/bootstrap again"
    ]


def test_refuses_the_cdktf_wrapper_without_the_pinned_cli(sandbox: Sandbox) -> None:
    result = sandbox.run(["scripts/cdktf", "synth"], sandbox.path("node", "pipenv"))
    assert errors_of(result) == [
        "the pinned cdktf CLI is not installed (node_modules/.bin/cdktf): run scripts/bootstrap --dev (or npm ci)"
    ]


@pytest.mark.parametrize("without", [("hypothesis", "moto"), ("pytest", "_pytest", "hypothesis", "moto")])
def test_refuses_tests_without_the_dev_packages_in_one_line_dev_packages(
    tmp_path: Path, without: tuple[str, ...]
) -> None:
    # What scripts/synth leaves: the project's packages without the dev packages (the pytest of some other
    # installation may still be found).
    packages = tmp_path / "packages"
    packages.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(without):
            (packages / entry.name).symlink_to(entry)
    python = virtualenv(tmp_path / "venv", packages)
    absent = ", ".join(m for m in ("pytest", "hypothesis", "moto") if m in without)
    expected = [
        f"error: the tests need the dev packages, which are not installed for {python} (no module {absent}): run "
        "scripts/bootstrap --dev (scripts/test runs it), then pipenv run pytest"
    ]
    commands = [["-m", "tests.test_isolation"]]
    if "pytest" not in without:
        commands.append(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_naming.py"])
    for command in commands:
        result = subprocess.run(
            [str(python), *command], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False
        )
        assert (result.returncode, result.stdout, result.stderr.splitlines()) == (2, "", expected), command


def test_refuses_to_run_in_a_virtualenv_pipenv_made_outside_the_project_stray_venv(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # `pipenv run synth` before scripts/bootstrap: pipenv makes <WORKON_HOME>/<project>-<hash> and runs there.
    home = tmp_path / "virtualenvs"
    venv = home / f"{sandbox.project.name}-Ab12Cd34"
    python = virtualenv(venv, sysconfig.get_paths()["purelib"])
    path = sandbox.path("node")
    pipenv = {"PIPENV_ACTIVE": "1", "WORKON_HOME": str(home), "CDKTF_OUTDIR": str(tmp_path / "out")}
    before = (
        f"pipenv made a virtualenv outside the project ({venv}) because scripts/bootstrap has not run yet: remove "
        "it with `pipenv --rm`, then run scripts/bootstrap (it makes the project's .venv)"
    )
    assert errors_of(sandbox.run([str(python), "main.py"], path, **pipenv)) == [before]
    assert errors_of(sandbox.run([str(python), "-m", "cci_tools.audit"], path, **pipenv)) == [f"audit: {before}"]
    assert not (tmp_path / "out").exists()
    # The virtualenv pipenv really makes there is empty: every tool and the tests say the same, before any import.
    empty = home / f"{sandbox.project.name}-Ef56Gh78"
    virtualenv(empty)
    stray = before.replace(str(venv), str(empty))
    for tool in ("audit", "adopt", "scan", "demo"):
        ran = sandbox.run([str(empty / "bin" / "python"), "-m", f"cci_tools.{tool}"], path, **pipenv)
        assert errors_of(ran) == [f"{tool}: {stray}"], tool
    tests = sandbox.run([str(empty / "bin" / "python"), "-m", "tests.test_isolation"], path, **pipenv)
    assert errors_of(tests) == [stray]
    # Once scripts/bootstrap has made .venv, a command pipenv still runs in the other virtualenv says how to stop it.
    (sandbox.project / ".venv").mkdir()
    try:
        (after,) = errors_of(sandbox.run([str(python), "main.py"], path, **pipenv))
    finally:
        (sandbox.project / ".venv").rmdir()
    assert after == (
        f"pipenv runs this in {venv}, a virtualenv outside the project, not in the project's .venv: run with "
        f"PIPENV_VENV_IN_PROJECT=1 (scripts/env.sh sets it), and remove that virtualenv (rm -rf {venv})"
    )
    # The same interpreter outside pipenv run is not refused for it (here it synthesizes).
    direct = sandbox.run([str(python), "main.py"], path, CDKTF_OUTDIR=str(tmp_path / "out"))
    assert direct.returncode == 0, direct.stderr
