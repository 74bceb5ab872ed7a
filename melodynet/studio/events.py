"""What happens (a job queued, an epoch done, a line of a report), numbered in order, for
the pages listening (server-sent events). Thread-safe: training publishes from its thread."""

from __future__ import annotations

import threading
from collections import deque

KEEP = 5_000


class Events:
    def __init__(self, keep: int = KEEP) -> None:
        self._items: deque[tuple[int, dict]] = deque(maxlen=keep)
        self._seq = 0
        self._lock = threading.Lock()

    def publish(self, data: dict) -> int:
        with self._lock:
            self._seq += 1
            self._items.append((self._seq, data))
            return self._seq

    @property
    def last(self) -> int:
        with self._lock:
            return self._seq

    def since(self, seq: int) -> tuple[list[tuple[int, dict]], bool]:
        """Events after ``seq``, and whether none between were dropped (else the listener
        should start again from a snapshot)."""
        with self._lock:
            if not self._items or seq >= self._seq:
                return [], True
            oldest = self._items[0][0]
            complete = seq >= oldest - 1
            return [(n, d) for n, d in self._items if n > seq], complete
