"""Terraform state backends as validated settings, with no jsii import.

Three kinds, chosen per environment in ``cdktf.json`` (``backend``) or for one run
with ``CCI_BACKEND`` (a JSON object, or just ``local``):

- ``{"type": "local"}`` (the default): a state file beside the output directory,
  ``terraform.<stack>.tfstate``, outside the synthesized directory. ``path`` sets
  another one.
- ``{"type": "s3", "bucket": ..., "region": ..., "kms_key_id": ..., "key": ...}``:
  state encrypted with SSE-KMS under that key and locked with Terraform's S3-native
  lock file (``use_lockfile``). ``key`` defaults to ``<stack>/terraform.tfstate``.
- ``{"type": "cloud", "organization": ..., "workspace": ...}`` or with
  ``"workspace_tags": [...]`` instead of ``workspace``: Terraform Cloud / HCP
  Terraform. ``hostname`` defaults to ``app.terraform.io``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from constructs_lib import aws_rules
from constructs_lib.aws_rules import refused_characters
from constructs_lib.literal_text import code_problem

TFC_NAME = re.compile(r"[A-Za-z0-9_-]{1,90}")
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")


@dataclass(frozen=True, kw_only=True)
class LocalBackendSettings:
    """Default: ``../../../terraform.<stack>.tfstate`` from the stack directory."""

    path: str | None = None


@dataclass(frozen=True, kw_only=True)
class S3BackendSettings:
    bucket: str
    region: str
    kms_key_id: str
    key: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloudBackendSettings:
    organization: str
    workspace: str | None = None
    workspace_tags: tuple[str, ...] = ()
    hostname: str = "app.terraform.io"


BackendSettings = LocalBackendSettings | S3BackendSettings | CloudBackendSettings

_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # type: (required, optional)
    "local": (set(), {"path"}),
    "s3": ({"bucket", "region", "kms_key_id"}, {"key"}),
    "cloud": ({"organization"}, {"workspace", "workspace_tags", "hostname"}),
}


def parse_backend_override(text: str, source: str) -> tuple[Any, list[str]]:
    """``CCI_BACKEND``: a JSON object, or a bare ``local``."""
    if text.strip() == "local":
        return {"type": "local"}, []
    try:
        return json.loads(text), []
    except json.JSONDecodeError:
        return None, [f'{source} must be "local" or a JSON object such as {{"type": "s3", ...}}, got {text!r}']


def parse_backend(raw: Any, source: str, known_regions: frozenset[str]) -> tuple[BackendSettings | None, list[str]]:
    """Validate one backend setting; returns the settings or the problems, one line each."""
    if raw is None:
        return LocalBackendSettings(), []
    if not isinstance(raw, dict):
        return None, [f'{source} must be an object such as {{"type": "local"}}, got {json.dumps(raw)}']
    kind = raw.get("type")
    if kind not in _FIELDS:
        return None, [f"{source}.type must be one of local, s3, cloud, got {json.dumps(kind)}"]
    required, optional = _FIELDS[kind]
    problems = [
        f"{source}.{key} is not a setting of a {kind} backend (allowed: {', '.join(sorted(required | optional))})"
        for key in sorted(set(raw) - required - optional - {"type"})
    ]
    problems += [
        f"{source}.{key} is missing; a {kind} backend needs {', '.join(sorted(required))}"
        for key in sorted(required - set(raw))
    ]
    # Every problem at once: each field that is there and of the right type is checked on, whatever else is
    # missing or wrong (``valid``); a check across two fields runs when both are valid.
    valid: dict[str, Any] = {}
    for key in sorted((required | optional) & set(raw)):
        value = raw[key]
        if key == "workspace_tags":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(t, str) and TFC_NAME.fullmatch(t) for t in value)
            ):
                problems.append(
                    f"{source}.workspace_tags must be a non-empty list of tag names, got {json.dumps(value)}"
                )
            else:
                valid[key] = value
        elif not isinstance(value, str) or not value:
            problems.append(f"{source}.{key} must be a non-empty string, got {json.dumps(value)}")
        elif (problem := code_problem(value, templates=True)) is not None:
            # A backend block is read before anything can be evaluated: no escaping helps.
            problems.append(f"{source}.{key} {problem}, got {value!r}")
        else:
            valid[key] = value

    if kind == "local":
        if problems:
            return None, problems
        return LocalBackendSettings(path=raw.get("path")), []
    if kind == "s3":
        if "bucket" in valid and (bucket_problems := aws_rules.bucket_name_problems(valid["bucket"])):
            problems.append(
                f"{source}.bucket must be an S3 bucket name ({'; '.join(bucket_problems)}), got {raw['bucket']!r}"
            )
        region = valid.get("region")
        if region is not None and region not in known_regions:
            problems.append(
                f"{source}.region must be an AWS region such as 'eu-central-1'"
                f"{aws_rules.refused_characters(str(region), aws_rules.REGION_CHARACTERS)}, got {region!r}"
            )
        key_problems = aws_rules.kms_key_arn_problems(valid["kms_key_id"]) if "kms_key_id" in valid else []
        if key_problems:
            problems.append(
                f"{source}.kms_key_id must be a KMS key or alias ARN (arn:<partition>:kms:<region>:<account>:key/<id>, "
                f"the id a UUID or mrk- and 32 hex digits): {'; '.join(key_problems)}, got {raw['kms_key_id']!r}"
            )
        elif "kms_key_id" in valid and region in known_regions:
            # SSE-KMS takes a key in the bucket's own region, hence partition; any account.
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
            arn = aws_rules.parse_arn(raw["kms_key_id"])
            partition = aws_rules.partition_of(region)
            if arn is not None and (arn.partition, arn.region) != (partition, region):
                problems.append(
                    f"{source}.kms_key_id {raw['kms_key_id']!r} is not a key in region {region} of partition "
                    f"{partition!r}; S3 encrypts the state only with a key in the state bucket's region"
                )
        state_key: str | None = valid.get("key")
        if state_key is not None and (state_key.startswith("/") or state_key.endswith("/")):
            problems.append(f"{source}.key must be an object key without leading or trailing '/', got {state_key!r}")
        if state_key is not None and (object_key_problems := aws_rules.s3_object_key_problems(state_key)):
            problems.append(f"{source}.key must be an S3 object key ({object_key_problems[0]}), got {state_key!r}")
        if problems:
            return None, problems
        return S3BackendSettings(
            bucket=raw["bucket"], region=raw["region"], kms_key_id=raw["kms_key_id"], key=state_key
        ), []

    has_name, has_tags = "workspace" in raw, "workspace_tags" in raw
    if has_name == has_tags:
        problems.append(f"{source} needs exactly one of workspace (a name) or workspace_tags (a list)")
    if "organization" in valid and not TFC_NAME.fullmatch(valid["organization"]):
        problems.append(
            f"{source}.organization must be a Terraform Cloud organization name"
            f"{refused_characters(raw['organization'], TFC_NAME.pattern)}, got {raw['organization']!r}"
        )
    if "workspace" in valid and not TFC_NAME.fullmatch(valid["workspace"]):
        problems.append(
            f"{source}.workspace must be 1-90 letters, digits, '-' or '_'"
            f"{refused_characters(raw['workspace'], TFC_NAME.pattern)}, got {raw['workspace']!r}"
        )
    hostname = valid.get("hostname", "app.terraform.io")
    if ("hostname" in valid or "hostname" not in raw) and not HOSTNAME.fullmatch(hostname):
        problems.append(
            f"{source}.hostname must be a host name such as 'app.terraform.io'"
            f"{refused_characters(hostname, HOSTNAME.pattern)}, got {hostname!r}"
        )
    if problems:
        return None, problems
    return CloudBackendSettings(
        organization=raw["organization"],
        workspace=raw.get("workspace"),
        workspace_tags=tuple(raw.get("workspace_tags", ())),
        hostname=hostname,
    ), []
