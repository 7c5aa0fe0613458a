"""What a report was made from: file digests, the plan, the product version and the commit. No jsii import.

An auditor signs a report for particular inputs, so every report names them:

- the SHA-256 of each file of the synthesized stack it read: every ``*.tf.json`` of the
  stack directory (Terraform reads them all as one module) and the provider lock file
  ``.terraform.lock.hcl``; ``sha256sum`` on the same files must print the same digests;
- for a plan review, the SHA-256 of the plan file (``terraform show -json`` output) and
  the Terraform version and time the plan records;
- the product version (``constructs_lib.__version__``) and the commit.

The commit: the committed ``AUDIT.md`` cannot contain the hash of the commit that
contains it, so it names "the commit that contains this file" (``CONTAINING``),
and a test holds it equal, byte for byte, to what that commit's code writes for the
shipped settings. Every other report (a plan review, or ``--output`` elsewhere) records
``git rev-parse HEAD`` of the project and whether the working tree had uncommitted
changes then (``git status --porcelain``: modified, staged or untracked files, ignored
ones aside), or why that is unknown (not a git checkout, git not installed).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cci_tools.display import code
from constructs_lib import __version__

LOCK_FILE = ".terraform.lock.hcl"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stack_files(stack_dir: Path) -> tuple[tuple[str, str], ...]:
    """(name, SHA-256) of every ``*.tf.json`` of ``stack_dir`` and its lock file, by name."""
    paths = [*stack_dir.glob("*.tf.json"), stack_dir / LOCK_FILE]
    return tuple(sorted((p.name, sha256_of(p)) for p in paths if p.is_file()))


@dataclass(frozen=True, kw_only=True)
class Commit:
    """The commit a report was made at: a hash, or why there is none; ``CONTAINING`` for the committed report."""

    #: ``git rev-parse HEAD``, when known.
    sha: str | None = None
    #: How many paths ``git status --porcelain`` listed (uncommitted changes), when ``sha`` is set.
    changed: int = 0
    #: Why the commit or the tree's state is unknown.
    unknown: str | None = None

    @property
    def containing(self) -> bool:
        """Is this the committed report's commit, "the commit that contains this file"?"""
        return self.sha is None and self.unknown is None

    def describe(self) -> str:
        if self.containing:
            return "the commit that contains this file"
        if self.sha is None:
            return f"unknown ({self.unknown})"
        if self.unknown is not None:
            return f"`{self.sha}`; whether the tree had uncommitted changes is unknown ({self.unknown})"
        if self.changed:
            return f"`{self.sha}`, with uncommitted changes ({self.changed} path(s) in `git status --porcelain`)"
        return f"`{self.sha}`, with no uncommitted changes"


#: The committed report names the commit that contains it.
CONTAINING = Commit()


def current_commit(project_dir: Path) -> Commit:
    """The project's HEAD and whether its working tree has uncommitted changes, or why that is unknown."""
    git = shutil.which("git")
    if git is None:
        return Commit(unknown="git is not installed")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([git, *args], cwd=project_dir, capture_output=True, text=True, timeout=60, check=False)

    head = run("rev-parse", "--verify", "HEAD")
    if head.returncode != 0:
        return Commit(unknown="not a git checkout" if "not a git repository" in head.stderr else "no commit yet")
    status = run("status", "--porcelain")
    if status.returncode != 0:
        return Commit(sha=head.stdout.strip(), unknown="git status failed")
    return Commit(sha=head.stdout.strip(), changed=len(status.stdout.splitlines()))


@dataclass(frozen=True, kw_only=True)
class PlanFile:
    """The plan a review was made from: its file, digest, and what Terraform recorded in it."""

    name: str
    sha256: str
    terraform_version: str | None = None
    format_version: str | None = None
    timestamp: str | None = None

    @staticmethod
    def of(path: Path, plan: dict[str, Any]) -> PlanFile:
        def text(key: str) -> str | None:
            value = plan.get(key)
            return value if isinstance(value, str) else None

        return PlanFile(
            name=path.name,
            sha256=sha256_of(path),
            terraform_version=text("terraform_version"),
            format_version=text("format_version"),
            timestamp=text("timestamp"),
        )


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Everything a report names as its source."""

    stack: str
    files: tuple[tuple[str, str], ...]
    commit: Commit
    plan: PlanFile | None = None
    version: str = __version__

    @property
    def committed(self) -> bool:
        return self.commit.containing

    def lines(self) -> list[str]:
        """The report's Provenance section (Markdown), each value shown with cci_tools.display.code."""
        lines = [
            "## Provenance",
            "",
            f"Made from these files of the synthesized stack {code(self.stack)} "
            f"(`cdktf.out/stacks/{self.stack}/` by default; check them with `sha256sum`):",
            "",
            "| File | SHA-256 |",
            "| --- | --- |",
            *(f"| {code(name)} | `{digest}` |" for name, digest in self.files),
            "",
        ]
        if self.plan is not None:
            recorded = ", ".join(
                part
                for part in (
                    f"Terraform {code(self.plan.terraform_version)}" if self.plan.terraform_version else "",
                    f"format {code(self.plan.format_version)}" if self.plan.format_version else "",
                    f"made {code(self.plan.timestamp)}" if self.plan.timestamp else "",
                )
                if part
            )
            lines += [
                f"Plan: {code(self.plan.name)}, SHA-256 `{self.plan.sha256}` (`terraform show -json` output"
                + (f"; {recorded}" if recorded else "")
                + ").",
                "",
            ]
        lines.append(f"Product: CCI Lite foundation generator `{self.version}`. Commit: {self.commit.describe()}.")
        if self.committed:
            lines.append(
                "This is the committed report of the shipped settings (`cdktf.json`, `tenants.json`): "
                "`tests/test_audit.py` holds it equal, byte for byte, to what that commit's code writes."
            )
        return [*lines, ""]
