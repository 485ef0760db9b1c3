"""The untrusted side: in the participant's image, it imports the participant's agent (TEAM_AGENT,
TEAM_CONFIG; the LB 2.0 AutonomousAgent interface, unchanged) and answers the referee's calls on it: a new
agent for each route, as the evaluator builds one, until the referee closes the channel."""

import argparse
import importlib.util
import os
import socket
import sys
import time
import traceback
from types import SimpleNamespace

from .channel import Channel, ChannelError
from .referee_link import BUFFER_NAME, DTYPES, SOCKET_NAME
from .shared_buffer import ReadBuffer

try:  # the agent's own arrays, viewed in the shared buffer without a copy, when it has numpy
    import numpy
except ImportError:  # pragma: no cover - a plain memoryview then
    numpy = None


def load_agent_class(path):
    """The agent class the module names with get_entry_point(), imported once as the evaluator imports it."""
    spec = importlib.util.spec_from_file_location("team_agent", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["team_agent"] = module
    spec.loader.exec_module(module)
    return getattr(module, module.get_entry_point())


def _point(point):
    """A plan point as the agent reads carla.Transform's location (and a GNSS fix's keys as they are)."""
    if {"x", "y", "z"} <= set(point):
        location = SimpleNamespace(x=point["x"], y=point["y"], z=point["z"])
        return SimpleNamespace(location=location, rotation=SimpleNamespace(pitch=0.0, yaw=0.0, roll=0.0))
    return point


def controls_of(control):
    """CARLA's VehicleControl (or anything with its fields) as the channel's controls."""
    if isinstance(control, dict):
        return control
    return {name: getattr(control, name) for name in ("steer", "throttle", "brake", "hand_brake", "reverse") if hasattr(control, name)}


class AgentHost:
    def __init__(self, channel, folder, agent_class):
        self._channel = channel
        self._folder = folder
        self._agent_class = agent_class
        self._agent = None
        self._buffer = None
        self._slots = {}

    def serve(self):
        """Answers calls until the referee closes; an agent's exception is an answer (not ok), never a crash
        of the host."""
        while True:
            try:
                message = self._channel.receive(timeout_seconds=24 * 3600)
            except ChannelError:
                return  # the referee hung up: its evaluation is over
            op = message.get("op")
            if op == "close":
                return
            try:
                result = self._answer(op, message)
                self._channel.send({"ok": True, "result": result})
            except Exception as error:  # the agent's own failure, reported to the referee
                traceback.print_exc()
                self._channel.send({"ok": False, "error": f"{type(error).__name__}: {error}"})

    def _answer(self, op, message):
        if op == "setup":  # a route begins: a new agent, as the evaluator builds one for each route
            self._agent = self._agent_class("", 0, False)
            return self._agent.setup(message.get("config"))
        if op == "plan":
            gps = [(_point(point), option) for point, option in message["gps"]]
            world = [(_point(point), option) for point, option in message["world"]]
            return self._agent.set_global_plan(gps, world)
        if op == "sensors":
            return self._agent.sensors()
        if op == "buffer":
            self._slots = message["slots"]
            self._buffer = ReadBuffer(os.path.join(self._folder, BUFFER_NAME))
            return None
        if op == "step":
            return controls_of(self._agent.run_step(self._input_data(message["sensors"]), message["timestamp"]))
        if op == "destroy":
            agent, self._agent = self._agent, None
            return agent.destroy()
        raise ValueError(f"unknown operation {op!r}")

    def _input_data(self, headers):
        data = {}
        for ident, header in headers.items():
            if "value" in header:
                data[ident] = (header["frame"], header["value"])
                continue
            offset, _ = self._slots[ident]
            view = self._buffer.view(offset, header["size"])
            if numpy is not None:
                view = numpy.frombuffer(view, dtype=header["dtype"]).reshape(header["shape"])
            else:  # a flat view of the items, still no copy
                codes = {name: code for code, name in DTYPES.items()}
                view = view.cast(codes.get(header["dtype"], "B"))
            data[ident] = (header["frame"], view)
        return data


def connect(folder, timeout_seconds):
    """The referee's socket, waited for while the referee starts."""
    path = os.path.join(folder, SOCKET_NAME)
    deadline = time.monotonic() + timeout_seconds
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return Channel(sock)
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise ChannelError(f"no referee at {path}", "platform_error")
            time.sleep(0.05)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a LB 2.0 agent to Pitwall's referee")
    parser.add_argument("--channel", required=True, help="the folder the referee's socket and buffer are in")
    parser.add_argument("--agent", default=os.environ.get("TEAM_AGENT"))
    parser.add_argument("--connect-timeout", type=float, default=60)
    args = parser.parse_args(argv)
    channel = connect(args.channel, args.connect_timeout)
    AgentHost(channel, args.channel, load_agent_class(args.agent)).serve()


if __name__ == "__main__":
    main()
