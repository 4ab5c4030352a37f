"""Reading ahead: an iterator run in a background thread, a bounded number of items ahead of
its consumer, so the export builds CSV while PostgreSQL works on the next chunk (psycopg
releases the GIL while it waits on the server).

Memory stays bounded (at most ``depth`` items waiting); an error in the source is raised in the
consumer; a consumer that stops early (a client that disconnects) stops the thread, which
closes the source in its own thread before the consumer's ``close`` returns."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead(Iterator[T]):
    """The items of ``source`` in order, read by a thread up to ``depth`` items ahead. The
    thread starts at once (not at the first ``next``), so the first item is already on its
    way while the caller prepares. ``close`` (also on garbage collection) stops the thread and
    waits for it."""

    def __init__(self, source: Iterator[T], *, depth: int = 2, name: str = "read-ahead") -> None:
        self._items: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        # The thread holds no reference to self, so that an abandoned reader is collected.
        self._thread = threading.Thread(
            target=_run, args=(source, self._items, self._stop), name=name, daemon=True
        )
        self._thread.start()

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._items.get()
        if item is _END:
            self.close()
            raise StopIteration
        if type(item) is _Failed:
            self.close()
            raise item.error
        return item

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        self._stop.set()
        thread = self._thread
        while thread.is_alive():  # take what it still puts, so it is never stuck on a full queue
            try:
                self._items.get(timeout=0.01)
            except queue.Empty:
                pass
        thread.join()

    def __del__(self) -> None:
        self.close()


def _run(source: Iterator, items: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in source:
            items.put(item)
            if stop.is_set():
                return
        items.put(_END)
    except BaseException as exc:  # handed to the consumer, which raises it
        items.put(_Failed(exc))
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # a generator's cleanup (e.g. closing its cursor) runs in this thread
