"""Pausing Python's cyclic garbage collector while xenabi builds its model.

A cold run allocates millions of objects that stay alive until it ends and
makes few reference cycles; the collector's passes over them cost a fifth of
the snapshot work and a fifth of the rules' time, and free next to nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block; the collector's state is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
