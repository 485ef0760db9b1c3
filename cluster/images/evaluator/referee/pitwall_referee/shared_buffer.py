"""The shared buffer sensor data travels in: a file on a memory-backed folder both sides mount, which the
referee writes and the agent host maps read-only, so a tick's data is copied once, never serialised."""

import mmap
import os

#: Each sensor's slot starts at a multiple of this, so that its data can be viewed in place as any dtype.
ALIGN = 64


def layout(sizes):
    """{sensor id: (offset, capacity)} for sensors of those byte sizes, and the buffer's total size."""
    slots, offset = {}, 0
    for ident, size in sizes.items():
        slots[ident] = (offset, size)
        offset += -(-size // ALIGN) * ALIGN
    return slots, max(offset, ALIGN)


class WrittenBuffer:
    """The referee's side: creates the file at `path` (its folder only the two sides share) and writes slots."""

    def __init__(self, path, total):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.ftruncate(self._fd, total)
        self._map = mmap.mmap(self._fd, total)
        self.path = path

    def write(self, offset, data):
        """Copies `data` (any buffer) into the slot at `offset`; returns the bytes written."""
        view = memoryview(data).cast("B")
        self._map[offset : offset + view.nbytes] = view
        return view.nbytes

    def close(self):
        self._map.close()
        os.close(self._fd)


class ReadBuffer:
    """The agent host's side: the file mapped read-only; a slot is a view, not a copy."""

    def __init__(self, path):
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)

    def view(self, offset, size):
        return memoryview(self._map)[offset : offset + size]

    def close(self):
        self._map.close()
