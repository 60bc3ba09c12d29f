"""Keep the memory a request frees for the next request (glibc's allocator settings).

A listing page is built and sent as a few 1-2 MB buffers. glibc's malloc hands blocks that
big out as fresh mmap() regions and returns them to the OS when freed, and trims a heap's
free top once it passes twice the last such size: so each request's buffers came back as
new pages the kernel had to zero, about 650 page faults and 2 ms per SQLite listing page
(bench/query.py, docs/benchmarks.md). A worker that imported the report libraries at start
happened to have raised those thresholds by freeing big blocks; a light worker (issue 9)
had not. Fixed thresholds keep blocks up to MMAP_THRESHOLD in the heap and up to
TRIM_THRESHOLD of free heap in the process; larger blocks (a report's arrays) still go
back to the OS when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

MMAP_THRESHOLD = 16 << 20  # bytes: blocks below this come from the heap, not mmap()
TRIM_THRESHOLD = 32 << 20  # bytes of free heap top kept rather than given back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt() parameters, glibc's malloc.h


def keep_freed_memory() -> bool:
    """Set glibc's thresholds; False (and nothing changed) on another C library or OS."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
