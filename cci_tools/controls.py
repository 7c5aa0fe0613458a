"""The AWS Security Hub controls on this stack's services, and which of them the stack decides. No jsii import.

Each ``Control`` is one Security Hub control as AWS's control reference defines it: its
id, title, the AWS Config resource type it evaluates, and whether the AWS Foundational
Security Best Practices standard (FSBP v1.0.0) includes it. ``assess`` reads the
synthesized stack and gives each control one status:

- ``met``: the control evaluates a resource type this stack creates, and every such
  resource of the stack satisfies it, read from the synthesized JSON;
- ``NOT MET``: some resource of the stack does not, and no waiver covers it;
- ``waived``: the resources that do not satisfy it are covered by a scanner waiver
  (scan-waivers.toml) for the checkov check that tests the same thing: never "met";
- ``account-level``: the control evaluates the account (``AWS::::Account``), which this
  stack does not manage; ``owner`` says who does;
- ``out of scope``: it evaluates resources this stack does not create but others in the
  account do (IAM policies); ``owner`` says who does;
- ``not applicable``: it evaluates a resource type that neither this stack nor the
  design creates (access points, DAX clusters).

"met" is about the configuration Terraform is given; a change made outside Terraform
shows as drift in the next ``terraform plan``.

Sources: the control reference pages for S3, KMS and DynamoDB, and the list of the
FSBP standard's controls:
https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html,
https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html,
https://docs.aws.amazon.com/securityhub/latest/userguide/dynamodb-controls.html,
https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cci_tools.waivers import Waiver
from constructs_lib.policies import unescape_terraform

Json = dict[str, Any]

MET, NOT_MET, WAIVED = "met", "**NOT MET**", "waived"
ACCOUNT_LEVEL, OUT_OF_SCOPE, NOT_APPLICABLE = "account-level", "out of scope", "not applicable"

ACCOUNT_BASELINE = "the account baseline"
#: Security Hub's note on S3.2, S3.3 and KMS.5: it evaluates no condition that uses a
#: wildcard or a policy variable, and this stack's policies use both.
VARIABLES_NOTE = (
    "Security Hub evaluates no policy condition with a wildcard or a policy variable, and this policy's "
    "conditions use them (`${aws:PrincipalTag/tenant_id}`), so its own finding may not read PASSED"
)


@dataclass(frozen=True, kw_only=True)
class Control:
    """One Security Hub control: id, AWS's title, the resource type it evaluates, FSBP membership."""

    control_id: str
    title: str
    resource_type: str
    fsbp: bool
    #: The checkov checks that test the same thing: their waivers are this control's.
    checks: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """A control's status for one stack, and how the stack meets it or who owns it."""

    control: Control
    status: str
    detail: str


CONTROLS: tuple[Control, ...] = (
    Control(control_id="S3.1", title="S3 general purpose buckets should have block public access settings enabled", resource_type="AWS::::Account", fsbp=True),
    Control(control_id="S3.2", title="S3 general purpose buckets should block public read access", resource_type="AWS::S3::Bucket", fsbp=True),
    Control(control_id="S3.3", title="S3 general purpose buckets should block public write access", resource_type="AWS::S3::Bucket", fsbp=True),
    Control(control_id="S3.5", title="S3 general purpose buckets should require requests to use SSL", resource_type="AWS::S3::Bucket", fsbp=True, checks=("CKV_CCI_1",)),
    Control(control_id="S3.6", title="S3 general purpose bucket policies should restrict access to other AWS accounts", resource_type="AWS::S3::Bucket", fsbp=True),
    Control(control_id="S3.8", title="S3 general purpose buckets should block public access", resource_type="AWS::S3::Bucket", fsbp=True, checks=("CKV2_AWS_6",)),
    Control(control_id="S3.9", title="S3 general purpose buckets should have server access logging enabled", resource_type="AWS::S3::Bucket", fsbp=True, checks=("CKV_AWS_18",)),
    Control(control_id="S3.12", title="ACLs should not be used to manage user access to S3 general purpose buckets", resource_type="AWS::S3::Bucket", fsbp=True),
    Control(control_id="S3.13", title="S3 general purpose buckets should have Lifecycle configurations", resource_type="AWS::S3::Bucket", fsbp=True, checks=("CKV2_AWS_61",)),
    Control(control_id="S3.19", title="S3 access points should have block public access settings enabled", resource_type="AWS::S3::AccessPoint", fsbp=True),
    Control(control_id="S3.24", title="S3 Multi-Region Access Points should have block public access settings enabled", resource_type="AWS::S3::MultiRegionAccessPoint", fsbp=True),
    Control(control_id="S3.25", title="S3 directory buckets should have lifecycle configurations", resource_type="AWS::S3Express::DirectoryBucket", fsbp=True),
    Control(control_id="KMS.1", title="IAM customer managed policies should not allow decryption actions on all KMS keys", resource_type="AWS::IAM::Policy", fsbp=True),
    Control(control_id="KMS.2", title="IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys", resource_type="AWS::IAM::Group, AWS::IAM::Role, AWS::IAM::User", fsbp=True),
    Control(control_id="KMS.3", title="AWS KMS keys should not be deleted unintentionally", resource_type="AWS::KMS::Key", fsbp=True),
    Control(control_id="KMS.5", title="KMS keys should not be publicly accessible", resource_type="AWS::KMS::Key", fsbp=True),
    Control(control_id="DynamoDB.1", title="DynamoDB tables should automatically scale capacity with demand", resource_type="AWS::DynamoDB::Table", fsbp=True),
    Control(control_id="DynamoDB.2", title="DynamoDB tables should have point-in-time recovery enabled", resource_type="AWS::DynamoDB::Table", fsbp=True, checks=("CKV_AWS_28",)),
    Control(control_id="DynamoDB.3", title="DynamoDB Accelerator (DAX) clusters should be encrypted at rest", resource_type="AWS::DAX::Cluster", fsbp=True),
    Control(control_id="DynamoDB.6", title="DynamoDB tables should have deletion protection enabled", resource_type="AWS::DynamoDB::Table", fsbp=True, checks=("CKV_CCI_3",)),
    Control(control_id="DynamoDB.7", title="DynamoDB Accelerator clusters should be encrypted in transit", resource_type="AWS::DAX::Cluster", fsbp=True),
    Control(control_id="S3.7", title="S3 general purpose buckets should use cross-Region replication", resource_type="AWS::S3::Bucket", fsbp=False, checks=("CKV_AWS_144",)),
    Control(control_id="S3.10", title="S3 general purpose buckets with versioning enabled should have Lifecycle configurations", resource_type="AWS::S3::Bucket", fsbp=False),
    Control(control_id="S3.11", title="S3 general purpose buckets should have event notifications enabled", resource_type="AWS::S3::Bucket", fsbp=False, checks=("CKV2_AWS_62",)),
    Control(control_id="S3.14", title="S3 general purpose buckets should have versioning enabled", resource_type="AWS::S3::Bucket", fsbp=False, checks=("CKV_AWS_21",)),
    Control(control_id="S3.15", title="S3 general purpose buckets should have Object Lock enabled", resource_type="AWS::S3::Bucket", fsbp=False),
    Control(control_id="S3.17", title="S3 general purpose buckets should be encrypted at rest with AWS KMS keys", resource_type="AWS::S3::Bucket", fsbp=False, checks=("CKV_AWS_145",)),
    Control(control_id="S3.20", title="S3 general purpose buckets should have MFA delete enabled", resource_type="AWS::S3::Bucket", fsbp=False),
    Control(control_id="S3.22", title="S3 general purpose buckets should log object-level write events", resource_type="AWS::::Account", fsbp=False),
    Control(control_id="S3.23", title="S3 general purpose buckets should log object-level read events", resource_type="AWS::::Account", fsbp=False),
    Control(control_id="KMS.4", title="AWS KMS key rotation should be enabled", resource_type="AWS::KMS::Key", fsbp=False, checks=("CKV_AWS_7",)),
    Control(control_id="DynamoDB.4", title="DynamoDB tables should be present in a backup plan", resource_type="AWS::DynamoDB::Table", fsbp=False),
    Control(control_id="DynamoDB.5", title="DynamoDB tables should be tagged", resource_type="AWS::DynamoDB::Table", fsbp=False),
)  # fmt: skip

_PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def _policy(resource: Json) -> Json:
    document: Json = json.loads(unescape_terraform(resource["policy"]))
    return document


def _statements(policy: Json) -> list[Json]:
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _allows_anyone(statement: Json) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", [])))
    return bool(statement.get("Effect") == "Allow" and (everyone or "NotPrincipal" in statement))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_insecure_transport(policy: Json, bucket: str) -> bool:
    """A Deny of ``s3:*`` to everyone on the bucket and its objects when ``aws:SecureTransport`` is false."""

    def covers(resources: list[Any], suffix: str) -> bool:
        return any(isinstance(r, str) and r.startswith("arn:") and r.endswith(f":::{suffix}") for r in resources)

    return any(
        s.get("Effect") == "Deny"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and s.get("Action") in ("s3:*", ["s3:*"])
        and covers(_as_list(s.get("Resource", [])), bucket)
        and covers(_as_list(s.get("Resource", [])), f"{bucket}/*")
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in _statements(policy)
    )


class _Stack:
    """The synthesized stack's resources by address, with the per-bucket reads the controls need."""

    def __init__(self, stack: Json) -> None:
        self.resources: Json = stack.get("resource", {})
        self.buckets = sorted(self.resources.get("aws_s3_bucket", {}))
        self.keys = sorted(self.resources.get("aws_kms_key", {}))
        self.tables = sorted(self.resources.get("aws_dynamodb_table", {}))

    def of(self, rtype: str, name: str) -> Json | None:
        resource = self.resources.get(rtype, {}).get(name)
        return resource if isinstance(resource, dict) else None

    def bucket_name(self, name: str) -> str:
        return str(self.resources["aws_s3_bucket"][name].get("bucket", ""))


def _each(addresses: list[str], test: Callable[[str], bool]) -> list[str]:
    """The addresses among ``addresses`` that fail ``test``."""
    return [a for a in addresses if not test(a)]


def _bucket_tests(s: _Stack) -> dict[str, Callable[[str], bool]]:
    def pab(b: str) -> bool:
        block = s.of("aws_s3_bucket_public_access_block", b) or {}
        return all(block.get(flag) is True for flag in _PUBLIC_ACCESS_FLAGS)

    def policy_of(b: str) -> Json:
        resource = s.of("aws_s3_bucket_policy", b)
        return _policy(resource) if resource else {"Statement": []}

    def no_public_statement(b: str) -> bool:
        return pab(b) and not any(_allows_anyone(st) for st in _statements(policy_of(b)))

    def versioned(b: str) -> bool:
        versioning = s.of("aws_s3_bucket_versioning", b) or {}
        return (versioning.get("versioning_configuration") or {}).get("status") == "Enabled"

    def lifecycle(b: str) -> bool:
        rules = (s.of("aws_s3_bucket_lifecycle_configuration", b) or {}).get("rule") or []
        return any(r.get("status") == "Enabled" for r in rules)

    def kms(b: str) -> bool:
        sse = s.of("aws_s3_bucket_server_side_encryption_configuration", b) or {}
        rules = sse.get("rule") or [{}]
        default = rules[0].get("apply_server_side_encryption_by_default") or {}
        return default.get("sse_algorithm") in ("aws:kms", "aws:kms:dsse")

    def acls_disabled(b: str) -> bool:
        rule: Any = (s.of("aws_s3_bucket_ownership_controls", b) or {}).get("rule") or {}
        first = rule[0] if isinstance(rule, list) and rule else rule
        return isinstance(first, dict) and first.get("object_ownership") == "BucketOwnerEnforced"

    return {
        "pab": pab,
        "private": no_public_statement,
        "no_allow": lambda b: not any(st.get("Effect") == "Allow" for st in _statements(policy_of(b))),
        "tls": lambda b: _denies_insecure_transport(policy_of(b), s.bucket_name(b)),
        "acls": acls_disabled,
        "lifecycle": lifecycle,
        "versioned": versioned,
        "versioned_lifecycle": lambda b: not versioned(b) or lifecycle(b),
        "kms": kms,
        "logging": lambda b: (
            s.of("aws_s3_bucket_logging", b) is not None or "logging" in s.resources["aws_s3_bucket"][b]
        ),
        "replication": lambda b: s.of("aws_s3_bucket_replication_configuration", b) is not None,
        "events": lambda b: (
            bool((s.of("aws_s3_bucket_notification", b) or {}).get("eventbridge"))
            or any((s.of("aws_s3_bucket_notification", b) or {}).get(k) for k in ("queue", "topic", "lambda_function"))
        ),
        "object_lock": lambda b: bool(s.resources["aws_s3_bucket"][b].get("object_lock_enabled")),
    }


def assess(stack: Json, waivers: list[Waiver]) -> list[Assessment]:
    """Every control of CONTROLS, in order, with its status for the synthesized ``stack`` (read_stack)."""
    s = _Stack(stack)
    bucket = _bucket_tests(s)
    buckets = [f"aws_s3_bucket.{b}" for b in s.buckets]

    def on_buckets(test: str, how: str, note: str = "") -> Callable[[Control], Assessment]:
        def judge(control: Control) -> Assessment:
            failing = [f"aws_s3_bucket.{b}" for b in _each(s.buckets, bucket[test])]
            return _judge(control, buckets, failing, how, waivers, note)

        return judge

    def on(
        addresses: list[str], test: Callable[[], list[str]], how: str, note: str = ""
    ) -> Callable[[Control], Assessment]:
        return lambda control: _judge(control, addresses, test(), how, waivers, note)

    keys = [f"aws_kms_key.{k}" for k in s.keys]
    tables = [f"aws_dynamodb_table.{t}" for t in s.tables]

    def key_test(test: Callable[[Json], bool]) -> Callable[[], list[str]]:
        return lambda: [f"aws_kms_key.{k}" for k in s.keys if not test(s.resources["aws_kms_key"][k])]

    def table_test(test: Callable[[Json], bool]) -> Callable[[], list[str]]:
        return lambda: [f"aws_dynamodb_table.{t}" for t in s.tables if not test(s.resources["aws_dynamodb_table"][t])]

    def fixed(status: str, detail: str) -> Callable[[Control], Assessment]:
        return lambda control: Assessment(control=control, status=status, detail=detail)

    def backed_up(table: str) -> bool:
        """Does an ``aws_backup_selection`` of the stack name the table?"""
        selections = s.resources.get("aws_backup_selection", {}).values()
        return any(f"aws_dynamodb_table.{table}." in json.dumps(selection) for selection in selections)

    def prevented(resource: Json) -> bool:
        return resource.get("lifecycle", {}).get("prevent_destroy") is True

    judges: dict[str, Callable[[Control], Assessment]] = {
        "S3.1": fixed(
            ACCOUNT_LEVEL,
            f"owned by {ACCOUNT_BASELINE}: the account's S3 Block Public Access, which this stack does not "
            "manage; each of its buckets blocks public access itself (S3.8)",
        ),
        "S3.2": on_buckets("private", "all four public access blocks, and no bucket policy statement allows anyone", VARIABLES_NOTE),
        "S3.3": on_buckets("private", "all four public access blocks, and no bucket policy statement allows anyone", VARIABLES_NOTE),
        "S3.5": on_buckets("tls", "`aws_s3_bucket_policy.*`: Deny of `s3:*` on the bucket and its objects when `aws:SecureTransport` is false"),
        "S3.6": on_buckets("no_allow", "`aws_s3_bucket_policy.*` allows nothing to anyone: every statement is a Deny"),
        "S3.8": on_buckets("pab", "`aws_s3_bucket_public_access_block.*`: all four settings true"),
        "S3.9": on_buckets("logging", "server access logging on every bucket"),
        "S3.12": on_buckets("acls", "`aws_s3_bucket_ownership_controls.*`: BucketOwnerEnforced (ACLs disabled)"),
        "S3.13": on_buckets("lifecycle", "`aws_s3_bucket_lifecycle_configuration.*` on every bucket"),
        "S3.19": fixed(NOT_APPLICABLE, "the stack creates no S3 access point"),
        "S3.24": fixed(NOT_APPLICABLE, "the stack creates no Multi-Region Access Point"),
        "S3.25": fixed(NOT_APPLICABLE, "the stack creates no directory bucket"),
        "KMS.1": fixed(
            OUT_OF_SCOPE,
            "IAM customer managed policies: this stack writes none; owned by whoever writes the IAM policies of the "
            "pipeline's roles and of the account",
        ),
        "KMS.2": fixed(
            OUT_OF_SCOPE,
            "IAM inline policies: this stack writes none; owned by whoever writes the IAM policies of the pipeline's "
            "roles and of the account",
        ),
        "KMS.3": on(
            keys,
            key_test(lambda k: prevented(k) and int(k.get("deletion_window_in_days", 0)) >= 7),
            "`aws_kms_key.master`: prevent_destroy (Terraform never schedules its deletion), and a "
            f"{', '.join(str(s.resources['aws_kms_key'][k].get('deletion_window_in_days')) for k in s.keys) or '-'}-day "
            "deletion window in which a deletion someone schedules can be cancelled",
        ),
        "KMS.5": on(
            keys,
            key_test(lambda k: not any(_allows_anyone(st) for st in _statements(_policy(k)))),
            "no key policy statement allows anyone (`*`); every service-principal Allow names the account (CKV_CCI_4)",
            VARIABLES_NOTE,
        ),
        "DynamoDB.1": on(tables, table_test(lambda t: t.get("billing_mode") == "PAY_PER_REQUEST"), "`aws_dynamodb_table.tenant_config`: on-demand capacity (PAY_PER_REQUEST)"),
        "DynamoDB.2": on(tables, table_test(lambda t: (t.get("point_in_time_recovery") or {}).get("enabled") is True), "`aws_dynamodb_table.tenant_config`: point-in-time recovery"),
        "DynamoDB.3": fixed(NOT_APPLICABLE, "the stack creates no DAX cluster"),
        "DynamoDB.6": on(tables, table_test(lambda t: t.get("deletion_protection_enabled") is True), "`aws_dynamodb_table.tenant_config`: deletion protection"),
        "DynamoDB.7": fixed(NOT_APPLICABLE, "the stack creates no DAX cluster"),
        "S3.7": on_buckets("replication", "cross-Region replication on every bucket"),
        "S3.10": on_buckets("versioned_lifecycle", "`aws_s3_bucket_lifecycle_configuration.*` on every versioned bucket"),
        "S3.11": on_buckets("events", "event notifications on every bucket"),
        "S3.14": on_buckets("versioned", "`aws_s3_bucket_versioning.*`: Enabled"),
        "S3.15": on_buckets(
            "object_lock",
            "Object Lock on every bucket",
            "not configured: Object Lock retention would keep the objects the design deletes after 1 day (input) and 30 days (results)",
        ),
        "S3.17": on_buckets("kms", "`aws_s3_bucket_server_side_encryption_configuration.*`: SSE-KMS with `aws_kms_key.master`"),
        "S3.20": lambda control: (
            Assessment(
                control=control,
                status=NOT_APPLICABLE,
                detail="Security Hub gives no finding for a bucket with a lifecycle configuration, and every bucket "
                "of the stack has one (S3 does not allow MFA delete beside lifecycle rules)",
            )
            if not _each(s.buckets, bucket["lifecycle"])
            else _judge(control, buckets, [f"aws_s3_bucket.{b}" for b in _each(s.buckets, bucket["lifecycle"])], "", waivers, "no MFA delete")
        ),
        "S3.22": fixed(ACCOUNT_LEVEL, f"owned by {ACCOUNT_BASELINE}: a multi-Region CloudTrail trail with S3 data events"),
        "S3.23": fixed(ACCOUNT_LEVEL, f"owned by {ACCOUNT_BASELINE}: a multi-Region CloudTrail trail with S3 data events"),
        "KMS.4": on(keys, key_test(lambda k: k.get("enable_key_rotation") is True), "`aws_kms_key.master`: automatic key rotation"),
        "DynamoDB.4": on(
            tables,
            lambda: [f"aws_dynamodb_table.{t}" for t in s.tables if not backed_up(t)],
            "`aws_backup_selection`: in an AWS Backup plan",
            "no AWS Backup plan selects the table here; point-in-time recovery (35 days) and deletion protection "
            "cover it instead. A backup plan of the account that selects it by tag would meet the control",
        ),
        "DynamoDB.5": on(tables, table_test(lambda t: bool(t.get("tags"))), "`aws_dynamodb_table.tenant_config`: tagged (Component, and the provider's default tags)"),
    }  # fmt: skip
    return [judges[c.control_id](c) for c in CONTROLS]


def _judge(
    control: Control, addresses: list[str], failing: list[str], how: str, waivers: list[Waiver], note: str
) -> Assessment:
    """met / waived / NOT MET for a control evaluated on ``addresses``, of which ``failing`` fail it."""
    if not addresses:
        return Assessment(control=control, status=NOT_APPLICABLE, detail="the stack has no resource of this type")
    if not failing:
        return Assessment(control=control, status=MET, detail=how + (f". {note}" if note else ""))
    covering = [w for w in waivers if w.check in control.checks]
    uncovered = [a for a in failing if not any(w.covers(w.check, a) for w in covering)]
    shown = ", ".join(f"`{a}`" for a in failing)
    if not uncovered:
        checks = ", ".join(dict.fromkeys(w.check for w in covering if set(w.resources) & set(failing)))
        met = [a for a in addresses if a not in failing]
        also = f"; met by {', '.join(f'`{a}`' for a in met)}" if met else ""
        return Assessment(
            control=control, status=WAIVED, detail=f"waived for {shown} ({checks}, see Scanner waivers){also}"
        )
    return Assessment(control=control, status=NOT_MET, detail=f"not met by {shown}" + (f": {note}" if note else ""))
