"""Re-publish in the background soon after contributions arrive.

Used by ``townsquare demo``: each new contribution restarts a short quiet
period; when it ends, or at the latest ``max_delay`` seconds after the first
waiting contribution, one publish covers everything that arrived.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..signals import comment_added
from .publisher import Publisher

logger = logging.getLogger(__name__)


class Republisher:
    def __init__(self, publisher: Publisher, delay: float, max_delay: float = 5.0):
        self._publisher = publisher
        self._delay = delay
        self._max_delay = max(max_delay, delay)
        self._wake = threading.Condition()
        self._first: float | None = None
        self._last = 0.0
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name="republisher", daemon=True
        )

    def start(self) -> None:
        comment_added.connect(self._on_contribution, weak=False)
        self._thread.start()

    def stop(self) -> None:
        comment_added.disconnect(self._on_contribution)
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def notify(self) -> None:
        with self._wake:
            now = time.monotonic()
            self._first = self._first or now
            self._last = now
            self._wake.notify()

    def _on_contribution(self, _sender: Any, **_extra: Any) -> None:
        self.notify()

    def _run(self) -> None:
        while self._wait_until_due():
            try:
                report = self._publisher.publish()
            except Exception:
                # Keep serving: the next contribution triggers another try.
                logger.exception("Background publish failed")
                continue
            logger.info("Re-published in %.2f s", report.seconds)

    def _wait_until_due(self) -> bool:
        with self._wake:
            while not self._stopped:
                if self._first is None:
                    self._wake.wait()
                    continue
                now = time.monotonic()
                due = min(self._last + self._delay, self._first + self._max_delay)
                if now >= due:
                    self._first = None
                    return True
                self._wake.wait(due - now)
            return False
