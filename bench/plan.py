"""Benchmark ``terraform plan`` and ``apply`` of one new tenant when many tenants already exist.

    pipenv run python bench/plan.py [--existing 1000] [--repeats 3] [--parallelism 30] >> bench/RESULTS.md

On the local AWS emulator (moto_server) with the real Terraform and AWS provider (from
the filesystem mirror when there is one: cci_tools/terraform.py). Set-up, timed and
reported too: ``--existing`` tenants (bench/synth.py's: the first 100 guarded) are
synthesized with ``python main.py``, then ``terraform init``, ``plan -out`` and
``apply`` into an empty emulator. Then, for each way of running below and each repeat,
one new unguarded tenant (a new id each time) is added to the tenants file,
synthesized, planned and applied:

- ``plan -out=tfplan``, then ``apply tfplan``: the README's workflow (Terraform's
  defaults: every resource refreshed, 10 operations at a time);
- ``apply -auto-approve`` without a saved plan, which plans (and refreshes) again;
- ``-refresh=false``: the plan reads nothing back from AWS and trusts the state;
- ``-parallelism=N``: N operations at a time, refresh included (default 10);
- both;
- ``-target`` of the new tenant's item: only it and what it depends on (the table
  and the key) are refreshed and planned.

Every saved plan must add exactly the new tenant's item and change nothing else, except
one emulator gap allowed explicitly: moto does not echo the bucket notification's
``EventBridgeConfiguration``, so ``aws_s3_bucket_notification.input`` plans an in-place
update every time (against AWS it does not). Every apply must report one resource added
and none destroyed. Reported per way: the median wall time of plan and of apply, and
the peak resident memory of Terraform's process tree (terraform and the provider
plugin), sampled every 10 ms. No timed assertion anywhere: this prints figures.
Standard library only, plus the project's own helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.synth import machine, run_sampled, tenant_record  # noqa: E402
from cci_tools import emulator, terraform, tools  # noqa: E402
from constructs_lib.config import load_settings  # noqa: E402

STACK_FILES = ("cdk.tf.json", "tenants.tf.json")
#: The emulator gap every plan may show besides the new tenant (see the module docstring).
EMULATOR_GAP = {"aws_s3_bucket_notification.input": ["update"]}
APPLIED = re.compile(r"Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed\.")


@dataclass(frozen=True, kw_only=True)
class Way:
    """One way of running plan and apply: the flags of each, or no plan step at all."""

    name: str
    plan: tuple[str, ...] | None  # None: apply -auto-approve plans by itself
    apply: tuple[str, ...]
    target: bool = False  # add -target=<the new tenant's item> to the plan


def ways(parallelism: int) -> list[Way]:
    p = f"-parallelism={parallelism}"
    return [
        Way(name="`plan -out`, `apply` the saved plan (defaults)", plan=(), apply=()),
        Way(name="`apply -auto-approve`, no saved plan (plans again)", plan=None, apply=()),
        Way(name="`-refresh=false`", plan=("-refresh=false",), apply=()),
        Way(name=f"`{p}`", plan=(p,), apply=(p,)),
        Way(name=f"`-refresh=false {p}`", plan=("-refresh=false", p), apply=(p,)),
        Way(name="`-target` of the new tenant's item", plan=(), apply=(), target=True),
    ]


@dataclass(frozen=True, kw_only=True)
class Bench:
    workdir: Path
    stack_dir: Path  # a fixed Terraform working directory: .terraform and the lock file stay
    env: dict[str, str]  # Terraform's, on the emulator
    synth_env: dict[str, str]

    def synth(self, count: int, extra: list[int]) -> None:
        """Write ``count`` tenants plus the tenants numbered ``extra``, synthesize, copy into the stack dir."""
        tenants = [tenant_record(i) for i in range(count)] + [{**tenant_record(i), "kms_guard": False} for i in extra]
        tenants_path = self.workdir / "tenants.json"
        tenants_path.write_text(json.dumps({"tenants": tenants}), encoding="utf-8")
        out = self.workdir / "cdktf.out"
        run_sampled(
            [sys.executable, "main.py"],
            {**self.synth_env, "CCI_TENANTS_FILE": str(tenants_path), "CDKTF_OUTDIR": str(out)},
        )
        (synthesized,) = (out / "stacks").iterdir()
        for name in STACK_FILES:
            shutil.copyfile(synthesized / name, self.stack_dir / name)

    def terraform(self, *args: str) -> tuple[float, float, str]:
        binary = terraform.terraform_binary()
        assert binary is not None  # checked in main
        wall, peak, stdout, _ = run_sampled([binary, *args], self.env, cwd=self.stack_dir)
        return wall, peak, stdout

    def check_plan(self, plan_file: str, expected_create: str) -> None:
        _, _, shown = self.terraform("show", "-json", plan_file)
        changes = {
            change["address"]: change["change"]["actions"]
            for change in json.loads(shown).get("resource_changes", [])
            if change["change"]["actions"] != ["no-op"]
        }
        unexpected = {a: c for a, c in changes.items() if a != expected_create and EMULATOR_GAP.get(a) != c}
        if changes.get(expected_create) != ["create"] or unexpected:
            raise RuntimeError(f"the plan should add only {expected_create}, got {changes}")


def check_applied(stdout: str) -> None:
    found = APPLIED.search(stdout)
    if found is None or found.group(1) != "1" or found.group(3) != "0":
        raise RuntimeError(f"the apply should add one resource and destroy none:\n{stdout[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--existing", type=int, default=1000, help="tenants applied before the measurements")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=30, help="the -parallelism the benchmark tries")
    args = parser.parse_args()
    absent = tools.missing(["synth", "terraform", "moto_server"])
    if absent:
        for problem in absent:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    settings = load_settings(PROJECT_DIR, os.environ)
    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"}
    for name in ("CCI_TENANTS_FILE", "CCI_STACK", "CCI_STOCK_IMPORT", "CDKTF_OUTDIR"):
        base_env.pop(name, None)
    figures: dict[str, list[tuple[float, float, float, float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="cci-bench-plan-") as tmp,
        emulator.Emulator(account_id=settings.account_id) as running,
    ):
        workdir = Path(tmp)
        stack_dir = workdir / "stack"
        stack_dir.mkdir()
        env = terraform.terraform_env(terraform.write_cli_config(workdir), running.aws_env(region=settings.region))
        bench = Bench(workdir=workdir, stack_dir=stack_dir, env=env, synth_env=base_env)

        started = time.perf_counter()
        bench.synth(args.existing, [])
        synth_s = time.perf_counter() - started
        terraform.init_with_state_file(stack_dir, env=env, state=workdir / "bench.tfstate")
        setup_plan_s, setup_plan_mib, _ = bench.terraform("plan", "-input=false", "-no-color", "-out=tfplan")
        setup_apply_s, setup_apply_mib, _ = bench.terraform("apply", "-input=false", "-no-color", "tfplan")

        next_tenant = args.existing
        added: list[int] = []
        for _ in range(args.repeats):
            for way in ways(args.parallelism):
                added.append(next_tenant)
                address = f'aws_dynamodb_table_item.tenant_config["{tenant_record(next_tenant)["tenant_id"]}"]'
                next_tenant += 1
                bench.synth(args.existing, added)
                plan_s = plan_mib = 0.0
                if way.plan is None:
                    apply_s, apply_mib, out = bench.terraform(
                        "apply", "-auto-approve", "-input=false", "-no-color", *way.apply
                    )
                else:
                    target = (f"-target={address}",) if way.target else ()
                    plan_s, plan_mib, _ = bench.terraform(
                        "plan", "-input=false", "-no-color", "-out=tfplan", *way.plan, *target
                    )
                    bench.check_plan("tfplan", address)
                    apply_s, apply_mib, out = bench.terraform(
                        "apply", "-input=false", "-no-color", *way.apply, "tfplan"
                    )
                check_applied(out)
                figures.setdefault(way.name, []).append((plan_s, apply_s, plan_mib, apply_mib))

    print(f"## Plan and apply of one new tenant, {args.existing:,} tenants already applied\n")
    print(f"Machine: {machine()}.\n")
    print(
        f"On the local AWS emulator (moto_server), `python bench/plan.py --existing {args.existing} "
        f"--repeats {args.repeats} --parallelism {args.parallelism}`. "
        f"Set-up: a synth of {args.existing:,} tenants ({min(100, args.existing)} guarded) took {synth_s:.1f} s; "
        f"`terraform plan` of all of them as new {setup_plan_s:.1f} s ({setup_plan_mib:.0f} MiB); "
        f"`apply` {setup_apply_s:.1f} s ({setup_apply_mib:.0f} MiB).\n"
    )
    print(
        f"Then one new unguarded tenant at a time, medians of {args.repeats} (each a new tenant); "
        "every plan added exactly that tenant's item (plus the emulator's notification gap), every apply one "
        "resource. Memory: peak resident set of terraform and the provider plugin.\n"
    )
    print("| how | plan | apply | plan + apply | plan peak | apply peak |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, runs in figures.items():
        plan_s, apply_s, plan_mib, apply_mib = (statistics.median(r[i] for r in runs) for i in range(4))
        plan_cell = f"{plan_s:.1f} s" if plan_s else "(in apply)"
        plan_mem = f"{plan_mib:.0f} MiB" if plan_mib else "-"
        print(
            f"| {name} | {plan_cell} | {apply_s:.1f} s | {plan_s + apply_s:.1f} s | {plan_mem} | {apply_mib:.0f} MiB |"
        )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
