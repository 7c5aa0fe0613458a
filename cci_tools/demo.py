"""Deploy the foundation to a local AWS emulator and show what was created.

    pipenv run demo        (or scripts/demo on a fresh machine)

Needs no AWS account: it starts moto_server on loopback, synthesizes the stack with
the project's own settings and tenants (``python main.py``), applies it with the real
Terraform and AWS provider, reads back what the emulator holds, and stops the
emulator, also when a step fails. State and output live in a temporary directory.
A missing tool (Node.js, Terraform, moto_server) is one line and exit status 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cci_tools import terraform, tools
from cci_tools.display import visible
from cci_tools.emulator import Emulator
from constructs_lib.config import Settings, load_settings, load_tenants
from constructs_lib.errors import ConfigError
from constructs_lib.naming import BUCKET_ROLES, STACK_TAG_KEYS, Names

PROJECT_DIR = Path(__file__).resolve().parent.parent


def step(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


def deploy(settings: Settings, workdir: Path, emulator: Emulator) -> tuple[Path, dict[str, Any]]:
    """Synthesize with main.py and apply; return the stack directory and its outputs."""
    outdir = workdir / "cdktf.out"
    step("synthesizing with python main.py")
    subprocess.run(
        [sys.executable, str(PROJECT_DIR / "main.py")],
        cwd=PROJECT_DIR,
        env={**os.environ, "CDKTF_OUTDIR": str(outdir)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stack_dir = outdir / "stacks" / Names(settings=settings).stack
    env = terraform.terraform_env(terraform.write_cli_config(workdir), emulator.aws_env(region=settings.region))
    step("terraform init")
    terraform.init_with_state_file(stack_dir, env=env, state=workdir / "terraform.tfstate")
    step("terraform apply (S3 lifecycle rules take the provider about a minute to confirm)")
    terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=stack_dir, env=env)
    return stack_dir, terraform.outputs(stack_dir, env=env)


def report(settings: Settings, emulator: Emulator, outputs: dict[str, Any]) -> list[str]:
    """What the emulator now holds, read back with boto3."""
    s3 = emulator.client("s3", region=settings.region)
    kms = emulator.client("kms", region=settings.region)
    dynamodb = emulator.client("dynamodb", region=settings.region)

    key_arn = outputs["key_arn"]
    rotation = kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]
    lines = [
        f"KMS key   {outputs['key_alias']}  rotation {'on' if rotation else 'OFF'}",
        f"          {key_arn}",
        "Buckets",
    ]
    for role in BUCKET_ROLES:
        name = outputs[f"{role}_bucket_name"]
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "off")
        (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        sse = rule["ApplyServerSideEncryptionByDefault"]
        encryption = "SSE-KMS (foundation key)" if sse.get("KMSMasterKeyID") == key_arn else sse["SSEAlgorithm"]
        expiry = [
            r["Expiration"]["Days"]
            for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
            if "Days" in r.get("Expiration", {})
        ]
        retention = f"expire after {expiry[0]} day(s)" if expiry else "no expiry"
        lines.append(f"          {name}")
        bucket_key = "bucket key" if rule.get("BucketKeyEnabled") else "NO bucket key"
        lines.append(f"            versioning {versioning}, {encryption}, {bucket_key}, {retention}")
    table = dynamodb.describe_table(TableName=outputs["config_table_name"])["Table"]
    lines.append(
        f"Table     {table['TableName']}  deletion protection {'on' if table['DeletionProtectionEnabled'] else 'OFF'}"
    )
    items = sorted(dynamodb.scan(TableName=table["TableName"])["Items"], key=lambda i: i["tenant_id"]["S"])
    lines.append(f"Tenants   {len(items)}")
    for item in items:
        tags = {k: v["S"] for k, v in item["tags"]["M"].items()}
        guard = "KMS guard on" if item["kms_guard"]["BOOL"] is True else "KMS guard off"
        own = ", ".join(f"{visible(k)}={visible(v)}" for k, v in tags.items() if k not in STACK_TAG_KEYS)
        name = visible(item["display_name"]["S"])
        lines.append(f"          {visible(item['tenant_id']['S'])}  '{name}'  {guard}  {own or 'no own tags'}")
    return lines


def main() -> int:
    started = time.monotonic()
    try:
        settings = load_settings(PROJECT_DIR, os.environ)
        load_tenants(settings.tenants_file)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    absent = tools.missing(["synth", "terraform", "moto_server", "boto3"])
    if absent:
        for problem in absent:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cci-demo-") as tmp:
        workdir = Path(tmp)
        try:
            emulator = Emulator(account_id=settings.account_id, log_path=workdir / "moto.log")
            step(f"starting the local AWS emulator (moto_server) on {emulator.endpoint}")
            with emulator:
                _, outputs = deploy(settings, workdir, emulator)
                lines = report(settings, emulator, outputs)
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"error: the demo failed: {error}", file=sys.stderr)
            return 1
    elapsed = time.monotonic() - started
    print(f"CCI Lite foundation on the local AWS emulator: account {settings.account_id}, region {settings.region}")
    print()
    print("\n".join(lines))
    print()
    print(f"Deployed and read back in {elapsed:.0f} s; the emulator is stopped and its state discarded.")
    print("The same synthesized stack deploys to real AWS with real credentials: see README, 'Plan and deploy'.")
    return 0


if __name__ == "__main__":
    from cci_tools import cli

    sys.exit(
        cli.run(
            lambda _argv: main(),
            sys.argv[1:],
            prog="demo",
            interrupted="the emulator is stopped and its state discarded; nothing was deployed to AWS",
        )
    )
