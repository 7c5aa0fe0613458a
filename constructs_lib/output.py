"""The synthesized output directory, updated file by file and never wiped. No jsii import.

A stack directory (``cdktf.out/stacks/<stack>/``) is Terraform's working directory:
``terraform init`` writes ``.terraform/`` there (the providers and the record of the
backend, including any ``-backend-config``), and a local backend may keep state there.
So a synth replaces only what it generates and keeps everything else:

1. The app writes the complete new output into a staging directory beside the output
   directory (same file system): ``.cdktf.out.new-<pid>-<random>/``.
2. Only when that succeeded, and under an exclusive lock (``.cdktf.out.lock`` beside
   the output directory, ``fcntl.flock``), each generated file is moved into place with
   ``os.replace``: one atomic rename per file, so Terraform sees either the old file or
   the new one, never part of one. The manifest moves last.
3. Each directory that receives generated files gets a record, ``.cci-lite-generated.json``,
   listing those files with their SHA-256. A file an earlier synth generated that this
   synth no longer writes is removed, unless it was changed since (then it is kept, with
   a warning). Anything not in a record is never touched: ``.terraform/``, state files,
   a user's ``*_override.tf.json``, plan files. Stack directories this synth does not
   produce are left exactly as they are.

A synth that fails or is interrupted (Ctrl-C) before step 2 leaves the previous output byte for byte;
Ctrl-C during step 2 takes effect once every file has moved (constructs_lib.interrupts.InterruptedAfter). Two synths at
once both succeed: the second waits for the first to finish moving its files (one
``note:`` line says so), and the output is then that of the one that finished last.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from constructs_lib.interrupts import deferred

MANIFEST = "manifest.json"
#: The record of what the synth generated in a directory (not read by Terraform: no .tf suffix).
RECORD = ".cci-lite-generated.json"

Warn = Callable[[str], None]

#: In a stack directory synthesized with ``CCI_*`` overrides (config.ENV_OVERRIDES): which ones. Not read by
#: Terraform (no .tf suffix); like every generated file it is in the record, so a later synth without
#: overrides, which does not write it, removes it.
OVERRIDES_FILE = "synth-overrides.json"


def overrides_record(overrides: Collection[str]) -> str:
    """The text of ``OVERRIDES_FILE`` for the names of the ``CCI_*`` variables a synth used."""
    document = {
        "//": "This stack was synthesized with these environment variables overriding cdktf.json.",
        "overrides": sorted(overrides),
    }
    return json.dumps(document, indent=2) + "\n"


def read_overrides(stack_dir: Path) -> list[str]:
    """The ``CCI_*`` overrides a stack directory was synthesized with (``OVERRIDES_FILE``); [] if none."""
    unknown = [f"unknown overrides ({OVERRIDES_FILE} is unreadable)"]
    try:
        document = json.loads((stack_dir / OVERRIDES_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        return unknown
    names = document.get("overrides") if isinstance(document, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else unknown


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all: to a temporary file beside it, then one
    ``os.replace``, so a reader (or a run stopped by Ctrl-C or a full disk) never sees it half written.
    The temporary file is removed if anything fails. Raises OSError."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def output_dir(environ: Mapping[str, str]) -> Path:
    """Where cdktf's App writes by default: ``CDKTF_OUTDIR``, else ``cdktf.out``."""
    return Path(environ.get("CDKTF_OUTDIR") or "cdktf.out")


def output_files(directory: Path) -> dict[str, bytes]:
    """Every file under an output directory, by path relative to it: for comparing two synths."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def lock_path(final: Path) -> Path:
    """The lock file that serializes synths into ``final``: ``.<name>.lock`` beside it."""
    return final.absolute().with_name(f".{final.name}.lock")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def publish(
    final: Path,
    write: Callable[[Path], object],
    *,
    keep_stacks: Collection[str] = (),
    warn: Warn = _stderr,
) -> None:
    """Let ``write`` fill a staging directory beside ``final``, then move its files into ``final``.

    ``write`` must produce a complete cdktf output (ending with ``manifest.json``); if
    it raises, or writes no manifest, ``final`` is not touched and the staging directory
    is removed. ``keep_stacks`` names stacks of the app that this synth does not produce
    (``CCI_STACK`` picked others): their entries in the previous manifest are kept, so
    ``cdktf synth``, which deletes the directory of any stack the manifest does not
    list, leaves their working directories alone. ``warn`` receives one-line notes
    (default: stderr). Raises OSError if a file cannot be moved; files already moved
    are each complete.
    """
    final = final.absolute()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.new-{os.getpid()}-", dir=final.parent))
    try:
        write(staging)
        if not (staging / MANIFEST).is_file():
            raise RuntimeError(f"synth wrote no {MANIFEST} into {staging}")
        with synth_lock(final, warn):
            if final.exists() and not final.is_dir():
                raise RuntimeError(f"{final} exists and is not a directory; move it away")
            # Ctrl-C while the files move waits until all have moved (then InterruptedAfter): the output is
            # the old synth's or the new one's, never a mix. Before this point it leaves ``final`` untouched.
            with deferred():
                _keep_manifest_entries(staging, final, keep_stacks)
                for unit, files in _units(staging):
                    _move_unit(staging / unit, final / unit, files, warn)
                _remove_dead_staging(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def synth_lock(final: Path, warn: Warn = _stderr) -> Iterator[None]:
    """Hold the exclusive lock of the output directory ``final`` (waits for another holder)."""
    path = lock_path(final)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            warn(f"note: waiting for another synth to finish writing {final} (lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _units(staging: Path) -> list[tuple[PurePosixPath, list[PurePosixPath]]]:
    """The staged files grouped by the directory that records them: each stack, then the root.

    A unit is ``stacks/<name>`` (every file below it) or the root (every other file,
    the manifest among them). The root comes last, so the manifest moves last.
    """
    units: dict[PurePosixPath, list[PurePosixPath]] = {}
    for path in sorted(staging.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative = PurePosixPath(path.relative_to(staging).as_posix())
        parts = relative.parts
        unit = PurePosixPath(*parts[:2]) if len(parts) > 2 and parts[0] == "stacks" else PurePosixPath(".")
        units.setdefault(unit, []).append(relative.relative_to(unit))
    return sorted(units.items(), key=lambda item: (item[0] == PurePosixPath("."), str(item[0])))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_record(directory: Path) -> dict[str, str]:
    """The files a previous synth generated in ``directory`` (relative path -> SHA-256); {} if none."""
    try:
        document = json.loads((directory / RECORD).read_text(encoding="utf-8"))
        files = document["files"]
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_unit(source: Path, target: Path, files: list[PurePosixPath], warn: Warn) -> None:
    """Move one unit's staged files into ``target``, then drop what the last synth generated and this one did not."""
    previous = read_record(target)
    written = {str(name): _sha256(source / name) for name in files}
    for name in files:
        _fsync(source / name)  # the data is on disk before the rename makes it visible
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        _replace(source / name, destination)
    for recorded, digest in sorted(previous.items()):
        stale = target / recorded
        inside = not PurePosixPath(recorded).is_absolute() and ".." not in PurePosixPath(recorded).parts
        if recorded in written or not inside or not stale.is_file():
            continue
        if _sha256(stale) == digest:
            stale.unlink()
        else:
            warn(
                f"warning: kept {stale}: an earlier synth generated it and this one does not, but it was changed since"
            )
    document = {"comment": "Files the last synth generated here (constructs_lib/output.py)", "files": written}
    temporary = target / f"{RECORD}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, target / RECORD)
    _fsync(target, directory=True)


def _replace(source: Path, destination: Path) -> None:
    """``os.replace``; across file systems, copy to a temporary name beside the destination first."""
    try:
        os.replace(source, destination)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # The temporary name does not end in .tf or .tf.json: Terraform never reads it.
        temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
        shutil.copy2(source, temporary)
        _fsync(temporary)
        os.replace(temporary, destination)


def _keep_manifest_entries(staging: Path, final: Path, keep_stacks: Collection[str]) -> None:
    """Carry the previous manifest's entries for ``keep_stacks`` into the new manifest."""
    if not keep_stacks:
        return
    try:
        previous: dict[str, Any] = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
        kept = previous["stacks"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    manifest: dict[str, Any] = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    added = False
    for name in sorted(keep_stacks):
        entry = kept.get(name) if isinstance(kept, dict) else None
        if (
            isinstance(entry, dict)
            and name not in manifest["stacks"]
            and isinstance(entry.get("synthesizedStackPath"), str)
            and (final / entry["synthesizedStackPath"]).is_file()
        ):
            manifest["stacks"][name] = entry
            added = True
    if added:
        manifest["stacks"] = dict(sorted(manifest["stacks"].items()))
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _remove_dead_staging(final: Path) -> None:
    """Remove staging directories left by synths that were killed (their process is gone)."""
    for leftover in final.parent.glob(f".{final.name}.new-*"):
        pid_text = leftover.name.removeprefix(f".{final.name}.new-").split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's
