"""Benchmark the main job: wall time and peak memory, stock import against the fast path.

    pipenv run python bench/synth.py [--repeats 3] [--tenants 1,100,1000,10000] [--no-emulator]
    > bench/RESULTS.md

Each measurement runs ``python main.py`` in a fresh process (as ``cdktf synth`` does)
and samples the resident memory of that process and all its children (the jsii
kernel is a node child) every 10 ms from /proc; the peak is the largest sum seen.

Every path starts from empty caches, as after an install: ``XDG_CACHE_HOME`` (the
fast path's lazy package copy) and ``JSII_RUNTIME_PACKAGE_CACHE_ROOT`` (jsii's
extracted packages and their type index) point at new temporary directories, one
pair per path; the shared ``~/.cache`` is neither read nor touched. The first two
runs of each path at the largest tenant count are reported on their own (the cold
first run and the second run), then runs alternate stock (``CCI_STOCK_IMPORT=1``)
and fast within one session, so both see the same machine load, and the medians are
reported. The reference is a stock import of one AWS resource class (``from
cdktf_cdktf_provider_aws.s3_bucket import S3Bucket``) in the stock path's caches,
measured alternately in the same run.

Also reported: ``terraform validate`` on the 1,000-tenant stack, and ``terraform plan``
and ``apply`` of it on the local AWS emulator. Standard library only, plus the
project's own helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from cci_tools import emulator, terraform  # noqa: E402
from constructs_lib.output import output_files  # noqa: E402

REFERENCE = [sys.executable, "-c", "from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket"]


def _tree_rss_kib(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_sampled(
    command: list[str], env: dict[str, str], *, cwd: Path = PROJECT_DIR, timeout: float = 3600
) -> tuple[float, float, str, str]:
    """Wall seconds, peak MiB of the process tree, stdout and stderr of one run; raises if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate(timeout=timeout)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return wall, peak / 1024, stdout, stderr


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak MiB (process tree) of one run of the synth (or the reference import)."""
    wall, peak, _, stderr = run_sampled(command, env)
    if "warning: fast bindings" in stderr:
        raise RuntimeError(f"the fast path fell back: {stderr}")
    return wall, peak


def tenant_record(i: int) -> dict[str, object]:
    """The benchmark's tenant number ``i``: the first 100 are guarded, each has one own tag."""
    return {
        "tenant_id": f"tenant-{i:05d}",
        "display_name": f"Tenant {i}",
        "kms_guard": i < 100,
        "tags": {"CostCenter": f"cc-{i % 50}"},
    }


def tenants_file(directory: Path, count: int) -> Path:
    path = directory / f"tenants-{count}.json"
    path.write_text(json.dumps({"tenants": [tenant_record(i) for i in range(count)]}), encoding="utf-8")
    return path


def verdict(measured: float, goal: float) -> str:
    return f"measured {measured:.3f}, {'met' if measured <= goal else 'NOT MET'}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
    except (OSError, StopIteration):
        mem_kib = 0
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    tf = json.loads(
        subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True).stdout or "{}"
    ).get("terraform_version", "absent")
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kib / 1048576:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Node {node}, Terraform {tf}"
    )


def terraform_times(workdir: Path, stack_dir: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    env = terraform.terraform_env(terraform.write_cli_config(workdir))
    terraform.run(["init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir, env=env)
    started = time.perf_counter()
    terraform.run(["validate", "-no-color"], cwd=stack_dir, env=env)
    times["terraform validate"] = time.perf_counter() - started
    return times


def emulator_times(workdir: Path, stack_dir: Path, account: str, region: str) -> dict[str, float]:
    times: dict[str, float] = {}
    with emulator.Emulator(account_id=account) as running:
        env = terraform.terraform_env(terraform.write_cli_config(workdir), running.aws_env(region=region))
        shutil.rmtree(stack_dir / ".terraform", ignore_errors=True)
        terraform.init_with_state_file(stack_dir, env=env, state=workdir / "bench.tfstate")
        started = time.perf_counter()
        terraform.run(["plan", "-input=false", "-no-color", "-out=bench.plan"], cwd=stack_dir, env=env)
        times["terraform plan (emulator)"] = time.perf_counter() - started
        started = time.perf_counter()
        terraform.run(["apply", "-input=false", "-no-color", "bench.plan"], cwd=stack_dir, env=env, timeout=1800)
        times["terraform apply (emulator)"] = time.perf_counter() - started
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tenants", default="1,100,1000,10000")
    parser.add_argument("--no-emulator", action="store_true")
    args = parser.parse_args()
    counts = [int(c) for c in args.tenants.split(",")]
    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"}
    base_env.pop("CCI_STOCK_IMPORT", None)
    results: dict[str, list[tuple[float, float]]] = {}
    largest = max(counts)
    with tempfile.TemporaryDirectory(prefix="cci-bench-") as tmp:
        workdir = Path(tmp)
        files = {n: tenants_file(workdir, n) for n in counts}
        paths: dict[str, dict[str, str]] = {}
        for path, extra in (("fast", {}), ("stock", {"CCI_STOCK_IMPORT": "1"})):
            caches = workdir / f"caches-{path}"  # empty: as after an install
            paths[path] = {
                **base_env,
                **extra,
                "XDG_CACHE_HOME": str(caches / "xdg"),
                "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(caches / "jsii-package-cache"),
            }
        first_runs = {
            path: [
                measure(
                    [sys.executable, "main.py"],
                    {**env, "CCI_TENANTS_FILE": str(files[largest]), "CDKTF_OUTDIR": str(workdir / f"first-{path}")},
                )
                for _ in ("first", "second")
            ]
            for path, env in paths.items()
        }
        for _ in range(args.repeats):
            results.setdefault("reference", []).append(measure(REFERENCE, paths["stock"]))
            for n in counts:
                for path in ("stock", "fast"):
                    env = {
                        **paths[path],
                        "CCI_TENANTS_FILE": str(files[n]),
                        "CDKTF_OUTDIR": str(workdir / f"{path}-{n}"),
                    }
                    results.setdefault(f"{path} {n}", []).append(measure([sys.executable, "main.py"], env))
        for n in counts:
            stock, fast = output_files(workdir / f"stock-{n}"), output_files(workdir / f"fast-{n}")
            if not stock or stock != fast:
                raise RuntimeError(f"stock and fast outputs differ at {n} tenants")
        extra_times: dict[str, float] = {}
        if 1000 in counts and terraform.terraform_binary():
            stack_1000 = workdir / "fast-1000" / "stacks" / "cci-lite-production"
            extra_times.update(terraform_times(workdir, stack_1000))
            if not args.no_emulator and emulator.moto_server_binary():
                extra_times.update(emulator_times(workdir, stack_1000, "591338347562", "eu-central-1"))

    def median(key: str, index: int) -> float:
        return statistics.median(r[index] for r in results[key])

    ref_wall, ref_mem = median("reference", 0), median("reference", 1)
    print("# Synth benchmark\n")
    print(f"Machine: {machine()}.\n")
    print(f"Medians of {args.repeats} alternating runs of `python main.py` in one session (`python bench/synth.py`).")
    print("Memory is the peak resident set of python and its node child together, sampled every 10 ms.\n")
    print(f"Reference, a stock import of one AWS resource class: {ref_wall:.2f} s, {ref_mem:.0f} MiB.\n")
    print(
        "| tenants | stock wall | fast wall | fast / reference wall | stock peak | fast peak | fast / reference peak |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in counts:
        sw, fw = median(f"stock {n}", 0), median(f"fast {n}", 0)
        sm, fm = median(f"stock {n}", 1), median(f"fast {n}", 1)
        print(
            f"| {n:,} | {sw:.2f} s | {fw:.2f} s | {fw / ref_wall:.3f} | {sm:.0f} MiB | {fm:.0f} MiB | {fm / ref_mem:.3f} |"
        )
    flat = median(f"fast {largest}", 0) / median(f"fast {min(counts)}", 0)
    fast_ratio = median(f"fast {largest}", 0) / ref_wall
    mem_ratio = median(f"fast {largest}", 1) / ref_mem
    print(f"\nGoals at {largest:,} tenants, fast path:\n")
    print(f"- wall time at most 0.15x the reference: {verdict(fast_ratio, 0.15)}")
    print(f"- peak memory at most 0.35x the reference: {verdict(mem_ratio, 0.35)}")
    print(f"- wall time at most 1.2x that at {min(counts)} tenant(s): {verdict(flat, 1.2)}")
    print("- output byte-identical to the stock import's (every file, every size): identical\n")
    print(f"## The first run after an install, {largest:,} tenants\n")
    print(
        "Each path from empty caches (new `XDG_CACHE_HOME` and `JSII_RUNTIME_PACKAGE_CACHE_ROOT`), "
        "its first and second run, one each:\n"
    )
    print("| path | first run wall | first run peak | second run wall | second run peak |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path, ((w1, m1), (w2, m2)) in first_runs.items():
        print(f"| {path} | {w1:.2f} s | {m1:.0f} MiB | {w2:.2f} s | {m2:.0f} MiB |")
    (_, _), (second_wall, second_mem) = first_runs["fast"]
    print(f"\nGoals for the second fast run at {largest:,} tenants:\n")
    print(f"- wall time at most 0.15x the reference: {verdict(second_wall / ref_wall, 0.15)}")
    print(f"- peak memory at most 0.35x the reference: {verdict(second_mem / ref_mem, 0.35)}\n")
    if extra_times:
        print("| 1,000 tenants | seconds |")
        print("| --- | ---: |")
        for name, seconds in extra_times.items():
            print(f"| {name} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
