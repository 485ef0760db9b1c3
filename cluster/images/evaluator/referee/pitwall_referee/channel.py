"""Framing over a Unix stream socket: a 4-byte big-endian length, then that many bytes of a JSON object."""

import json
import math
import socket
import struct
import time

#: The largest frame either side accepts: headers and controls are small; sensor bytes never travel here.
MAX_FRAME_BYTES = 64 * 1024
_LENGTH = struct.Struct(">I")


class ChannelError(Exception):
    """The channel failed; `failure_class` is Pitwall's class for the run (whose fault it is)."""

    def __init__(self, message, failure_class):
        super().__init__(message)
        self.failure_class = failure_class


def _reject_constant(name):
    # json accepts NaN and Infinity by default: the agent may not send them anywhere.
    raise ValueError(f"{name} is not a number this channel accepts")


def encode(message):
    """A frame for `message`, a dict; refused when it would pass the cap."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME_BYTES:
        raise ChannelError(f"a frame of {len(body)} bytes is over the {MAX_FRAME_BYTES}-byte cap", "platform_error")
    return _LENGTH.pack(len(body)) + body


def decode(body):
    """The JSON object a frame's body holds; anything else (a list, NaN, bad UTF-8) is refused."""
    try:
        message = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise ChannelError(f"the agent sent a frame that is not a JSON object: {error}", "agent_crashed") from error
    if not isinstance(message, dict):
        raise ChannelError("the agent sent a frame that is not a JSON object", "agent_crashed")
    return message


class Channel:
    """One end of the channel: `send` a dict, `receive` the next one before a deadline (seconds from now)."""

    def __init__(self, sock):
        self._sock = sock
        self._pending = bytearray()

    def send(self, message):
        self._sock.sendall(encode(message))

    def receive(self, timeout_seconds):
        deadline = time.monotonic() + timeout_seconds
        header = self._read(_LENGTH.size, deadline)
        (length,) = _LENGTH.unpack(header)
        if length > MAX_FRAME_BYTES:
            raise ChannelError(f"the agent announced a frame of {length} bytes, over the cap", "agent_crashed")
        return decode(self._read(length, deadline))

    def _read(self, size, deadline):
        while len(self._pending) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelError("the agent did not answer within its time for the call", "agent_idle")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(max(size - len(self._pending), 65536))
            except socket.timeout as error:
                raise ChannelError("the agent did not answer within its time for the call", "agent_idle") from error
            if not chunk:
                raise ChannelError("the agent closed the channel", "agent_crashed")
            self._pending += chunk
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def close(self):
        self._sock.close()


def finite(value):
    """Whether `value` is a real, finite number (not a bool, not NaN, not an infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
