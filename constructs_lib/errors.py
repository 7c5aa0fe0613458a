"""The one exception type for a user's mistake in settings or tenants."""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(Exception):
    """Invalid settings or tenants: one message per problem, all reported together.

    main.py prints each message on its own line and exits non-zero, with no
    traceback: a user mistake is not a bug.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))
