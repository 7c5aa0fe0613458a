"""Where each stack's Terraform state lives, and the checks that keep it from being lost or shared.

No jsii import. Three checks, all before anything is synthesized:

- ``shared_state_problems``: two stacks of the app must never use one state (the same
  local file, s3 bucket and key, or Terraform Cloud workspace): each one's plan would
  read the other's resources as its own and plan to delete them.
- ``abandoned_state_problems``: a settings change must not silently move a deployed
  stack to new, empty state (the new stack would plan to create the whole foundation
  again: a second key, then failures on every name). Evidence that a stack is deployed:
  its default local state file beside the output directory holds resources, or its
  stack directory was initialized (``.terraform/terraform.tfstate``, Terraform's record
  of the backend) for state that holds resources or that cannot be seen from here (s3,
  cloud). A stack the settings still make, or whose state another stack of the app now
  uses, is not abandoned; ``retired_stacks`` names stacks left behind on purpose.
- ``state_warnings``: a local state file inside the output directory. The synth never
  deletes it, but ``cdktf synth`` deletes the directory of a stack it no longer
  produces, and the output directory is a build product a clean checkout lacks.

Local paths resolve as Terraform resolves them: relative to the stack directory
(``<output>/stacks/<stack>``), where ``terraform init`` runs.
https://developer.hashicorp.com/terraform/language/backend/local
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs_lib.backends import BackendSettings, CloudBackendSettings, S3BackendSettings

#: A stack name as cdktf writes it under ``<output>/stacks/``: ``<prefix>-<environment key>``.
STACK_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

#: An environment key of ``context.cci.environments`` (config.ENVIRONMENT_NAME_PATTERN).
ENVIRONMENT_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")

#: Files the synth writes into a stack directory or the output directory; state must not be one of them.
GENERATED_NAMES = frozenset(
    {
        "cdk.tf.json",
        "tenants.tf.json",
        "imports.tf.json",
        "adoption.tf.json",
        ".terraform.lock.hcl",
        ".cci-lite-generated.json",
    }
)


@dataclass(frozen=True, kw_only=True)
class StateLocation:
    """One Terraform state: ``kind`` (local, s3, cloud), an identity to compare, and how to show it."""

    kind: str
    identity: tuple[str, ...]
    shown: str


@dataclass(frozen=True, kw_only=True)
class StackState:
    """A stack of the app with its backend and where that backend setting came from."""

    stack: str
    backend: BackendSettings
    source: str


def stack_dir(out_dir: Path, stack: str) -> Path:
    """The stack's working directory: ``<output>/stacks/<stack>``, absolute."""
    return Path(os.path.abspath(out_dir)) / "stacks" / stack


def default_local_path(stack: str) -> str:
    """The local backend's default ``path``, relative to the stack directory: beside the output directory."""
    return f"../../../terraform.{stack}.tfstate"


def resolve_local(out_dir: Path, stack: str, path: str) -> Path:
    """A local backend ``path`` as Terraform resolves it from the stack directory (absolute, normalized)."""
    return Path(os.path.normpath(os.path.join(stack_dir(out_dir, stack), path)))


def shown_path(path: Path) -> str:
    """A path as the user would write it: relative below the current directory, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def state_location(stack: str, backend: BackendSettings, out_dir: Path) -> StateLocation | None:
    """Where ``stack`` keeps its state with ``backend``; None for a Terraform Cloud workspace chosen by tags."""
    if isinstance(backend, S3BackendSettings):
        key = backend.key or f"{stack}/terraform.tfstate"
        return StateLocation(kind="s3", identity=(backend.bucket, key), shown=f"s3://{backend.bucket}/{key}")
    if isinstance(backend, CloudBackendSettings):
        if backend.workspace is None:
            return None
        identity = (backend.hostname, backend.organization, backend.workspace)
        return StateLocation(kind="cloud", identity=identity, shown=f"workspace {'/'.join(identity)} (Terraform Cloud)")
    path = resolve_local(out_dir, stack, backend.path or default_local_path(stack))
    return StateLocation(kind="local", identity=(str(path),), shown=f"state file {shown_path(path)}")


_REMEDY = {
    "local": (
        "give each stack its own path (leave path out: each then gets terraform.<stack>.tfstate beside the output)"
    ),
    "s3": "give each stack its own key (leave key out: it defaults to <stack>/terraform.tfstate)",
    "cloud": "give each stack its own workspace",
}


def shared_state_problems(stacks: Sequence[StackState], out_dir: Path, label: str) -> list[str]:
    """One problem per pair of stacks that would use the same state, and per local path the synth would overwrite."""
    problems: list[str] = []
    seen: dict[tuple[str, tuple[str, ...]], StackState] = {}
    for entry in stacks:
        location = state_location(entry.stack, entry.backend, out_dir)
        if location is None:
            continue
        if location.kind == "local":
            path = Path(location.identity[0])
            if path.name in GENERATED_NAMES or path.name == "manifest.json" or path.name.endswith((".tf", ".tf.json")):
                problems.append(
                    f"{entry.source}.path puts the state of {entry.stack} in {shown_path(path)}, a name Terraform or "
                    f"the synth uses for configuration; choose a file name ending in .tfstate"
                )
                continue
        other = seen.setdefault((location.kind, location.identity), entry)
        if other is entry:
            continue
        origin = (
            f"backend from {entry.source}, which applies to every stack of the run"
            if entry.source == other.source
            else f"backends from {other.source} and {entry.source}"
        )
        problems.append(
            f"{label}: stacks {other.stack} and {entry.stack} would share one state, {location.shown} ({origin}); "
            f"each plan would read the other's resources as its own and plan to delete them: {_REMEDY[location.kind]}"
        )
    return problems


def state_warnings(stacks: Sequence[StackState], out_dir: Path) -> list[str]:
    """A one-line warning for each local state file inside the output directory."""
    root = Path(os.path.abspath(out_dir))
    warnings = []
    for entry in stacks:
        location = state_location(entry.stack, entry.backend, out_dir)
        if location is None or location.kind != "local":
            continue
        path = Path(location.identity[0])
        if path.is_relative_to(root):
            warnings.append(
                f"{entry.stack}: the state file {shown_path(path)} is inside the output directory "
                f"{shown_path(root)}; the synth keeps it, but `cdktf synth` deletes the directory of a stack it no "
                f"longer makes and a fresh checkout has no {root.name}: keep state beside the output (leave path "
                f"out) or in a remote backend"
            )
    return warnings


def state_resource_count(path: Path) -> int | None:
    """Managed resources in a Terraform state file; 0 if there is none or it is empty, None if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    except OSError:
        return None
    if not text.strip():
        return 0
    try:
        resources = json.loads(text).get("resources", [])
        return sum(1 for r in resources if isinstance(r, dict) and r.get("mode", "managed") == "managed")
    except (ValueError, AttributeError):
        return None


def _describe_count(path: Path, count: int | None) -> str:
    if count is None:
        return f"{shown_path(path)} (unreadable, so taken as deployed)"
    return f"{shown_path(path)} ({count} resource{'s' if count != 1 else ''})"


def _recorded_backend(directory: Path) -> tuple[str, dict[str, Any]] | None:
    """The backend ``terraform init`` recorded in ``directory/.terraform/terraform.tfstate``, if any."""
    try:
        record = json.loads((directory / ".terraform" / "terraform.tfstate").read_text(encoding="utf-8"))
        backend = record.get("backend") or {}
        kind = backend.get("type")
        config = backend.get("config") or {}
        if isinstance(kind, str) and isinstance(config, dict):
            return kind, config
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _recorded_location(directory: Path, stack: str, kind: str, config: Mapping[str, Any]) -> StateLocation | None:
    """The state location a recorded backend points at, in the terms of ``state_location``."""
    if kind == "local":
        path = Path(os.path.normpath(os.path.join(directory, config.get("path") or "terraform.tfstate")))
        return StateLocation(kind="local", identity=(str(path),), shown=f"state file {shown_path(path)}")
    if kind == "s3" and config.get("bucket"):
        key = str(config.get("key") or f"{stack}/terraform.tfstate")
        return StateLocation(kind="s3", identity=(str(config["bucket"]), key), shown=f"s3://{config['bucket']}/{key}")
    if kind in ("cloud", "remote"):
        # "remote" records its workspaces block as a list of one object, "cloud" as an object.
        workspaces = config.get("workspaces")
        if isinstance(workspaces, list):
            workspaces = workspaces[0] if workspaces else None
        workspace = workspaces.get("name") if isinstance(workspaces, dict) else None
        hostname = config.get("hostname") or "app.terraform.io"
        if workspace:
            identity = (str(hostname), str(config.get("organization")), str(workspace))
            return StateLocation(
                kind="cloud", identity=identity, shown=f"workspace {'/'.join(identity)} (Terraform Cloud)"
            )
    return None


def abandoned_state_problems(
    *,
    stacks: Sequence[StackState],
    retired: Collection[str],
    name_prefix: str,
    out_dir: Path,
    label: str,
) -> list[str]:
    """One problem per deployed stack these settings no longer make, whose state nothing would use."""
    made = {entry.stack for entry in stacks}
    in_use = {
        (location.kind, location.identity)
        for entry in stacks
        if (location := state_location(entry.stack, entry.backend, out_dir)) is not None
    }
    evidence: dict[str, str] = {}
    beside = Path(os.path.abspath(out_dir)).parent
    for path in sorted(beside.glob("terraform.*.tfstate")):
        name = path.name.removeprefix("terraform.").removesuffix(".tfstate")
        if not STACK_NAME.fullmatch(name) or name in made or name in retired or ("local", (str(path),)) in in_use:
            continue
        count = state_resource_count(path)
        if count != 0:
            evidence[name] = f"state in {_describe_count(path, count)}"
    for record in sorted((Path(os.path.abspath(out_dir)) / "stacks").glob("*/.terraform/terraform.tfstate")):
        directory = record.parent.parent
        name = directory.name
        if name in made or name in retired or name in evidence:
            continue
        recorded = _recorded_backend(directory)
        if recorded is None:
            continue
        location = _recorded_location(directory, name, *recorded)
        if location is not None and (location.kind, location.identity) in in_use:
            continue
        if location is not None and location.kind == "local":
            count = state_resource_count(Path(location.identity[0]))
            if count == 0:
                continue
            evidence[name] = f"state in {_describe_count(Path(location.identity[0]), count)}"
        else:
            shown = location.shown if location else f"a {recorded[0]} backend"
            evidence[name] = f"an initialized working directory {shown_path(directory)} whose state is {shown}"

    problems = []
    made_text = ", ".join(sorted(made))
    for name, found in sorted(evidence.items()):
        key = name.removeprefix(f"{name_prefix}-") if name.startswith(f"{name_prefix}-") else None
        if key is not None and ENVIRONMENT_KEY.fullmatch(key):
            keep = f'to keep the stack, declare the environment "{key}" in context.cci.environments'
        else:
            keep = "to keep the stack, restore the name_prefix that named it"
        problems.append(
            f"{label}: stack {name} has {found}, but these settings no longer make that stack (they make "
            f"{made_text}), so that state would be left behind and a new stack would start empty and plan to create "
            f"the foundation again; {keep}; to rename it on purpose, move its state or point the new stack's backend "
            f'at it (README, "Renaming or retiring a stack"); to leave it behind on purpose, add "{name}" to '
            f"context.cci.retired_stacks"
        )
    return problems


def stack_state_evidence(stack: str, backend: BackendSettings, out_dir: Path) -> str | None:
    """Why ``stack`` looks deployed (its state holds resources, or cannot be seen from here), or None.

    Evidence, as for ``abandoned_state_problems``: the stack's local state file holds
    resources (or cannot be read), or its directory was initialized for a backend whose
    state cannot be seen from here (s3, Terraform Cloud). A fresh checkout with remote
    state has no evidence.
    """
    location = state_location(stack, backend, out_dir)
    if location is not None and location.kind == "local":
        path = Path(location.identity[0])
        count = state_resource_count(path)
        if count != 0:
            return f"state in {_describe_count(path, count)}"
    directory = stack_dir(out_dir, stack)
    recorded = _recorded_backend(directory)
    if recorded is None:
        return None
    found = _recorded_location(directory, stack, *recorded)
    if found is not None and found.kind == "local":
        count = state_resource_count(Path(found.identity[0]))
        return None if count == 0 else f"state in {_describe_count(Path(found.identity[0]), count)}"
    shown = found.shown if found else f"a {recorded[0]} backend"
    return f"an initialized working directory {shown_path(directory)} whose state is {shown}"
