"""Tenant isolation, proven by evaluation rather than by reading.

The key policy and the bucket policies of the session's synth (tests.helpers.TEST_TENANTS:
globex and initech guarded, acme and demo-tenant not) are evaluated, as AWS receives them,
against a table of requests by an independent IAM policy evaluator,
``@cloud-copilot/iam-simulate`` (pinned in package.json, installed by ``npm ci``), in one
node process (tests/iam_simulate.cjs). Each request carries what AWS would put in its
request context: the principal's ARN (``aws:PrincipalArn``, always set by AWS and given
here because the evaluator does not derive it), its tags, TLS, and the request's
encryption context, ``s3:prefix`` and service keys. Each principal has an identity policy,
so a row shows what the resource policies take away from what IAM grants.

The table is ROWS; its test ids name the kind of request (``guarded/``, ``tagged/``,
``tagged-key-management/``, ``tagged-key-use/``, ``key-management-exempt/``,
``service/``, ``objects/``, ``listing/``, ``tagged-bucket-management/``, ``tls/``, and
``untagged-...`` for what must stay as IAM grants it). Negative controls evaluate the
policies of main before this change (tests/data/policies_before_issue_13.json) and show
that the evaluator catches the holes the change closes, so these tests can fail.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.policies import key_policy
from tests.helpers import PROJECT_DIR, TEST_TENANTS, require_tool, seed_settings

ACCOUNT = "591338347562"
REGION = "eu-central-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b7f5c1e-4d2a-4c3b-9e8f-5a6b7c8d9e0f"
EVALUATOR_SCRIPT = PROJECT_DIR / "tests" / "iam_simulate.cjs"
EVALUATOR_PACKAGE = PROJECT_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
BEFORE = PROJECT_DIR / "tests" / "data" / "policies_before_issue_13.json"

Json = dict[str, Any]


def bucket_arn(role: str) -> str:
    return f"arn:aws:s3:::cci-lite-{role.replace('_', '-')}-{ACCOUNT}-{REGION}"


# --- who asks ------------------------------------------------------------------------

EVERYTHING_IN_KMS_AND_S3: Json = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["kms:*", "s3:*"], "Resource": "*"}],
}
#: The root user is allowed everything by IAM without a policy; the evaluator needs one.
ROOT_USER_IMPLICIT: Json = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass(frozen=True)
class Principal:
    """A caller: the ARN AWS evaluates (``aws:PrincipalArn``), the ARN that signs, tags, IAM."""

    label: str
    arn: str | None
    signer: str
    tags: dict[str, str] = field(default_factory=dict)
    identity_policies: tuple[Json, ...] = ()


def role(name: str, *, session: str | None = None, **tags: str) -> Principal:
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    signer = f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}" if session else arn
    return Principal(name, arn, signer, dict(tags), (EVERYTHING_IN_KMS_AND_S3,))


def service(principal: str) -> Principal:
    return Principal(principal, None, principal)


PIPELINE = role("cci-lite-lambda-role", session="cci-lite-job-init")
PIPELINE_WITHOUT_IAM = Principal("cci-lite-lambda-role (no IAM policy)", PIPELINE.arn, PIPELINE.signer)
BROAD = role("data-platform-admin")
LOOKALIKE = role("cci-lite-lambda-role-v2")
ACME = role("tenant-acme-reader", session="acme-session", tenant_id="acme")
TAGGED_PIPELINE = role("cci-lite-lambda-role", session="cci-lite-job-init", tenant_id="acme")
KEY_ADMIN = role("cci-lite-key-admin")
TAGGED_KEY_ADMIN = role("cci-lite-key-admin", session="admin-session", tenant_id="acme")
ADMIN_LOOKALIKE = role("cci-lite-key-admin-v2", tenant_id="acme")
ROOT = Principal(
    "account root user", f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root", {}, (ROOT_USER_IMPLICIT,)
)


# --- what is asked -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One request and the decision the isolation design expects for it."""

    kind: str
    principal: Principal
    action: str
    resource: str
    context: dict[str, str]
    expected: str
    tls: bool = True
    #: For a key request, which key policy decides: the session's (``key``) or the same
    #: stack's with a key administrator configured (``key-with-admin``).
    key_policy: str = "key"

    @property
    def policy(self) -> str:
        """Which policy decides: a key policy (``key_policy``) or the bucket role's."""
        if self.resource.startswith("arn:aws:kms:"):
            return self.key_policy
        bucket = self.resource.split(":::", 1)[1].split("/", 1)[0]
        return next(r for r in ("input", "results", "athena_staging") if bucket_arn(r).endswith(bucket))

    def request(self, policies: dict[str, Json]) -> Json:
        context = {"aws:SecureTransport": "true" if self.tls else "false", **self.context}
        if self.principal.arn:
            context["aws:PrincipalArn"] = self.principal.arn
        context.update({f"aws:PrincipalTag/{k}": v for k, v in self.principal.tags.items()})
        return {
            "id": self.kind,
            "principal": self.principal.signer,
            "action": self.action,
            "resource": self.resource,
            "resourceAccount": ACCOUNT,
            "context": context,
            "identityPolicies": list(self.principal.identity_policies),
            "resourcePolicy": policies[self.policy],
        }


ALLOWED, DENIED, NOT_ALLOWED = "Allowed", "ExplicitlyDenied", "ImplicitlyDenied"


def tenant(tenant_id: str) -> dict[str, str]:
    return {"kms:EncryptionContext:tenant_id": tenant_id}


BUCKET_KEY_READ = {
    "kms:EncryptionContext:aws:s3:arn": bucket_arn("input"),
    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
}
EVENT_BUS = {
    "aws:SourceAccount": ACCOUNT,
    "kms:EncryptionContext:aws:events:event-bus:arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
}
FILTER_CRITERIA = {
    "aws:SourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:6f1c2d3e-0000-4000-8000-00000000000a",
    "kms:EncryptionContext:aws:lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cci-lite-job-init",
}
INPUT, RESULTS, STAGING = bucket_arn("input"), bucket_arn("results"), bucket_arn("athena_staging")
WITH_ADMIN = "key-with-admin"

ROWS: tuple[Row, ...] = (
    # The per-tenant guard: globex and initech are guarded, acme and demo-tenant are not.
    Row("guarded/pipeline-decrypt", PIPELINE, "kms:Decrypt", KEY_ARN, tenant("globex"), ALLOWED),
    Row("guarded/pipeline-generate-data-key", PIPELINE, "kms:GenerateDataKey", KEY_ARN, tenant("initech"), ALLOWED),
    Row("guarded/pipeline-create-grant", PIPELINE, "kms:CreateGrant", KEY_ARN, tenant("globex"), ALLOWED),
    Row("guarded/pipeline-without-iam-policy", PIPELINE_WITHOUT_IAM, "kms:Decrypt", KEY_ARN, tenant("globex"),
        NOT_ALLOWED),
    Row("guarded/broad-role-decrypt", BROAD, "kms:Decrypt", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/broad-role-encrypt", BROAD, "kms:Encrypt", KEY_ARN, tenant("initech"), DENIED),
    Row("guarded/broad-role-data-key-pair", BROAD, "kms:GenerateDataKeyPair", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/broad-role-re-encrypt-to", BROAD, "kms:ReEncryptTo", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/broad-role-create-grant", BROAD, "kms:CreateGrant", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/broad-role-context-key-in-capitals", BROAD, "kms:Decrypt", KEY_ARN,
        {"kms:EncryptionContext:TENANT_ID": "globex"}, DENIED),
    Row("guarded/role-named-like-the-pipeline", LOOKALIKE, "kms:Decrypt", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/account-root-user", ROOT, "kms:Decrypt", KEY_ARN, tenant("globex"), DENIED),
    Row("guarded/service-principal", service("events.amazonaws.com"), "kms:GenerateDataKey", KEY_ARN,
        {**EVENT_BUS, **tenant("globex")}, DENIED),
    Row("unguarded/broad-role-decrypt", BROAD, "kms:Decrypt", KEY_ARN, tenant("acme"), ALLOWED),
    Row("unguarded/account-root-user", ROOT, "kms:Decrypt", KEY_ARN, tenant("demo-tenant"), ALLOWED),
    Row("unguarded/pipeline-decrypt", PIPELINE, "kms:Decrypt", KEY_ARN, tenant("demo-tenant"), ALLOWED),
    # The ABAC guard: a principal tagged tenant_id=acme.
    Row("tagged/own-context", ACME, "kms:Decrypt", KEY_ARN, tenant("acme"), ALLOWED),
    Row("tagged/other-tenants-context", ACME, "kms:Decrypt", KEY_ARN, tenant("demo-tenant"), DENIED),
    Row("tagged/other-tenants-context-encrypt", ACME, "kms:Encrypt", KEY_ARN, tenant("demo-tenant"), DENIED),
    Row("tagged/guarded-tenants-context", ACME, "kms:Decrypt", KEY_ARN, tenant("globex"), DENIED),
    Row("tagged/no-tenant-context", ACME, "kms:GenerateDataKey", KEY_ARN, {}, ALLOWED),
    Row("tagged/grant-for-own-context", ACME, "kms:CreateGrant", KEY_ARN, tenant("acme"), ALLOWED),
    Row("tagged/grant-for-other-tenants-context", ACME, "kms:CreateGrant", KEY_ARN, tenant("demo-tenant"), DENIED),
    Row("tagged/grant-without-constraint", ACME, "kms:CreateGrant", KEY_ARN, {}, DENIED),
    Row("tagged/grant-by-aws-service-for-aws-resource", ACME, "kms:CreateGrant", KEY_ARN,
        {"kms:GrantIsForAWSResource": "true", "kms:ViaService": f"ec2.{REGION}.amazonaws.com"}, ALLOWED),
    Row("tagged/s3-bucket-key-read-without-tenant-context", ACME, "kms:Decrypt", KEY_ARN, BUCKET_KEY_READ, ALLOWED),
    Row("untagged/s3-bucket-key-read-without-tenant-context", BROAD, "kms:Decrypt", KEY_ARN, BUCKET_KEY_READ, ALLOWED),
    # Key management: a tagged principal may use the key, never manage it, whatever IAM grants.
    Row("tagged-key-management/put-key-policy", ACME, "kms:PutKeyPolicy", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/schedule-key-deletion", ACME, "kms:ScheduleKeyDeletion", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/disable-key", ACME, "kms:DisableKey", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/disable-key-rotation", ACME, "kms:DisableKeyRotation", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/create-alias", ACME, "kms:CreateAlias", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/update-alias", ACME, "kms:UpdateAlias", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/tag-resource", ACME, "kms:TagResource", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/update-key-description", ACME, "kms:UpdateKeyDescription", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/revoke-grant", ACME, "kms:RevokeGrant", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/get-key-policy", ACME, "kms:GetKeyPolicy", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/cancel-key-deletion", ACME, "kms:CancelKeyDeletion", KEY_ARN, {}, DENIED),
    Row("tagged-key-management/role-named-like-an-admin", ADMIN_LOOKALIKE, "kms:PutKeyPolicy", KEY_ARN, {}, DENIED,
        key_policy=WITH_ADMIN),
    Row("tagged-key-use/describe-key", ACME, "kms:DescribeKey", KEY_ARN, {}, ALLOWED),
    Row("tagged-key-use/data-key-without-plaintext-own-context", ACME, "kms:GenerateDataKeyWithoutPlaintext",
        KEY_ARN, tenant("acme"), ALLOWED),
    Row("tagged-key-use/re-encrypt-from-own-context", ACME, "kms:ReEncryptFrom", KEY_ARN, tenant("acme"), ALLOWED),
    Row("tagged-key-use/encrypt-own-context", ACME, "kms:Encrypt", KEY_ARN, tenant("acme"), ALLOWED),
    Row("key-management-exempt/tagged-key-admin-put-key-policy", TAGGED_KEY_ADMIN, "kms:PutKeyPolicy", KEY_ARN, {},
        ALLOWED, key_policy=WITH_ADMIN),
    Row("key-management-exempt/tagged-key-admin-schedule-key-deletion", TAGGED_KEY_ADMIN, "kms:ScheduleKeyDeletion",
        KEY_ARN, {}, ALLOWED, key_policy=WITH_ADMIN),
    Row("key-management-exempt/key-admin-put-key-policy", KEY_ADMIN, "kms:PutKeyPolicy", KEY_ARN, {}, ALLOWED,
        key_policy=WITH_ADMIN),
    Row("key-management-exempt/tagged-pipeline-role-describe-key", TAGGED_PIPELINE, "kms:GetKeyPolicy", KEY_ARN, {},
        ALLOWED),
    Row("untagged-key-management/broad-role-put-key-policy", BROAD, "kms:PutKeyPolicy", KEY_ARN, {}, ALLOWED),
    Row("untagged-key-management/broad-role-schedule-key-deletion", BROAD, "kms:ScheduleKeyDeletion", KEY_ARN, {},
        ALLOWED),
    Row("untagged-key-management/account-root-put-key-policy", ROOT, "kms:PutKeyPolicy", KEY_ARN, {}, ALLOWED),
    # Service principals, each narrowed to what its AWS doc shows.
    Row("service/eventbridge-event-bus", service("events.amazonaws.com"), "kms:GenerateDataKey", KEY_ARN,
        EVENT_BUS, ALLOWED),
    Row("service/eventbridge-describe-key", service("events.amazonaws.com"), "kms:DescribeKey", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT}, ALLOWED),
    Row("service/eventbridge-other-accounts-bus", service("events.amazonaws.com"), "kms:Decrypt", KEY_ARN,
        {"aws:SourceAccount": "111122223333",
         "kms:EncryptionContext:aws:events:event-bus:arn": f"arn:aws:events:{REGION}:111122223333:event-bus/default"},
        NOT_ALLOWED),
    Row("service/eventbridge-without-event-bus-context", service("events.amazonaws.com"), "kms:Decrypt", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT, "kms:EncryptionContext:aws:s3:arn": INPUT}, NOT_ALLOWED),
    Row("service/lambda-filter-criteria", service(f"lambda.{REGION}.amazonaws.com"), "kms:Decrypt", KEY_ARN,
        FILTER_CRITERIA, ALLOWED),
    Row("service/lambda-global-principal", service("lambda.amazonaws.com"), "kms:Decrypt", KEY_ARN,
        {**FILTER_CRITERIA, "aws:SourceAccount": ACCOUNT}, NOT_ALLOWED),
    Row("service/s3-for-a-stack-bucket", service("s3.amazonaws.com"), "kms:GenerateDataKey", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": RESULTS}, ALLOWED),
    Row("service/s3-for-another-bucket", service("s3.amazonaws.com"), "kms:GenerateDataKey", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket"}, NOT_ALLOWED),
    Row("service/glue", service("glue.amazonaws.com"), "kms:Decrypt", KEY_ARN, {"aws:SourceAccount": ACCOUNT},
        NOT_ALLOWED),
    Row("service/quicksight", service("quicksight.amazonaws.com"), "kms:Decrypt", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT}, NOT_ALLOWED),
    Row("service/transcribe", service("transcribe.amazonaws.com"), "kms:GenerateDataKey", KEY_ARN,
        {"aws:SourceAccount": ACCOUNT}, NOT_ALLOWED),
    # Objects: a principal tagged tenant_id=acme stays under acme/ in every bucket.
    Row("objects/tagged-read-own", ACME, "s3:GetObject", f"{INPUT}/acme/calls/call-0001.wav", {}, ALLOWED),
    Row("objects/tagged-read-other-tenant", ACME, "s3:GetObject", f"{INPUT}/globex/calls/call-0001.wav", {}, DENIED),
    Row("objects/tagged-read-tenant-sharing-its-prefix", ACME, "s3:GetObject", f"{INPUT}/acme-corp/calls/call-0001.wav",
        {}, DENIED),
    Row("objects/tagged-read-key-equal-to-tenant-id", ACME, "s3:GetObject", f"{INPUT}/acme", {}, DENIED),
    Row("objects/tagged-read-old-version-other-tenant", ACME, "s3:GetObjectVersion",
        f"{RESULTS}/globex/2025/11/06/call-0001.json", {}, DENIED),
    Row("objects/tagged-write-own", ACME, "s3:PutObject", f"{RESULTS}/acme/2025/11/06/call-0001.json", {}, ALLOWED),
    Row("objects/tagged-write-other-tenant", ACME, "s3:PutObject", f"{RESULTS}/globex/2025/11/06/call-0001.json", {},
        DENIED),
    Row("objects/tagged-delete-other-tenant", ACME, "s3:DeleteObject", f"{INPUT}/globex/calls/call-0001.wav", {},
        DENIED),
    Row("objects/tagged-delete-version-other-tenant", ACME, "s3:DeleteObjectVersion",
        f"{RESULTS}/globex/2025/11/06/call-0001.json", {}, DENIED),
    Row("objects/tagged-tag-other-tenant", ACME, "s3:PutObjectTagging", f"{INPUT}/globex/calls/call-0001.wav", {},
        DENIED),
    Row("objects/tagged-multipart-abort-own", ACME, "s3:AbortMultipartUpload", f"{INPUT}/acme/calls/call-0002.wav", {},
        ALLOWED),
    Row("objects/tagged-multipart-parts-other-tenant", ACME, "s3:ListMultipartUploadParts",
        f"{INPUT}/globex/calls/call-0002.wav", {}, DENIED),
    Row("objects/tagged-athena-staging-own", ACME, "s3:PutObject", f"{STAGING}/acme/query-0001.csv", {}, ALLOWED),
    Row("objects/tagged-athena-staging-other-tenant", ACME, "s3:GetObject", f"{STAGING}/globex/query-0001.csv", {},
        DENIED),
    Row("objects/tagged-athena-staging-shared-location", ACME, "s3:PutObject", f"{STAGING}/query-0001.csv", {}, DENIED),
    Row("objects/untagged-pipeline-reads-any-tenant", PIPELINE, "s3:GetObject", f"{INPUT}/globex/calls/call-0001.wav",
        {}, ALLOWED),
    Row("objects/untagged-broad-role-writes-any-tenant", BROAD, "s3:PutObject", f"{RESULTS}/globex/x.json", {},
        ALLOWED),
    Row("objects/tagged-bucket-level-read", ACME, "s3:GetBucketLocation", INPUT, {}, ALLOWED),
    # Listing: only with s3:prefix under the tenant's own prefix.
    Row("listing/tagged-own-prefix", ACME, "s3:ListBucket", INPUT, {"s3:prefix": "acme/"}, ALLOWED),
    Row("listing/tagged-own-sub-prefix", ACME, "s3:ListBucket", RESULTS, {"s3:prefix": "acme/2025/"}, ALLOWED),
    Row("listing/tagged-other-tenants-prefix", ACME, "s3:ListBucket", INPUT, {"s3:prefix": "globex/"}, DENIED),
    Row("listing/tagged-without-prefix", ACME, "s3:ListBucket", INPUT, {}, DENIED),
    Row("listing/tagged-empty-prefix", ACME, "s3:ListBucket", INPUT, {"s3:prefix": ""}, DENIED),
    Row("listing/tagged-tenant-id-without-slash", ACME, "s3:ListBucket", INPUT, {"s3:prefix": "acme"}, DENIED),
    Row("listing/tagged-versions-own-prefix", ACME, "s3:ListBucketVersions", RESULTS, {"s3:prefix": "acme/"}, ALLOWED),
    Row("listing/tagged-versions-other-prefix", ACME, "s3:ListBucketVersions", RESULTS, {"s3:prefix": "globex/"},
        DENIED),
    Row("listing/tagged-multipart-uploads", ACME, "s3:ListBucketMultipartUploads", INPUT, {}, DENIED),
    Row("listing/tagged-athena-staging-own-prefix", ACME, "s3:ListBucket", STAGING, {"s3:prefix": "acme/"}, ALLOWED),
    Row("listing/untagged-pipeline-whole-bucket", PIPELINE, "s3:ListBucket", INPUT, {}, ALLOWED),
    # Bucket management: a tagged principal may list a bucket and read its region, nothing else on it.
    Row("tagged-bucket-management/put-bucket-policy", ACME, "s3:PutBucketPolicy", INPUT, {}, DENIED),
    Row("tagged-bucket-management/delete-bucket-policy", ACME, "s3:DeleteBucketPolicy", RESULTS, {}, DENIED),
    Row("tagged-bucket-management/get-bucket-policy", ACME, "s3:GetBucketPolicy", INPUT, {}, DENIED),
    Row("tagged-bucket-management/put-lifecycle-configuration", ACME, "s3:PutLifecycleConfiguration", INPUT, {},
        DENIED),
    Row("tagged-bucket-management/put-bucket-versioning", ACME, "s3:PutBucketVersioning", RESULTS, {}, DENIED),
    Row("tagged-bucket-management/put-encryption-configuration", ACME, "s3:PutEncryptionConfiguration", STAGING, {},
        DENIED),
    Row("tagged-bucket-management/put-bucket-notification", ACME, "s3:PutBucketNotification", INPUT, {}, DENIED),
    Row("tagged-bucket-management/put-bucket-public-access-block", ACME, "s3:PutBucketPublicAccessBlock", RESULTS,
        {}, DENIED),
    Row("tagged-bucket-management/put-bucket-ownership-controls", ACME, "s3:PutBucketOwnershipControls", STAGING, {},
        DENIED),
    Row("tagged-bucket-management/put-bucket-tagging", ACME, "s3:PutBucketTagging", INPUT, {}, DENIED),
    Row("tagged-bucket-management/delete-bucket", ACME, "s3:DeleteBucket", STAGING, {}, DENIED),
    Row("tagged-bucket-management/pipeline-role-tagged", TAGGED_PIPELINE, "s3:PutBucketPolicy", INPUT, {}, DENIED),
    Row("untagged-bucket-management/broad-role-put-bucket-policy", BROAD, "s3:PutBucketPolicy", INPUT, {}, ALLOWED),
    Row("untagged-bucket-management/pipeline-put-lifecycle-configuration", PIPELINE, "s3:PutLifecycleConfiguration",
        RESULTS, {}, ALLOWED),
    Row("untagged-bucket-management/key-admin-put-bucket-versioning", KEY_ADMIN, "s3:PutBucketVersioning", STAGING,
        {}, ALLOWED),
    # Plain HTTP is refused to everyone.
    Row("tls/pipeline-over-plain-http", PIPELINE, "s3:GetObject", f"{INPUT}/globex/calls/call-0001.wav", {}, DENIED,
        tls=False),
    Row("tls/tagged-own-prefix-over-plain-http", ACME, "s3:GetObject", f"{INPUT}/acme/calls/call-0001.wav", {}, DENIED,
        tls=False),
    Row("tls/listing-over-plain-http", PIPELINE, "s3:ListBucket", INPUT, {}, DENIED, tls=False),
)  # fmt: skip


# --- the evaluator -------------------------------------------------------------------

# Evaluator gap, worked around here only: @cloud-copilot/iam-simulate 0.1.173 does not read
# kms:EncryptionContext:<key>. It knows the key only as the pattern
# kms:EncryptionContext:${EncryptionContextKey} and matches a request's key to a pattern
# only up to a "/", so it drops ours as unknown (ignoredContextKeys) and every condition on
# it then sees a missing key: guards would look dormant. So the key is renamed, in the policy
# and in the request alike, to a global key it does read, aws:RequestTag/<prefix><key>,
# which IAM evaluates the same way: single-valued string, name matched without regard to
# case, value compared by the operator (StringEquals, StringNotEquals, StringLike, Null).
# test_evaluator_still_drops_kms_encryption_context_keys fails when a new version reads the
# real key; then this workaround goes.
ENCRYPTION_CONTEXT = re.compile(r"kms:EncryptionContext:", re.IGNORECASE)
STAND_IN = "aws:RequestTag/kms-encryption-context."


def with_stand_in(document: Json) -> Json:
    replaced: Json = json.loads(ENCRYPTION_CONTEXT.sub(STAND_IN, json.dumps(document)))
    return replaced


def evaluate(requests: list[Json]) -> dict[str, Json]:
    """Decide every request in one node process; results by request id."""
    node = require_tool("node", shutil.which("node"))
    if not EVALUATOR_PACKAGE.exists():
        require_tool("@cloud-copilot/iam-simulate (run scripts/bootstrap --dev)", None)
    result = subprocess.run(
        [node, str(EVALUATOR_SCRIPT)],
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return {r["id"]: r for r in json.loads(result.stdout)}


def as_aws_receives(raw: str) -> Json:
    """A policy held in a Terraform string, with Terraform's escapes read back."""
    document: Json = json.loads(raw.replace("$${", "${").replace("%%{", "%{"))
    return document


@pytest.fixture(scope="module")
def synthesized(resources: dict[str, dict[str, Any]]) -> dict[str, Json]:
    """The synthesized key policy and bucket policies, as AWS receives them, and the key
    policy of the same stack with ``KEY_ADMIN`` as key administrator (from key_policy,
    which tests/test_stack.py holds equal to what the synth writes)."""
    policies = {"key": as_aws_receives(resources["aws_kms_key"]["master"]["policy"])}
    for name, bucket in resources["aws_s3_bucket_policy"].items():
        policies[name] = as_aws_receives(bucket["policy"])
    with_admin = dataclasses.replace(seed_settings(), key_admin_role_arns=(str(KEY_ADMIN.arn),))
    policies[WITH_ADMIN] = key_policy(with_admin, TEST_TENANTS)
    return policies


def evaluated(rows: tuple[Row, ...], policies: dict[str, Json]) -> dict[str, Json]:
    requests = [row.request({k: with_stand_in(v) for k, v in policies.items()}) for row in rows]
    for request in requests:
        request["context"] = with_stand_in(request["context"])
    return evaluate(requests)


@pytest.fixture(scope="module")
def decisions(synthesized: dict[str, Json]) -> dict[str, Json]:
    return evaluated(ROWS, synthesized)


def test_every_row_has_its_own_kind() -> None:
    kinds = [row.kind for row in ROWS]
    assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize("row", ROWS, ids=[row.kind for row in ROWS])
def test_request_is_decided_as_the_isolation_design_says(decisions: dict[str, Json], row: Row) -> None:
    decision = decisions[row.kind]
    assert decision["errors"] is None, decision["errors"]
    # Every context key given must have been read: a dropped key would make a guard look dormant.
    assert decision["ignoredContextKeys"] == []
    assert decision["decision"] == row.expected


def test_stand_in_replaces_every_encryption_context_key_of_the_synthesized_key_policy(
    synthesized: dict[str, Json],
) -> None:
    raw = json.dumps(synthesized["key"])
    assert raw.count("kms:EncryptionContext:") >= 5
    assert "kms:EncryptionContext:" not in json.dumps(with_stand_in(synthesized["key"]))
    assert json.dumps(with_stand_in(synthesized["key"])).count(STAND_IN) == raw.count("kms:EncryptionContext:")


def test_evaluator_still_drops_kms_encryption_context_keys(synthesized: dict[str, Json]) -> None:
    # Without the stand-in, the evaluator ignores the key: the broad role would pass the guard.
    # When this fails, the pinned evaluator reads kms:EncryptionContext:<key>; drop the stand-in.
    row = next(r for r in ROWS if r.kind == "guarded/broad-role-decrypt")
    (result,) = evaluate([row.request(synthesized)]).values()
    assert result["ignoredContextKeys"] == ["kms:EncryptionContext:tenant_id"]


# --- negative controls: the evaluator sees the holes of the previous policies ----------


@pytest.fixture(scope="module")
def before() -> dict[str, Json]:
    document = json.loads(BEFORE.read_text(encoding="utf-8"))
    return {"key": document["key_policy"], "input": document["bucket_policy_input"]}


HOLES: tuple[tuple[str, str], ...] = (
    ("guarded/broad-role-decrypt", "an IAM kms:* grant opened a guarded tenant's context"),
    ("guarded/account-root-user", "the account root used a guarded tenant's context"),
    ("tagged/grant-for-other-tenants-context", "a tagged principal granted another tenant's context"),
    ("tagged/grant-without-constraint", "a tagged principal created an unconstrained grant"),
    ("objects/tagged-read-other-tenant", "a tagged principal read another tenant's objects"),
    ("listing/tagged-without-prefix", "a tagged principal listed every tenant's keys"),
    ("tagged-key-management/put-key-policy", "a tagged principal rewrote the key policy"),
    ("tagged-key-management/schedule-key-deletion", "a tagged principal scheduled the key's deletion"),
    ("tagged-bucket-management/put-bucket-policy", "a tagged principal rewrote a shared bucket's policy"),
    ("tagged-bucket-management/put-lifecycle-configuration", "a tagged principal changed a shared bucket's lifecycle"),
)


@pytest.mark.parametrize(("kind", "hole"), HOLES, ids=[h[0] for h in HOLES])
def test_evaluator_catches_the_hole_in_the_previous_policies(
    before: dict[str, Json], decisions: dict[str, Json], kind: str, hole: str
) -> None:
    row = next(r for r in ROWS if r.kind == kind)
    previous = evaluated((row,), before)[kind]
    assert previous["errors"] is None and previous["ignoredContextKeys"] == []
    assert previous["decision"] == ALLOWED, f"before issue 13, {hole}"
    assert decisions[kind]["decision"] == DENIED


def markdown_table(decisions: dict[str, Json]) -> str:
    """The request table with each decision, for a report (not used by the tests' asserts)."""
    lines = [
        "| kind | principal | action | resource | context | expected | evaluator |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in ROWS:
        context = ", ".join(f"{k}={v}" for k, v in row.context.items()) + ("" if row.tls else " (plain HTTP)")
        resource = row.resource.replace(f"-{ACCOUNT}-{REGION}", "").replace(KEY_ARN, "key")
        lines.append(
            f"| {row.kind} | {row.principal.label} | {row.action} | {resource} | {context or '-'} | "
            f"{row.expected} | {decisions[row.kind]['decision']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the table from a fresh synth
    import tempfile

    from tests.conftest import synth_to

    with tempfile.TemporaryDirectory() as directory:
        config = json.loads(synth_to(Path(directory), seed_settings(), TEST_TENANTS).read_text(encoding="utf-8"))
    policies = {"key": as_aws_receives(config["resource"]["aws_kms_key"]["master"]["policy"])}
    policies.update({n: as_aws_receives(b["policy"]) for n, b in config["resource"]["aws_s3_bucket_policy"].items()})
    policies[WITH_ADMIN] = key_policy(
        dataclasses.replace(seed_settings(), key_admin_role_arns=(str(KEY_ADMIN.arn),)), TEST_TENANTS
    )
    print(markdown_table(evaluated(ROWS, policies)))
