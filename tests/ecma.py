"""The ECMA-262 oracle: one node process (tests/node/ecma_oracle.js) that answers with ajv and cdktf.

JSON Schema patterns are ECMA-262; ajv with the u flag reads them as editors do. The
tests ask this oracle what a standard reader makes of the schema, a pattern or a
string, and compare the program's own answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from tests.helpers import PROJECT_DIR, require_tool

ORACLE = PROJECT_DIR / "tests" / "node" / "ecma_oracle.js"


class EcmaOracle:
    """A running oracle; ask it questions, one JSON line each way."""

    def __init__(self, node: str) -> None:
        env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
        self._process = subprocess.Popen(
            [node, str(ORACLE)],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        # ensure_ascii: U+2028 and friends travel as escapes, never as raw line breaks.
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the ECMA-262 oracle stopped (exit status {self._process.poll()})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the ECMA-262 oracle failed: {reply['error']}")
        return reply

    def schema_valid(self, document: Any) -> bool:
        """ajv's verdict: does ``document`` satisfy tenants.schema.json."""
        return bool(self._ask({"document": document})["valid"])

    def matches(self, pattern: str, text: str) -> bool:
        """``new RegExp(pattern, "u").test(text)``."""
        return bool(self._ask({"pattern": pattern, "text": text})["match"])

    def cdktf_token(self, text: str) -> bool:
        """Does cdktf 0.21 read a token (string, list, map or number) in ``text``."""
        return bool(self._ask({"cdktf": text})["token"])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)


def start_oracle() -> EcmaOracle:
    """Start the oracle; skip where node or ajv is truly absent, but never in CI (require_tool)."""
    node = require_tool("node", shutil.which("node"))
    if not (PROJECT_DIR / "node_modules" / "ajv" / "package.json").exists():
        require_tool("ajv (npm ci, or scripts/bootstrap --dev)", None)
    return EcmaOracle(node)
