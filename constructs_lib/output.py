"""The synthesized output directory, replaced all or nothing. No jsii import."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path


def output_dir(environ: Mapping[str, str]) -> Path:
    """Where cdktf's App writes by default: ``CDKTF_OUTDIR``, else ``cdktf.out``."""
    return Path(environ.get("CDKTF_OUTDIR") or "cdktf.out")


def output_files(directory: Path) -> dict[str, bytes]:
    """Every file under an output directory, by path relative to it: for comparing two synths."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def replace_atomically(final: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a new directory beside ``final``, then swap it in.

    The new output is written next to ``final`` (same file system, so the swap is
    two renames) and must end with cdktf's ``manifest.json``. If ``write`` raises,
    the new directory is removed and ``final`` stays byte for byte as it was.
    """
    final = final.absolute()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.new-", dir=final.parent))
    try:
        write(staging)
        if not (staging / "manifest.json").is_file():
            raise RuntimeError(f"synth wrote no manifest.json into {staging}")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the output is not secret
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
