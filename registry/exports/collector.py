"""The garbage collector paused while the export turns a block of records into CSV text.

Building rows allocates and frees many small containers; in an export of 10,000 records the
automatic collections that this sets off cost about a tenth of the CPU, and none of them finds
garbage the reference counts do not already free (no row, bundle or decoded value refers to
itself). So the export pauses automatic collection around each block it builds, and only
there:
- never across a ``yield``: a generator abandoned by its consumer (a client that disconnects)
  is always left with the collector running, so nothing depends on it being closed;
- restored on the way out, whatever happens (``finally``), to what it was: a collector that
  was already disabled by someone else stays disabled;
- counted, so that two exports on two threads of one process end the pause only when the
  last of them leaves it (the collector is process-wide state);
- a block is at most FLUSH_ROWS rows (a few tens of milliseconds), after which any cyclic
  garbage the process made meanwhile is collected as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the collector was enabled when the first holder paused it


@contextmanager
def collection_paused() -> Iterator[None]:
    """Automatic garbage collection off inside the block (see the module's rules)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
