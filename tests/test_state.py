"""State is never split, forked or shared by a settings change: stack names and state locations.

Settings-level checks call constructs_lib directly; the refusals users see run the
real main job in a subprocess (exit status 2, one line, previous output untouched).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.backends import LocalBackendSettings, S3BackendSettings
from constructs_lib.config import load_app_settings, load_environments
from constructs_lib.errors import ConfigError
from constructs_lib.output import output_files
from constructs_lib.state import (
    StackState,
    abandoned_state_problems,
    resolve_local,
    state_resource_count,
    state_warnings,
)
from tests.helpers import PROJECT_DIR, copy_project, seed_settings, write_context

STATE_KEY = "arn:aws:kms:eu-central-1:591338347562:key/0d6b1f4e-5c9b-4a43-9f0a-1b2c3d4e5f60"
S3 = {"type": "s3", "bucket": "cci-lite-tfstate", "region": "eu-central-1", "kms_key_id": STATE_KEY}
#: Two environments in different regions: they may coexist, each with its own state by default.
TWO = {
    "environments": {
        "production": {},
        "staging": {"region": "eu-west-1", "environment": "Staging"},
    }
}
DEPLOYED_STATE = {"version": 4, "resources": [{"mode": "managed", "type": "aws_kms_key", "name": "master"}]}


def project_with(tmp_path: Path, cci: dict[str, Any]) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    write_context(project, cci)
    return project


def problems_of(tmp_path: Path, cci: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as error:
        load_environments(project_with(tmp_path, cci), environ or {})
    return error.value.problems


# --- a tag value never names the stack -----------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"environment": "Prod"},
        {"environment": "Staging"},
        {"environment": "production"},
        {"environment": "---"},
    ],
)
def test_environment_tag_change_keeps_the_stack_name_and_its_state_location(overrides: dict[str, str]) -> None:
    settings = seed_settings(**overrides)
    assert settings.stack == "cci-lite-production"
    assert settings.environment == overrides["environment"]
    assert settings.backend == LocalBackendSettings()  # so terraform.cci-lite-production.tfstate, as before


@pytest.mark.parametrize("setting", ["owner", "version", "project", "environment"])
def test_no_tag_setting_names_the_stack(tmp_path: Path, setting: str) -> None:
    (settings,) = load_environments(project_with(tmp_path, {setting: "Something Else"}), {})
    assert settings.stack == "cci-lite-production"


def test_the_environment_key_names_the_stack_whatever_its_environment_tag(tmp_path: Path) -> None:
    cci = {"environments": {"prod": {"environment": "Production"}, "qa": {"region": "eu-west-1", "environment": "X"}}}
    stacks = {s.stack: s.environment for s in load_environments(project_with(tmp_path, cci), {})}
    assert stacks == {"cci-lite-prod": "Production", "cci-lite-qa": "X"}
    again = {s.stack for s in load_environments(project_with(tmp_path, cci), {"CCI_ENVIRONMENT": "Prod"})}
    assert again == {"cci-lite-prod", "cci-lite-qa"}


# --- no two stacks share state ----------------------------------------------------------------


def test_refuses_shared_state_local_path_from_cci_backend(tmp_path: Path) -> None:
    environ = {"CCI_BACKEND": '{"type": "local", "path": "/srv/state/prod.tfstate"}'}
    assert problems_of(tmp_path, TWO, environ) == (
        "cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state, state file "
        "/srv/state/prod.tfstate (backend from CCI_BACKEND, which applies to every stack of the run); each plan "
        "would read the other's resources as its own and plan to delete them: give each stack its own path "
        "(leave path out: each then gets terraform.<stack>.tfstate beside the output)",
    )


def test_cci_backend_with_cci_stack_applies_to_the_stack_the_run_makes_only(tmp_path: Path) -> None:
    # The tester's run: one stack, its own state file; refused before as "shared with cci-lite-staging".
    environ = {"CCI_STACK": "cci-lite-production", "CCI_BACKEND": '{"type": "local", "path": "/srv/prod.tfstate"}'}
    app = load_app_settings(project_with(tmp_path, TWO), environ)
    assert [s.stack for s in app.stacks] == ["cci-lite-production"]
    backends = {state.stack: (state.backend, state.source) for state in app.states}
    assert backends["cci-lite-production"] == (LocalBackendSettings(path="/srv/prod.tfstate"), "CCI_BACKEND")
    assert backends["cci-lite-staging"] == (LocalBackendSettings(), "cdktf.json: context.cci.backend")


def test_refuses_shared_state_cci_backend_of_one_stack_pointing_at_anothers_state(tmp_path: Path) -> None:
    # With CCI_STACK the other stacks keep their own backends, so a CCI_BACKEND naming one of their states is
    # still two stacks on one state.
    staging_state = '{"type": "local", "path": "../../../terraform.cci-lite-staging.tfstate"}'
    environ = {"CCI_STACK": "cci-lite-production", "CCI_BACKEND": staging_state, "CDKTF_OUTDIR": str(tmp_path / "o")}
    (problem,) = problems_of(tmp_path, TWO, environ)
    assert problem.startswith(
        "cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state, state file "
        f"{tmp_path / 'terraform.cci-lite-staging.tfstate'} (backends from CCI_BACKEND and cdktf.json: "
        "context.cci.backend)"
    )


def test_refuses_shared_state_local_paths_that_resolve_to_one_file(tmp_path: Path) -> None:
    """A relative path is relative to the stack directory, as Terraform resolves it."""
    cci = {
        "environments": {
            "production": {"backend": {"type": "local", "path": "../../../state/shared.tfstate"}},
            "staging": {
                "region": "eu-west-1",
                "backend": {"type": "local", "path": "../cci-lite-production/../../../state/shared.tfstate"},
            },
        }
    }
    (problem,) = problems_of(tmp_path, cci, {"CDKTF_OUTDIR": str(tmp_path / "out")})
    assert problem.startswith(
        "cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state, state file "
        f"{tmp_path / 'state' / 'shared.tfstate'} (backends from cdktf.json: context.cci.environments.production."
        "backend and cdktf.json: context.cci.environments.staging.backend)"
    )


def test_the_same_relative_path_in_two_stack_directories_is_two_files(tmp_path: Path) -> None:
    cci = {**TWO, "backend": {"type": "local", "path": "terraform.tfstate"}}
    stacks = load_environments(project_with(tmp_path, cci), {})
    assert len(stacks) == 2


def test_refuses_shared_state_s3_key_from_cci_backend(tmp_path: Path) -> None:
    environ = {"CCI_BACKEND": json.dumps({**S3, "key": "foundation/terraform.tfstate"})}
    (problem,) = problems_of(tmp_path, TWO, environ)
    assert problem == (
        "cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state, "
        "s3://cci-lite-tfstate/foundation/terraform.tfstate (backend from CCI_BACKEND, which applies to every "
        "stack of the run); each plan would read the other's resources as its own and plan to delete them: give "
        "each stack its own key (leave key out: it defaults to <stack>/terraform.tfstate)"
    )


def test_refuses_shared_state_explicit_s3_key_equal_to_another_stacks_default(tmp_path: Path) -> None:
    cci = {
        "backend": S3,
        "environments": {
            "production": {},
            "staging": {"region": "eu-west-1", "backend": {**S3, "key": "cci-lite-production/terraform.tfstate"}},
        },
    }
    (problem,) = problems_of(tmp_path, cci)
    assert "would share one state, s3://cci-lite-tfstate/cci-lite-production/terraform.tfstate" in problem


def test_default_s3_keys_keep_stacks_apart(tmp_path: Path) -> None:
    stacks = load_environments(project_with(tmp_path, {**TWO, "backend": S3}), {})
    assert {s.backend.key for s in stacks if isinstance(s.backend, S3BackendSettings)} == {None}


def test_refuses_shared_state_terraform_cloud_workspace(tmp_path: Path) -> None:
    cloud = {"type": "cloud", "organization": "conversant", "workspace": "cci-lite"}
    (problem,) = problems_of(tmp_path, {**TWO, "backend": cloud})
    assert problem.startswith(
        "cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state, workspace "
        "app.terraform.io/conversant/cci-lite (Terraform Cloud) (backend from cdktf.json: context.cci.backend, "
    )
    assert problem.endswith("give each stack its own workspace")


def test_refuses_a_local_state_path_the_synth_or_terraform_would_read_as_configuration(tmp_path: Path) -> None:
    for path in ("cdk.tf.json", "state.tf.json", ".terraform.lock.hcl"):
        assert problems_of(tmp_path, {"backend": {"type": "local", "path": path}}) == (
            f"cdktf.json: context.cci.backend.path puts the state of cci-lite-production in "
            f"{Path('cdktf.out/stacks/cci-lite-production') / path}, a name Terraform or the synth uses for "
            "configuration; choose a file name ending in .tfstate",
        )


def test_warns_about_state_inside_the_output_directory(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    inside = StackState(stack="cci-lite-production", backend=LocalBackendSettings(path="terraform.tfstate"), source="")
    beside = StackState(stack="cci-lite-staging", backend=LocalBackendSettings(), source="")
    (warning,) = state_warnings([inside, beside], out)
    assert warning.startswith(
        f"cci-lite-production: the state file {out / 'stacks' / 'cci-lite-production' / 'terraform.tfstate'} is "
        f"inside the output directory {out}; the synth keeps it"
    )


# --- a deployed stack is never silently left behind --------------------------------------------


def deployed_state(path: Path, state: dict[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state or DEPLOYED_STATE), encoding="utf-8")
    return path


def initialized(out: Path, stack: str, backend: dict[str, Any]) -> None:
    """What terraform init records in the stack directory: the backend and its configuration."""
    deployed_state(out / "stacks" / stack / ".terraform" / "terraform.tfstate", {"version": 3, "backend": backend})


def abandoned(tmp_path: Path, cci: dict[str, Any], environ: dict[str, str] | None = None) -> list[str]:
    environ = {"CDKTF_OUTDIR": str(tmp_path / "cdktf.out"), **(environ or {})}
    app = load_app_settings(project_with(tmp_path, cci), environ)
    return abandoned_state_problems(
        stacks=app.states,
        retired=app.retired_stacks,
        name_prefix=app.name_prefix,
        out_dir=tmp_path / "cdktf.out",
        label="cdktf.json",
    )


def test_refuses_moving_a_single_stack_named_by_its_old_environment_tag(tmp_path: Path) -> None:
    """Before, environment "Staging" named the one stack cci-lite-staging; now it is cci-lite-production."""
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate")
    assert abandoned(tmp_path, {"environment": "Staging"}) == [
        f"cdktf.json: stack cci-lite-staging has state in {tmp_path / 'terraform.cci-lite-staging.tfstate'} "
        "(1 resource), but these settings no longer make that stack (they make cci-lite-production), so that state "
        "would be left behind and a new stack would start empty and plan to create the foundation again; to keep "
        'the stack, declare the environment "staging" in context.cci.environments; to rename it on purpose, move '
        'its state or point the new stack\'s backend at it (README, "Renaming or retiring a stack"); to leave it '
        'behind on purpose, add "cci-lite-staging" to context.cci.retired_stacks'
    ]


def test_keeping_the_old_stack_name_by_declaring_its_environment_keeps_its_state(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate")
    cci = {"environment": "Staging", "environments": {"staging": {}}}
    assert abandoned(tmp_path, cci) == []
    (settings,) = load_environments(project_with(tmp_path, cci), {"CDKTF_OUTDIR": str(tmp_path / "cdktf.out")})
    assert settings.stack == "cci-lite-staging"


def test_refuses_renaming_an_environment_key_of_an_initialized_s3_stack(tmp_path: Path) -> None:
    initialized(tmp_path / "cdktf.out", "cci-lite-stage", {"type": "s3", "config": {"bucket": "b", "key": None}})
    cci = {"backend": S3, "environments": {"staging": {"region": "eu-west-1"}, "production": {}}}
    (problem,) = abandoned(tmp_path, cci)
    assert problem.startswith(
        f"cdktf.json: stack cci-lite-stage has an initialized working directory "
        f"{tmp_path / 'cdktf.out' / 'stacks' / 'cci-lite-stage'} whose state is s3://b/cci-lite-stage/terraform.tfstate,"
        " but these settings no longer make that stack (they make cci-lite-production, cci-lite-staging)"
    )
    assert 'declare the environment "stage" in context.cci.environments' in problem


def test_refuses_a_name_prefix_change_that_renames_a_deployed_stack(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-production.tfstate")
    (problem,) = abandoned(tmp_path, {"name_prefix": "acme"})
    assert "stack cci-lite-production has state in" in problem
    assert "(they make acme-production)" in problem
    assert "to keep the stack, restore the name_prefix that named it;" in problem


def test_initialized_directory_with_local_state_is_judged_by_that_state(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    initialized(out, "cci-lite-old", {"type": "local", "config": {"path": str(tmp_path / "srv" / "old.tfstate")}})
    assert abandoned(tmp_path, {}) == []  # init only, never applied: nothing to leave behind
    deployed_state(tmp_path / "srv" / "old.tfstate")
    (problem,) = abandoned(tmp_path, {})
    assert f"stack cci-lite-old has state in {tmp_path / 'srv' / 'old.tfstate'} (1 resource)" in problem


def test_a_destroyed_stacks_empty_state_is_not_deployed(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate", {"version": 4, "resources": []})
    (tmp_path / "terraform.cci-lite-dev.tfstate").write_text("")
    assert abandoned(tmp_path, {}) == []


def test_an_unreadable_state_file_is_taken_as_deployed(tmp_path: Path) -> None:
    (tmp_path / "terraform.cci-lite-staging.tfstate").write_text("{not json")
    assert state_resource_count(tmp_path / "terraform.cci-lite-staging.tfstate") is None
    (problem,) = abandoned(tmp_path, {})
    assert "terraform.cci-lite-staging.tfstate (unreadable, so taken as deployed)" in problem


def test_retired_stacks_are_left_behind_on_purpose(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate")
    assert abandoned(tmp_path, {"retired_stacks": ["cci-lite-staging"]}) == []


def test_renaming_by_pointing_the_new_stack_at_the_old_state_is_not_abandoning_it(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate")
    cci = {
        "environments": {"stage": {"backend": {"type": "local", "path": "../../../terraform.cci-lite-staging.tfstate"}}}
    }
    assert abandoned(tmp_path, cci) == []


def test_a_stack_that_cci_stack_leaves_out_is_not_abandoned(tmp_path: Path) -> None:
    deployed_state(tmp_path / "terraform.cci-lite-staging.tfstate")
    assert abandoned(tmp_path, TWO, {"CCI_STACK": "cci-lite-production"}) == []


def test_refuses_bad_retired_stacks(tmp_path: Path) -> None:
    assert problems_of(tmp_path, {"retired_stacks": ["cci-lite-production"]}) == (
        "cdktf.json: context.cci.retired_stacks names cci-lite-production, which these settings make; remove it "
        "from retired_stacks",
    )
    assert problems_of(tmp_path, {"retired_stacks": "cci-lite-staging"}) == (
        'cdktf.json: context.cci.retired_stacks must be a list of stack names such as "cci-lite-staging", got '
        "'cci-lite-staging'",
    )
    assert problems_of(tmp_path, {"environments": {"x": {"retired_stacks": []}}})[0].startswith(
        "cdktf.json: context.cci.environments.x.retired_stacks cannot be set per environment"
    )


def test_resolves_local_paths_like_terraform(tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    assert resolve_local(out, "s", "../../../terraform.s.tfstate") == tmp_path / "terraform.s.tfstate"
    assert resolve_local(out, "s", "terraform.tfstate") == out / "stacks" / "s" / "terraform.tfstate"
    assert resolve_local(out, "s", "/srv/x.tfstate") == Path("/srv/x.tfstate")


# --- what the user sees: python main.py ------------------------------------------------------


def run_main(project: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "main.py")],
        cwd=cwd,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CCI_") and k != "CDKTF_OUTDIR"}, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_main_refuses_a_rename_that_would_leave_deployed_state_behind(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {})
    first = run_main(project, project)
    assert first.returncode == 0, first.stderr
    deployed_state(project / "terraform.cci-lite-production.tfstate")
    before = output_files(project / "cdktf.out")
    write_context(project, {"environments": {"prod": {}}})
    refused = run_main(project, project)
    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert line.startswith(
        "error: cdktf.json: stack cci-lite-production has state in terraform.cci-lite-production.tfstate (1 resource),"
        " but these settings no longer make that stack (they make cci-lite-prod)"
    )
    assert output_files(project / "cdktf.out") == before
    write_context(project, {"environments": {"production": {}}})  # the stack keeps its name
    assert run_main(project, project).returncode == 0


def test_main_refuses_shared_state_before_synth(tmp_path: Path) -> None:
    project = copy_project(tmp_path, TWO)
    result = run_main(project, project, CCI_BACKEND=json.dumps({**S3, "key": "all/terraform.tfstate"}))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cdktf.json: stacks cci-lite-production and cci-lite-staging would share one state")
    assert not (project / "cdktf.out").exists()


def test_main_warns_once_about_state_inside_the_output_directory(tmp_path: Path) -> None:
    project = copy_project(tmp_path, {"backend": {"type": "local", "path": "terraform.tfstate"}})
    result = run_main(project, project)
    assert result.returncode == 0
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "warning: cci-lite-production: the state file cdktf.out/stacks/cci-lite-production/terraform.tfstate is "
        "inside the output directory cdktf.out"
    )


def test_shipped_settings_keep_the_stack_name_cci_lite_production() -> None:
    assert [s.stack for s in load_environments(PROJECT_DIR, {})] == ["cci-lite-production"]


def test_a_terraform_cloud_workspace_another_stack_now_uses_is_not_abandoned(tmp_path: Path) -> None:
    cloud = {"type": "cloud", "organization": "conversant", "workspace": "cci-lite-prod"}
    record = {"organization": "conversant", "hostname": "app.terraform.io", "workspaces": {"name": "cci-lite-prod"}}
    initialized(tmp_path / "cdktf.out", "cci-lite-prod", {"type": "cloud", "config": record})
    assert abandoned(tmp_path, {"backend": cloud}) == []  # the renamed stack kept its workspace
    (problem,) = abandoned(tmp_path, {})
    assert "whose state is workspace app.terraform.io/conversant/cci-lite-prod (Terraform Cloud)" in problem
