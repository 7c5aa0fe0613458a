"""Load only the parts of the prebuilt AWS bindings this stack uses.

Why: ``import cdktf_cdktf_provider_aws`` costs 10-15 s and over 1 GB on our machines.
The package's root ``__init__.py`` eagerly imports all ~2,140 resource submodules, and
its JavaScript index eagerly ``require``s them all in the jsii kernel (node), though
the stack uses ten resource types.

How (two independent pieces, both reversible):

1. Python: a stand-in module object for ``cdktf_cdktf_provider_aws`` whose
   ``__path__`` is the real package directory, so ``import
   cdktf_cdktf_provider_aws.s3_bucket`` loads that submodule and nothing else. The
   root ``__init__`` only re-exports submodules; the submodules do not use it.
2. JavaScript: a copy of the package tarball whose ``lib/index.js`` defines each
   submodule as a lazy getter (``Object.defineProperty(exports, name, {get})``), the
   mechanism aws-cdk-lib uses, instead of ``exports.name = require(...)``. The jsii
   kernel then loads a submodule's JavaScript when a type from it is first used. The
   copy lives in ``$XDG_CACHE_HOME/cci-lite/`` (default ``~/.cache``) and the
   ``_jsii`` module is loaded from there.

Limits: both rely on the layout of the pinned packages (``PINNED``); any other
version, a missing file or any error falls back to the stock import with a one-line
warning, never to a wrong or missing output. ``CCI_STOCK_IMPORT=1`` selects the stock
path. tests/test_fast_load.py compares the bytes of both paths' output.

The first run after an install: jsii extracts each package tarball into its package
cache (``JSII_RUNTIME_PACKAGE_CACHE_ROOT``, default ``~/.cache/aws/jsii/package-cache``)
and, when a package has no runtime index yet, parses its whole assembly (120 MB for the
AWS provider) and starts a worker thread in the kernel that writes the index beside
the extracted package. A short process (``python main.py``, ``cdktf synth``, a CI job)
used to exit before that worker finished, so every later run parsed the assembly
again: about 3 s and 0.8 GiB instead of about 1 s and 0.25 GiB.
``await_runtime_indexes()`` keeps the process alive, bounded, until the indexes of
every package it loaded are written; main.py calls it after the synth, and
``warm_up()`` (``python -m constructs_lib.fast_load``, run by scripts/bootstrap) does
the whole preparation ahead of the first synth.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tarfile
import time
import types
import typing
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from importlib.machinery import ModuleSpec
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
#: The exact versions whose layout this module was written against.
PINNED = {"cdktf-cdktf-provider-aws": "20.1.0", "cdktf": "0.21.0", "jsii": "1.142.0"}
VERSION = PINNED["cdktf-cdktf-provider-aws"]
TARBALL = f"provider-aws@{VERSION}.jsii.tgz"
_EAGER = re.compile(r'^exports\.(\w+) = require\("(\./[\w-]+)"\);$', re.MULTILINE)
#: jsii's name for the assembly, the first part of its package-cache path.
ASSEMBLY = "@cdktf/provider-aws"
#: Written by jsii (pinned) last, after the index and the type definitions: the index is complete.
RUNTIME_INDEX_MANIFEST = ".jsii.runtime.v1.json"
#: Beside the lazy tarball: the key of its directory in jsii's package cache (see jsii_cache_key).
CACHE_KEY_SUFFIX = ".jsii-cache-key"

state = {"path": "stock", "reason": "not attempted"}


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cci-lite" / f"lazy-provider-aws-{VERSION}"


def lazy_index(source: str) -> str:
    """``exports.x = require("./x");`` becomes a lazy, enumerable getter."""
    lazy, count = _EAGER.subn(
        r'Object.defineProperty(exports, "\1", { enumerable: true, configurable: true, get: () => require("\2") });',
        source,
    )
    if count < 1000:
        raise RuntimeError(f"unexpected lib/index.js layout: {count} eager submodule requires")
    return lazy


def _build_lazy_tarball(original: Path, target: Path) -> None:
    """Copy the package tarball with a lazy lib/index.js (streamed, written atomically).

    Also writes the copy's jsii package-cache key beside it (``CACHE_KEY_SUFFIX``), so
    later runs can find its extracted directory without hashing 50 MB.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"note: building the lazy copy of the AWS provider bindings in {target.parent.parent} "
        "(once after an install, a few seconds)",
        file=sys.stderr,
        flush=True,
    )
    partial = target.with_suffix(f".tmp-{os.getpid()}")
    try:
        with (
            tarfile.open(original, "r:gz") as source,
            open(partial, "wb") as raw,
            _GzipWriter(raw) as compressed,
            tarfile.open(fileobj=typing.cast(typing.BinaryIO, compressed), mode="w") as copy,  # writes only
        ):
            replaced = False
            for member in source:
                data = source.extractfile(member) if member.isfile() else None
                if member.name == "package/lib/index.js" and data is not None:
                    text = lazy_index(data.read().decode("utf-8")).encode("utf-8")
                    member.size = len(text)
                    copy.addfile(member, _BytesReader(text))
                    replaced = True
                else:
                    copy.addfile(member, data)
            if not replaced:
                raise RuntimeError("package/lib/index.js not found in the provider tarball")
        key = jsii_cache_key(partial, ASSEMBLY, VERSION)
        _write_atomically(Path(f"{target}{CACHE_KEY_SUFFIX}"), key)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    partial.write_text(text, encoding="ascii")
    partial.replace(path)


class _GzipWriter:
    """Streams gzip as ``gzip.compress(data, compresslevel=1, mtime=0)`` writes it, byte for byte.

    The same bytes as earlier builds of the copy keep its jsii package-cache key, so a
    copy built again (another install, another checkout) reuses the extracted package.
    """

    def __init__(self, raw: typing.BinaryIO) -> None:
        self._raw = raw
        self._compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: gzip header, mtime 0
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._raw.write(self._compressor.compress(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        """Bytes written so far, uncompressed (TarFile asks once, at the start)."""
        return self._offset

    def __enter__(self) -> _GzipWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.write(self._compressor.flush())


class _BytesReader:
    """The file-like object ``TarFile.addfile`` reads a member's bytes from."""

    def __init__(self, data: bytes) -> None:
        self._data, self._offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._offset + size
        chunk, self._offset = self._data[self._offset : end], min(end, len(self._data))
        return chunk


def _located() -> tuple[ModuleSpec, Path]:
    """The provider package's spec and where its lazy ``_jsii`` package lives (built or not)."""
    for name, version in PINNED.items():
        found = metadata.version(name)
        if found != version:
            raise RuntimeError(f"{name} is {found}, the fast path is written for {version}")
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed")
    original_jsii = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    digest = hashlib.sha256((original_jsii / "__init__.py").read_bytes()).hexdigest()[:16]
    # Keyed by content, not by install time: every install of the pinned package (each
    # checkout's .venv, each CI run) shares one 48 MB copy and one extraction by jsii.
    size = (original_jsii / TARBALL).stat().st_size
    return spec, _cache_dir() / f"{digest}-{size}" / "_jsii"


def _prepare() -> tuple[ModuleSpec, Path]:
    """The provider package's spec and the directory of its lazy ``_jsii`` package, built if missing."""
    spec, lazy_jsii = _located()
    assert spec.submodule_search_locations is not None  # _located checked it
    original_jsii = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    if not (lazy_jsii / TARBALL).exists():
        _build_lazy_tarball(original_jsii / TARBALL, lazy_jsii / TARBALL)
    sidecar = Path(f"{lazy_jsii / TARBALL}{CACHE_KEY_SUFFIX}")
    if not sidecar.exists():  # a copy built before the key was recorded: record it once
        _write_atomically(sidecar, jsii_cache_key(lazy_jsii / TARBALL, ASSEMBLY, VERSION))
    init = lazy_jsii / "__init__.py"
    if not init.exists():
        init.write_bytes((original_jsii / "__init__.py").read_bytes())
    return spec, lazy_jsii


def install() -> bool:
    """Install the fast path before the bindings are imported. Returns whether it is active.

    Never raises: on any failure the stand-in modules are removed, a one-line warning
    is printed, and the stock import runs.
    """
    if os.environ.get("CCI_STOCK_IMPORT") == "1":
        state.update(path="stock", reason="CCI_STOCK_IMPORT=1")
        return False
    if PACKAGE in sys.modules:
        state.update(path="stock", reason="bindings already imported")
        return False
    try:
        spec, lazy_jsii = _prepare()
        assert spec.submodule_search_locations is not None  # _prepare checked it
        root = types.ModuleType(PACKAGE, "Stand-in for the provider package root: submodules load on demand.")
        root.__path__ = list(spec.submodule_search_locations)
        root.__spec__ = spec
        root.__file__ = spec.origin
        root.__package__ = PACKAGE
        sys.modules[PACKAGE] = root
        jsii_spec = importlib.util.spec_from_file_location(
            f"{PACKAGE}._jsii", lazy_jsii / "__init__.py", submodule_search_locations=[str(lazy_jsii)]
        )
        assert jsii_spec is not None and jsii_spec.loader is not None
        jsii_module = importlib.util.module_from_spec(jsii_spec)
        sys.modules[f"{PACKAGE}._jsii"] = jsii_module
        jsii_spec.loader.exec_module(jsii_module)
        root._jsii = jsii_module  # type: ignore[attr-defined]
    except Exception as exc:
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        print(f"warning: fast bindings load unavailable ({exc}); using the stock import", file=sys.stderr)
        state.update(path="stock", reason=str(exc))
        return False
    state.update(path="fast", reason="")
    return True


# --- jsii's package cache and its runtime index ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JsiiPackage:
    """One jsii assembly as the kernel loads it: its name, version and tarball."""

    name: str
    version: str
    tarball: Path

    def cache_dir(self, root: Path) -> Path:
        """Where jsii extracts it: ``<root>/<name>/<version>/<key>`` (see ``jsii_cache_key``)."""
        sidecar = Path(f"{self.tarball}{CACHE_KEY_SUFFIX}")
        key = sidecar.read_text(encoding="ascii").strip() if sidecar.exists() else None
        return root / self.name / self.version / (key or jsii_cache_key(self.tarball, self.name, self.version))


def jsii_cache_key(tarball: Path, name: str, version: str) -> str:
    """jsii's package-cache key: sha256 of the tarball's bytes, then NUL and name, NUL and version.

    Written for the pinned jsii (``extractViaCache`` and ``digestFile`` in its kernel).
    """
    digest = hashlib.sha256()
    with open(tarball, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    for part in (name, version):
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


def jsii_cache_root(environ: Mapping[str, str] = os.environ) -> Path | None:
    """jsii's package cache directory, or None when jsii writes no runtime index.

    ``JSII_RUNTIME_PACKAGE_CACHE_ROOT``, else jsii's per-platform default. None when the
    package cache is disabled (``JSII_RUNTIME_PACKAGE_CACHE`` other than ``enabled``),
    when ``JSII_VALIDATE_ASSEMBLIES`` is set (jsii then builds no index), or when the
    installed jsii is not the pinned one whose layout this module knows.
    """
    if (environ.get("JSII_RUNTIME_PACKAGE_CACHE") or "enabled").lower() != "enabled":
        return None
    if environ.get("JSII_VALIDATE_ASSEMBLIES"):
        return None
    try:
        if metadata.version("jsii") != PINNED["jsii"]:
            return None
    except metadata.PackageNotFoundError:
        return None
    configured = environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT")
    if configured:
        return Path(configured)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache"
    if sys.platform == "win32":
        return Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "AWS" / "jsii" / "package-cache"
    return Path.home() / ".cache" / "aws" / "jsii" / "package-cache"


def loaded_packages() -> list[JsiiPackage]:
    """The jsii assemblies this process has loaded into the kernel (each ``<module>._jsii``)."""
    packages = []
    for module_name, module in list(sys.modules.items()):
        assembly = getattr(module, "__jsii_assembly__", None) if module_name.endswith("._jsii") else None
        module_file = getattr(module, "__file__", None)
        if assembly is None or module_file is None:
            continue
        tarball = Path(module_file).parent / assembly.filename
        packages.append(JsiiPackage(name=assembly.name, version=assembly.version, tarball=tarball))
    return sorted(packages, key=lambda p: p.name)


def pending_runtime_indexes(packages: list[JsiiPackage], root: Path) -> list[Path]:
    """The extracted package directories whose runtime index jsii has not finished writing."""
    pending = []
    for package in packages:
        directory = package.cache_dir(root)
        if (directory / "package.json").exists() and not (directory / RUNTIME_INDEX_MANIFEST).exists():
            pending.append(directory)
    return pending


def await_runtime_indexes(timeout_s: float = 60, *, poll_s: float = 0.1) -> list[Path]:
    """Wait, at most ``timeout_s``, until jsii has written the runtime index of every loaded package.

    Call it after the last use of the bindings, before the process exits: the index is
    written by a worker thread of the jsii kernel, which dies with the process. Prints
    one note when there is something to wait for (once after an install), and one
    warning if the time runs out. Returns the directories still without an index.
    Never raises: a failure here only leaves later runs slower.
    """
    try:
        root = jsii_cache_root()
        if root is None:
            return []
        pending = pending_runtime_indexes(loaded_packages(), root)
        if not pending:
            return []
        names = ", ".join(p.parent.parent.relative_to(root).as_posix() for p in pending)
        print(
            f"note: waiting for jsii to save its type index of {names} (once after an install; "
            "later synths then skip parsing the assembly)",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            time.sleep(poll_s)
            pending = [p for p in pending if not (p / RUNTIME_INDEX_MANIFEST).exists()]
    except Exception as exc:
        print(f"warning: could not check jsii's type index ({exc}); later synths may be slower", file=sys.stderr)
        return []
    if pending:
        print(
            f"warning: jsii did not save its type index within {timeout_s:.0f} s; later synths stay slower "
            "(about 3 s and 0.8 GiB) until it does: run python -m constructs_lib.fast_load",
            file=sys.stderr,
        )
    return pending


def _expected_packages() -> list[JsiiPackage]:
    """The packages a fast-path synth loads, found without starting the jsii kernel."""
    _, lazy_jsii = _located()
    packages = [JsiiPackage(name=ASSEMBLY, version=VERSION, tarball=lazy_jsii / TARBALL)]
    for name in ("cdktf", "constructs"):
        found = importlib.util.find_spec(name)
        if found is None or not found.submodule_search_locations:
            raise RuntimeError(f"{name} is not installed")
        version = metadata.version(name)
        tarball = Path(next(iter(found.submodule_search_locations))) / "_jsii" / f"{name}@{version}.jsii.tgz"
        packages.append(JsiiPackage(name=name, version=version, tarball=tarball))
    return packages


def is_warm() -> bool:
    """Whether a synth would find the lazy tarball and every runtime index ready (no kernel started)."""
    try:
        root = jsii_cache_root()
        if root is None:
            return False
        packages = _expected_packages()
        if not all(p.tarball.exists() for p in packages):
            return False
        return all((p.cache_dir(root) / RUNTIME_INDEX_MANIFEST).exists() for p in packages)
    except Exception:
        return False


def warm_up(timeout_s: float = 120) -> str:
    """Prepare the fast path ahead of the first synth; return what was done, in a few words.

    Builds the lazy tarball, loads it into the jsii kernel (which extracts it into the
    package cache), and waits until jsii has written the runtime indexes.
    """
    os.environ.pop("CCI_STOCK_IMPORT", None)
    if is_warm():
        return "ready (lazy bindings and jsii index already in place)"
    if not install():
        return f"unavailable, synth uses the stock import ({state['reason']})"
    import cdktf_cdktf_provider_aws.s3_bucket  # noqa: F401  (loads the assembly into the kernel)

    if await_runtime_indexes(timeout_s):
        return "prepared, but jsii's index is not written yet"
    return "prepared (lazy bindings built, jsii index written)"


if __name__ == "__main__":
    # python -m constructs_lib.fast_load [--check]: prepare the fast path, or only say
    # (exit status 0 or 1) whether it is ready, without starting the jsii kernel.
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if is_warm() else 1)
    print(f"fast load path: {warm_up()}")
