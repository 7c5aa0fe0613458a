"""Ctrl-C (SIGINT) in the documented commands: told apart from a failure, and never half a step. No jsii import.

Ctrl-C in a terminal reaches every process of the foreground group at once: Python, and
the jsii kernel (node) that holds the provider bindings. The kernel dies, and the call
Python was making into it fails with whatever a closed pipe gives (``JSONDecodeError``,
``BrokenPipeError``, a jsii error). ``watch`` makes such a failure recognisable as the
interrupt it is (``received``), so the command says "interrupted" (exit status 130, as a
shell reports SIGINT) instead of "internal error".

``isolate_jsii_kernel`` keeps the kernel out of it in the first place: started in a session
of its own, it never sees the terminal's Ctrl-C, so only Python is interrupted and the
kernel, its stdin closed when the command exits, ends quietly instead of printing jsii's
"Error on jsii API channel" lines.

``deferred`` holds a Ctrl-C back until a block that must not stop half-way has finished
(moving the synthesized files into place), then raises ``InterruptedAfter``: a
KeyboardInterrupt that says the block did complete.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType
from typing import Any

_received = False


class InterruptedAfter(KeyboardInterrupt):
    """Ctrl-C during a ``deferred`` block, raised once the block had finished."""


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    raise KeyboardInterrupt


def watch() -> None:
    """Raise KeyboardInterrupt on SIGINT, as Python does by default, and remember it (``received``).

    Call it from the main thread, first thing in a command's ``main``.
    """
    signal.signal(signal.SIGINT, _on_sigint)


def received() -> bool:
    """Has SIGINT arrived since ``watch``? (True also while its KeyboardInterrupt is still pending.)"""
    return _received


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block to its end even if Ctrl-C arrives; then raise ``InterruptedAfter`` if it did.

    Outside the main thread (where Python delivers no signal) the block simply runs.
    An exception from the block propagates as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        global _received
        _received = True
        raise InterruptedAfter


class _SessionSubprocess:
    """The ``subprocess`` module as jsii's process provider sees it: Popen starts a new session."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        kwargs.setdefault("start_new_session", True)
        return subprocess.Popen(*args, **kwargs)


def isolate_jsii_kernel() -> bool:
    """Start the jsii kernel (node) in a session of its own; call before the bindings load. -> False if this jsii
    has no process provider to adjust (then ``received`` still tells its failure from a bug).

    jsii (pinned in Pipfile.lock) starts the kernel with ``subprocess.Popen`` in
    ``jsii._kernel.providers.process``; that module alone sees the session-starting Popen.
    """
    try:
        from jsii._kernel.providers import process
    except ImportError:
        return False
    module: ModuleType | _SessionSubprocess = getattr(process, "subprocess", None) or subprocess
    if module is not subprocess:
        return isinstance(module, _SessionSubprocess)
    vars(process)["subprocess"] = _SessionSubprocess()
    return True
