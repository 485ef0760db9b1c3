"""The referee's side: it listens on the channel's socket, lets one agent host connect, and makes the
AutonomousAgent's calls on it (setup, sensors, run_step, destroy) as the official evaluator would make
them on the agent itself."""

import os
import socket

from .channel import Channel, ChannelError
from .controls import parse_controls
from .sensors import data_bytes, parse_sensors
from .shared_buffer import WrittenBuffer, layout

SOCKET_NAME = "channel.sock"
#: The most plan points the agent is sent (the evaluator's plan is sparse already; a frame stays small).
MAX_PLAN_POINTS = 400
BUFFER_NAME = "sensors.buf"
#: numpy's names for the item types of Python's arrays (a sensor reading may be either).
DTYPES = {"B": "uint8", "b": "int8", "i": "int32", "f": "float32", "d": "float64"}
#: What of the agent's own error message reaches the logs and the participant.
MAX_AGENT_MESSAGE = 500


def _printable(text):
    return "".join(c if c.isprintable() else "?" for c in str(text))[:MAX_AGENT_MESSAGE]


def _plain(point):
    """A plan point as the channel carries it: a carla.Transform as its location's {x, y, z}, a fix as it is."""
    location = getattr(point, "location", None)
    if location is not None:
        return {"x": float(location.x), "y": float(location.y), "z": float(location.z)}
    return {key: float(point[key]) for key in ("lat", "lon", "z", "x", "y") if key in point}


class RefereeLink:
    """One agent host on the other end of `folder`'s socket; `call` gives it an operation and waits for its
    answer, within `timeout_seconds`."""

    def __init__(self, folder, connect_timeout_seconds):
        self.folder = folder
        path = os.path.join(folder, SOCKET_NAME)
        if os.path.exists(path):
            os.unlink(path)
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(1)
        self._server.settimeout(connect_timeout_seconds)
        try:
            connection, _ = self._server.accept()
        except socket.timeout as error:
            raise ChannelError("the agent never connected to the referee", "agent_setup") from error
        self._channel = Channel(connection)

    def call(self, op, timeout_seconds, **payload):
        self._channel.send({"op": op, **payload})
        answer = self._channel.receive(timeout_seconds)
        if answer.get("ok") is not True:
            raise ChannelError(f"the agent failed in {op}: {_printable(answer.get('error', 'no reason'))}", "agent_crashed")
        return answer.get("result")

    def close(self):
        """The evaluation is over: the agent host is told so, then the socket goes."""
        try:
            self._channel.send({"op": "close"})
        except OSError:
            pass  # the agent host is gone already
        self._channel.close()
        self._server.close()


class ProxyAgent:
    """What the official evaluator drives in place of the participant's agent: each call forwarded over the
    link, sensor data through the shared buffer, the answers checked before anything uses them."""

    def __init__(self, link, timeouts):
        self._link = link
        self._timeouts = timeouts
        self._buffer = None
        self._slots = {}
        self.notes = []

    def setup(self, config_path):
        self._link.call("setup", self._timeouts["setup"], config=config_path)

    def set_global_plan(self, gps, world):
        """The route's plan, as the evaluator gives it to every agent: (point, road option) pairs, GNSS fixes
        as `{lat, lon, z}`, world points as `{x, y, z}`, thinned to MAX_PLAN_POINTS."""
        step = max(1, -(-len(world) // MAX_PLAN_POINTS))
        pick = lambda points: [[_plain(point), str(option)] for point, option in points[::step]]  # noqa: E731
        self._link.call("plan", self._timeouts["call"], gps=pick(gps), world=pick(world))

    def sensors(self):
        specs = parse_sensors(self._link.call("sensors", self._timeouts["call"]))
        self._slots, total = layout({spec["id"]: data_bytes(spec) for spec in specs})
        self._buffer = WrittenBuffer(os.path.join(self._link.folder, BUFFER_NAME), total)
        self._link.call("buffer", self._timeouts["call"], slots={k: list(v) for k, v in self._slots.items()})
        return specs

    def run_step(self, input_data, timestamp, step_timeout):
        headers = {}
        for ident, (frame, data) in input_data.items():
            if isinstance(data, (dict, int, float)):
                headers[ident] = {"frame": frame, "value": data}
                continue
            offset, capacity = self._slots[ident]
            size = memoryview(data).nbytes
            if size > capacity:
                raise ChannelError(f"sensor {ident} read {size} bytes, over its slot of {capacity}", "platform_error")
            self._buffer.write(offset, data)
            dtype = str(getattr(data, "dtype", None) or DTYPES.get(getattr(data, "typecode", "B"), "uint8"))
            shape = list(getattr(data, "shape", [len(data)] if hasattr(data, "typecode") else [size]))
            headers[ident] = {"frame": frame, "size": size, "shape": shape, "dtype": dtype}
        answer = self._link.call("step", step_timeout, timestamp=timestamp, sensors=headers)
        controls, notes = parse_controls(answer)
        self.notes.extend(notes)
        return controls

    def destroy(self):
        """The route's end; the link stays for the next route's agent (the evaluator closes it at its end)."""
        try:
            self._link.call("destroy", self._timeouts["call"])
        finally:
            if self._buffer:
                self._buffer.close()
                self._buffer = None
