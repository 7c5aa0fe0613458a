"""The scanner's waivers: which findings are accepted, for which resources, and why. No jsii import.

The waivers live in ``scan-waivers.toml`` at the project root, one ``[[waiver]]`` table
each::

    [[waiver]]
    check = "CKV_AWS_18"                       # the checkov check id
    title = "server access logging"            # what the check asks for, in a few words
    resources = ["aws_s3_bucket.input"]        # Terraform addresses the waiver covers
    reason = "..."                             # why the finding is accepted
    compensates = "..."                        # what covers the risk instead

A waiver covers exactly the findings of its check on the resources it names, by
Terraform address, and nothing else: ``pipenv run scan`` (cci_tools.scan) reports those
findings as skipped with the reason, fails on every other finding, and fails on a
waiver that names a resource the check does not fail for (stale). checkov cannot skip
a check for one resource in Terraform JSON, and its ``skip-check`` setting hides a
check's findings altogether, so the waivers are not checkov configuration.

The file is TOML (https://toml.io/en/v1.0.0, read with the standard library's
``tomllib``): comments and multi-line strings suit prose, and a repeated key is an
error. Every field is required and no other is allowed; ``load`` reports every problem
at once (``WaiverError``), as the settings checks do.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The project's waiver file.
WAIVERS_FILE = Path(__file__).resolve().parent.parent / "scan-waivers.toml"
#: checkov check ids: CKV_AWS_18, CKV2_AWS_62, CKV_CCI_1.
CHECK_ID = re.compile(r"CKV2?_[A-Z0-9]+_[0-9]+")
#: A resource address of the root module: type.name, with an optional instance key.
ADDRESS = re.compile(r'[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(\[(\d+|"[^"\\]*")\])?')
FIELDS = ("check", "title", "resources", "reason", "compensates")


class WaiverError(Exception):
    """The waiver file is unreadable or invalid: ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class Waiver:
    """One accepted finding kind: checkov check ``check`` on ``resources`` (Terraform addresses)."""

    check: str
    title: str
    resources: tuple[str, ...]
    reason: str
    compensates: str

    def covers(self, check: str, address: str) -> bool:
        return check == self.check and address in self.resources


def _text(value: Any) -> str:
    """A TOML string as one line: multi-line strings are written wrapped."""
    return " ".join(str(value).split())


def load(path: Path = WAIVERS_FILE) -> list[Waiver]:
    """The waivers of ``path``, in file order.

    Raises WaiverError naming every problem: unreadable or invalid TOML, a missing,
    empty, unknown or mistyped field, a check id or address of the wrong form, or one
    (check, address) pair waived twice.
    """
    name = path.name
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WaiverError([f"{name}: cannot read it: {error.strerror or error}"]) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WaiverError([f"{name}: is not valid TOML: {error}"]) from error
    problems = [
        f"{name}: unknown top-level key {key!r}; only [[waiver]] tables are allowed"
        for key in document
        if key != "waiver"
    ]
    entries = document.get("waiver", [])
    if not isinstance(entries, list):
        raise WaiverError([*problems, f"{name}: waiver must be an array of tables ([[waiver]])"])
    waivers: list[Waiver] = []
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        where = f"{name}: waiver[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table ([[waiver]])")
            continue
        where += f" ({entry['check']})" if isinstance(entry.get("check"), str) else ""
        problems += [
            f"{where}: unknown field {key!r}; allowed: {', '.join(FIELDS)}" for key in entry if key not in FIELDS
        ]
        problems += [f"{where}: {key} is missing" for key in FIELDS if key not in entry]
        for key in ("check", "title", "reason", "compensates"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                problems.append(f"{where}: {key} must be a non-empty string, got {entry[key]!r}")
        check = entry.get("check")
        if isinstance(check, str) and check.strip() and not CHECK_ID.fullmatch(check):
            problems.append(f"{where}: check must be a checkov check id such as CKV_AWS_18, got {check!r}")
        resources = entry.get("resources")
        if "resources" in entry and (
            not isinstance(resources, list) or not resources or not all(isinstance(r, str) for r in resources)
        ):
            problems.append(f"{where}: resources must be a non-empty list of Terraform addresses, got {resources!r}")
            resources = None
        for address in resources or []:
            if not ADDRESS.fullmatch(address):
                problems.append(
                    f"{where}: resources: {address!r} is not a Terraform resource address such as aws_s3_bucket.input"
                )
            elif isinstance(check, str):
                if (check, address) in seen:
                    problems.append(
                        f"{where}: {check} on {address} is waived already by waiver[{seen[check, address]}]"
                    )
                seen.setdefault((check, address), index)
        if all(key in entry for key in FIELDS) and isinstance(resources, list):
            waivers.append(
                Waiver(
                    check=str(check),
                    title=_text(entry["title"]),
                    resources=tuple(resources),
                    reason=_text(entry["reason"]),
                    compensates=_text(entry["compensates"]),
                )
            )
    if problems:
        raise WaiverError(problems)
    return waivers
