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

``warm_up()`` (run by scripts/bootstrap) builds the lazy tarball and keeps one
process alive until jsii has written its package-cache index, so that later runs
neither rebuild nor re-parse the 120 MB assembly.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import re
import sys
import tarfile
import time
import types
from importlib import metadata
from importlib.machinery import ModuleSpec
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
#: The exact versions whose layout this module was written against.
PINNED = {"cdktf-cdktf-provider-aws": "20.1.0", "cdktf": "0.21.0", "jsii": "1.142.0"}
VERSION = PINNED["cdktf-cdktf-provider-aws"]
TARBALL = f"provider-aws@{VERSION}.jsii.tgz"
_EAGER = re.compile(r'^exports\.(\w+) = require\("(\./[\w-]+)"\);$', re.MULTILINE)

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
    """Copy the package tarball with a lazy lib/index.js (written atomically)."""
    buffer = io.BytesIO()
    with tarfile.open(original, "r:gz") as source, tarfile.open(fileobj=buffer, mode="w") as copy:
        replaced = False
        for member in source:
            data = source.extractfile(member) if member.isfile() else None
            if member.name == "package/lib/index.js" and data is not None:
                text = lazy_index(data.read().decode("utf-8")).encode("utf-8")
                member.size = len(text)
                copy.addfile(member, io.BytesIO(text))
                replaced = True
            else:
                copy.addfile(member, data)
    if not replaced:
        raise RuntimeError("package/lib/index.js not found in the provider tarball")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".tmp-{os.getpid()}")
    partial.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=1, mtime=0))
    partial.replace(target)


def _prepare() -> tuple[ModuleSpec, Path]:
    """The provider package's spec and the directory of its lazy ``_jsii`` package, built if missing."""
    for name, version in PINNED.items():
        found = metadata.version(name)
        if found != version:
            raise RuntimeError(f"{name} is {found}, the fast path is written for {version}")
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed")
    original_jsii = Path(next(iter(spec.submodule_search_locations))) / "_jsii"
    original = original_jsii / TARBALL
    digest = hashlib.sha256((original_jsii / "__init__.py").read_bytes()).hexdigest()[:16]
    stat = original.stat()
    lazy_jsii = _cache_dir() / f"{digest}-{stat.st_size}-{int(stat.st_mtime)}" / "_jsii"
    if not (lazy_jsii / TARBALL).exists():
        _build_lazy_tarball(original, lazy_jsii / TARBALL)
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


def warm_up(timeout_s: float = 120) -> None:
    """Build the lazy tarball and let jsii write its package-cache index once."""
    os.environ.pop("CCI_STOCK_IMPORT", None)
    if not install():
        return
    import cdktf_cdktf_provider_aws.s3_bucket  # noqa: F401  (loads the assembly into the kernel)

    # jsii builds its runtime index in a worker of the kernel process, beside the
    # extracted package (.jsii.runtime-index.v1): stay alive until it is there.
    cache_root = Path(
        os.environ.get("JSII_RUNTIME_PACKAGE_CACHE_ROOT") or Path.home() / ".cache" / "aws" / "jsii" / "package-cache"
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        indexes = (cache_root / "@cdktf" / "provider-aws" / VERSION).glob("*/.jsii.runtime-index.v1")
        if any(_is_lazy(index.parent) for index in indexes):
            return
        time.sleep(0.5)


def _is_lazy(package_dir: Path) -> bool:
    index = package_dir / "lib" / "index.js"
    return index.exists() and 'Object.defineProperty(exports, "s3Bucket"' in index.read_text(encoding="utf-8")


if __name__ == "__main__":
    warm_up()
    print(f"bindings load path: {state['path']}")
