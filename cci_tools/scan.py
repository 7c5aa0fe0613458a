"""Scan the synthesized stacks with checkov and the project's own checks; waived findings show as skipped.

    pipenv run scan [STACK_DIR ...]

With no argument, scans every stack under the output directory (CDKTF_OUTDIR, default
cdktf.out). checkov runs offline with every check (.checkov.yaml: Terraform JSON, the
project's checks in policy_checks/, no download) and reports in JSON; each failed
finding is then matched against the waivers of scan-waivers.toml (cci_tools.waivers)
by check id and Terraform address. Per stack it prints every finding that is not a
pass, one line each:

    FAILED   CKV_AWS_20  aws_s3_bucket.input  Ensure ... (cdk.tf.json:197-212)
    SKIPPED  CKV_AWS_18  aws_s3_bucket.input, aws_s3_bucket.results  server access logging, waived in
             scan-waivers.toml: <reason>
    STALE    waiver CKV_AWS_18 names aws_s3_bucket.logs, which the check does not fail for: ...
    UNPARSED x.tf.json: checkov could not parse it, so none of its resources was checked

and then its summary, ``Passed checks: N, Failed checks: N, Skipped checks: N (waived),
Parsing errors: N``. A waived finding counts as skipped, never as passed.

``imports.tf.json`` (an adopted stack's import blocks, constructs_lib.adoption) holds no
resource, and checkov 3.3.30 cannot parse import blocks; when the file holds nothing
else it is left out of the scan, and the output says so. Any other file checkov cannot
parse counts as a failure: what was not read was not checked.

Exit status: 0 when every finding passed or is waived; 1 on a failed finding, a
parsing error or a stale waiver; 2, with one line each, when there is no synthesized
stack, checkov is not installed or scan-waivers.toml is invalid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cci_tools.waivers import WAIVERS_FILE, Waiver, WaiverError, load
from constructs_lib.output import output_dir

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_DIR / ".checkov.yaml"
#: An adopted stack's import blocks (constructs_lib.adoption.IMPORTS_FILE).
IMPORTS_FILE = "imports.tf.json"


def checkov_binary() -> str | None:
    """checkov from its own virtualenv (scripts/bootstrap --dev), else from PATH."""
    local = PROJECT_DIR / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


#: What to say when checkov is absent: it is a dev tool, in its own virtualenv.
CHECKOV_MISSING = (
    "checkov not found (neither .venv-checkov/bin/checkov nor checkov on PATH): "
    "run scripts/bootstrap --dev, which installs the pinned checkov into .venv-checkov"
)


def run_checkov(stack_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """checkov with the project's configuration on ``stack_dir``; ``extra`` are more arguments."""
    binary = checkov_binary()
    if binary is None:
        raise RuntimeError(CHECKOV_MISSING)
    return subprocess.run(
        [binary, "--config-file", str(CONFIG), "-d", str(stack_dir), *extra],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One checkov result: a check on a resource (its Terraform address)."""

    check: str
    name: str
    address: str
    file: str
    lines: tuple[int, int] | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.lines[0]}-{self.lines[1]}" if self.lines else self.file


@dataclass(frozen=True, kw_only=True)
class StackScan:
    """A stack's findings, classified: passed, failed, skipped by a waiver, and what went unchecked."""

    stack_dir: Path
    passed: tuple[Finding, ...]
    failed: tuple[Finding, ...]
    skipped: tuple[tuple[Finding, Waiver], ...]
    stale: tuple[tuple[Waiver, str], ...]
    unparsed: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not (self.failed or self.stale or self.unparsed)

    def summary(self) -> str:
        return (
            f"Passed checks: {len(self.passed)}, Failed checks: {len(self.failed)}, "
            f"Skipped checks: {len(self.skipped)} (waived), Parsing errors: {len(self.unparsed)}"
        )

    def lines(self) -> list[str]:
        """What ``pipenv run scan`` prints for the stack, its summary last."""
        out = [f"{self.stack_dir}:", *(f"  note: {note}" for note in self.notes)]
        out += [f"  FAILED   {f.check}  {f.address}  {f.name} ({f.where})" for f in self.failed]
        out += [
            f"  UNPARSED {name}: checkov could not parse it, so none of its resources was checked"
            for name in self.unparsed
        ]
        for waiver in dict.fromkeys(w for _, w in self.skipped):  # in the waiver file's order
            addresses = [f.address for f, w in self.skipped if w == waiver]
            out.append(
                f"  SKIPPED  {waiver.check}  {', '.join(addresses)}  {waiver.title}, waived in {WAIVERS_FILE.name}: "
                f"{waiver.reason}"
            )
        out += [
            f"  STALE    waiver {w.check} names {address}, which the check does not fail for: remove it from "
            f"{WAIVERS_FILE.name}"
            for w, address in self.stale
        ]
        return [*out, f"  {self.summary()}"]


def imports_only(path: Path) -> int | None:
    """The number of import blocks in ``path`` if it holds import blocks and nothing else, else None."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or set(document) - {"//", "import"}:
        return None
    blocks = document.get("import", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and set(b) <= {"to", "id"} for b in blocks):
        return None
    return len(blocks)


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def resource_lines(text: str) -> dict[int, str]:
    """Terraform JSON text -> {line of a resource's key: its address}: where checkov's line ranges start."""
    tokens = [(m.group(), m.start()) for m in _JSON_TOKEN.finditer(text)]
    found: dict[int, str] = {}
    path: list[str | None] = []
    key: tuple[str, int] | None = None
    for index, (token, start) in enumerate(tokens):
        if token.startswith('"') and index + 1 < len(tokens) and tokens[index + 1][0] == ":":
            key = (json.loads(token), start)
        elif token in ("{", "["):
            path.append(key[0] if key else None)
            if token == "{" and key and len(path) == 4 and path[1] == "resource":
                found[text.count("\n", 0, key[1]) + 1] = f"{path[2]}.{path[3]}"
            key = None
        elif token in ("}", "]"):
            if path:
                path.pop()
        elif token != ":":
            key = None
    return found


def _findings(results: list[Any], stack_dir: Path) -> list[Finding]:
    """checkov's results as findings, each named by its Terraform address.

    checkov 3.3.30's Terraform JSON runner names a resource check's resource
    ``resource.<name>``, without its type (graph checks give the full address); the
    address is then recovered from the file and the line where checkov found it.
    """
    lines_of: dict[str, dict[int, str]] = {}
    found = []
    for result in results:
        lines = result.get("file_line_range")
        span = (int(lines[0]), int(lines[1])) if isinstance(lines, list) and len(lines) == 2 else None
        file = str(result.get("file_path", "")).lstrip("/")
        address = str(result["resource"])
        if address.startswith("resource.") and span is not None:
            if file not in lines_of:
                path = stack_dir / file
                lines_of[file] = resource_lines(path.read_text(encoding="utf-8")) if path.is_file() else {}
            recovered = lines_of[file].get(span[0])
            if recovered is not None and recovered.split(".", 1)[1] == address.split(".", 1)[1]:
                address = recovered
        found.append(
            Finding(
                check=str(result["check_id"]),
                name=str(result.get("check_name", "")),
                address=address,
                file=file,
                lines=span,
            )
        )
    return sorted(found, key=lambda f: (f.check, f.address))


def classify(stack_dir: Path, report: Any, waivers: list[Waiver], *, notes: tuple[str, ...] = ()) -> StackScan:
    """Sort checkov's JSON report for one stack into passed, failed, waived and stale.

    ``report`` is checkov's ``-o json`` output: one framework's report, or a list of them.
    """
    reports = report if isinstance(report, list) else [report]
    passed: list[Finding] = []
    failing: list[Finding] = []
    unparsed: list[str] = []
    for one in reports:
        results = one.get("results", {}) if isinstance(one, dict) else {}
        passed += _findings(results.get("passed_checks", []), stack_dir)
        failing += _findings(results.get("failed_checks", []), stack_dir)
        unparsed += [os.path.relpath(p, stack_dir) for p in results.get("parsing_errors", [])]
    skipped: list[tuple[Finding, Waiver]] = []
    failed: list[Finding] = []
    for finding in failing:
        waiver = next((w for w in waivers if w.covers(finding.check, finding.address)), None)
        if waiver is None:
            failed.append(finding)
        else:
            skipped.append((finding, waiver))
    skipped.sort(key=lambda pair: (waivers.index(pair[1]), pair[0].address))
    matched = {(f.check, f.address) for f, _ in skipped}
    stale = [(w, address) for w in waivers for address in w.resources if (w.check, address) not in matched]
    return StackScan(
        stack_dir=stack_dir,
        passed=tuple(passed),
        failed=tuple(failed),
        skipped=tuple(skipped),
        stale=tuple(stale),
        unparsed=tuple(sorted(unparsed)),
        notes=notes,
    )


def scan(stack_dir: Path, waivers: list[Waiver]) -> StackScan:
    """Run checkov on one stack directory and classify its findings (see the module docstring)."""
    extra: list[str] = ["-o", "json"]
    notes: tuple[str, ...] = ()
    blocks = imports_only(stack_dir / IMPORTS_FILE)
    if blocks is not None:
        extra += ["--skip-path", r"(^|/)imports\.tf\.json$"]
        notes = (
            f"{IMPORTS_FILE}: {blocks} import block(s) and nothing else: left out of the scan, as the pinned "
            "checkov cannot parse import blocks; they name resources of cdk.tf.json, which is scanned",
        )
    result = run_checkov(stack_dir, *extra)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"checkov gave no JSON report for {stack_dir} (exit {result.returncode}): {last}") from None
    return classify(stack_dir, report, waivers, notes=notes)


def main(argv: list[str]) -> int:
    stacks = [Path(a) for a in argv] or sorted(p for p in (output_dir(os.environ) / "stacks").glob("*") if p.is_dir())
    if not stacks:
        print("error: no synthesized stack found; run pipenv run synth first", file=sys.stderr)
        return 2
    if checkov_binary() is None:
        print(f"error: {CHECKOV_MISSING}", file=sys.stderr)
        return 2
    try:
        waivers = load()
    except WaiverError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    worst = 0
    for stack_dir in stacks:
        scanned = scan(stack_dir, waivers)
        print("\n".join(scanned.lines()))
        worst = max(worst, 0 if scanned.ok else 1)
    return worst


if __name__ == "__main__":
    from cci_tools import cli

    sys.exit(cli.run(main, sys.argv[1:], prog="scan", interrupted="the scan changes no file"))
