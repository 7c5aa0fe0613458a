"""Every string setting that crosses into cdktf reaches cdk.tf.json literally (one extra synth).

The settings checks refuse what cdktf or Terraform would read as code (see
tests/test_settings_rules.py); this synth shows that what they accept, Unicode
letters, '+', and '%{' and other punctuation in a role path included, comes out as
written. In the Terraform JSON a policy's ``%{`` is escaped as ``%%{``, Terraform's
literal form, so AWS receives it unchanged. (``${`` in a role ARN is refused: AWS
would read it as a policy variable, tests/test_settings_rules.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.config import Settings, Tenant, load_settings
from tests.conftest import synth_to
from tests.helpers import PROJECT_DIR

ACCOUNT = "591338347562"
ADMINS = [
    f"arn:aws:iam::{ACCOUNT}:role/ops!#&~'/%{{x}}/admin",
    f"arn:aws:iam::{ACCOUNT}:role/ops/Admin+=,.@_-1",
]
LAMBDA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/svc/%{{tier}}/cci-lambda"
STATE_KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
CONTEXT: dict[str, Any] = {
    "owner": "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale",
    "environment": "Z\u00fcrich Prod",
    "version": "v1.3+build.7",
    "project": "CCI Lite/\u6771\u4eac",
    "key_admin_role_arns": ADMINS,
    "lambda_role_arn": LAMBDA_ROLE,
    "backend": {
        "type": "s3",
        "bucket": f"cci-state-{ACCOUNT}-eu-central-1-an",
        "region": "eu-central-1",
        "kms_key_id": STATE_KEY,
        "key": "states/z\u00fcrich/+prod@1/terraform.tfstate",
    },
}


@pytest.fixture(scope="module")
def literal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    project = tmp_path_factory.mktemp("literal-project")
    document = json.loads((PROJECT_DIR / "cdktf.json").read_text(encoding="utf-8"))
    document["context"]["cci"].update(CONTEXT)
    (project / "cdktf.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    settings = load_settings(project, {"CCI_TENANTS_FILE": str(PROJECT_DIR / "tenants.json")})
    tenants = (
        Tenant(tenant_id="acme", display_name="Acme", kms_guard=True),
        # Number text that is not one of cdktf's token doubles: cdktf parses it and leaves it be.
        Tenant(tenant_id="acme-1e5", display_name="Acme 1e5", kms_guard=True),
    )
    cdk_tf_json: Path = synth_to(tmp_path_factory.mktemp("literal-synth"), settings, tenants)
    return settings, json.loads(cdk_tf_json.read_text(encoding="utf-8"))


def as_aws_receives(terraform_string: str) -> str:
    """Terraform's reading of a JSON string with no interpolation: $${ is ${, %%{ is %{."""
    return terraform_string.replace("$${", "${").replace("%%{", "%{")


def principals(policy: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for statement in policy["Statement"]:
        value = statement.get("Principal", {})
        arns = value.get("AWS", []) if isinstance(value, dict) else []
        found |= {arns} if isinstance(arns, str) else set(arns)
    return found


def test_tag_settings_reach_the_provider_default_tags_literally(literal: tuple[Settings, dict[str, Any]]) -> None:
    _, tf = literal
    (provider,) = tf["provider"]["aws"]
    (default_tags,) = provider["default_tags"]
    assert default_tags["tags"] == {
        "Environment": CONTEXT["environment"],
        "Owner": CONTEXT["owner"],
        "Project": CONTEXT["project"],
        "Version": CONTEXT["version"],
    }


def test_the_key_description_is_written_literally(literal: tuple[Settings, dict[str, Any]]) -> None:
    _, tf = literal
    description = tf["resource"]["aws_kms_key"]["master"]["description"]
    assert description == f"{CONTEXT['project']} {CONTEXT['environment']} master key: S3, DynamoDB and pipeline data"


def test_role_arns_reach_the_key_policy_as_written(literal: tuple[Settings, dict[str, Any]]) -> None:
    _, tf = literal
    written = tf["resource"]["aws_kms_key"]["master"]["policy"]
    assert "ops!#&~'/%%{x}/admin" in written and "%%{tier}" in written
    policy = json.loads(as_aws_receives(written))
    assert set(ADMINS) <= principals(policy)
    # The pipeline role is named by the per-tenant guard's exemption, not as a principal.
    (guard,) = [s for s in policy["Statement"] if s["Sid"] == "DenyGuardedTenantContextToOthers"]
    assert guard["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [LAMBDA_ROLE]
    assert '"acme-1e5"' in json.dumps(policy)


def test_backend_settings_reach_the_backend_block_literally(literal: tuple[Settings, dict[str, Any]]) -> None:
    _, tf = literal
    s3 = tf["terraform"]["backend"]["s3"]
    backend = CONTEXT["backend"]
    assert (s3["bucket"], s3["region"], s3["kms_key_id"], s3["key"]) == (
        backend["bucket"],
        backend["region"],
        backend["kms_key_id"],
        backend["key"],
    )
