"""The login throttle: recent failed logins by account and by IP address, so that after
`login_attempts` failures within `login_window` seconds further tries fail at once
(core.commands.accounts)."""

from __future__ import annotations

from collections import deque

from miniircd.config import Config
from miniircd.protocol.casemap import fold


class LoginThrottle:
    """Recent failed logins by account and by IP."""

    def __init__(self, config: Config) -> None:
        self.failures: dict[str, deque[float]] = {}
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Take (new) limits; recent failures are kept."""
        self.attempts = config.login_attempts
        self.window = config.login_window

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self.failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self.failures[key]
        return times

    def allows(self, account: str, host: str, now: float) -> bool:
        keys = ("account:" + fold(account), "ip:" + host)
        return all(len(self._recent(key, now)) < self.attempts for key in keys)

    def failed(self, account: str, host: str, now: float) -> None:
        for key in ("account:" + fold(account), "ip:" + host):
            self.failures.setdefault(key, deque()).append(now)

    def forget_stale(self, now: float) -> None:
        """Drop the names and addresses with no failure in the window: a key is otherwise
        only cleaned when it is tried again, and random names would pile up for ever."""
        for key in [k for k, times in self.failures.items() if now - times[-1] > self.window]:
            del self.failures[key]
