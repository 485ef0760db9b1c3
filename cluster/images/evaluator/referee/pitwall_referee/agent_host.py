"""The untrusted side: in the participant's image, it imports the participant's agent (TEAM_AGENT,
TEAM_CONFIG; the LB 2.0 AutonomousAgent interface, unchanged) and answers the referee's calls on it."""

import argparse
import importlib.util
import os
import socket
import sys
import time
import traceback

from .channel import Channel, ChannelError
from .referee_link import BUFFER_NAME, SOCKET_NAME
from .shared_buffer import ReadBuffer

try:  # the agent's own arrays, viewed in the shared buffer without a copy, when it has numpy
    import numpy
except ImportError:  # pragma: no cover - a plain memoryview then
    numpy = None


def load_agent(path, host="", port=0):
    """The agent class the module names with get_entry_point(), built as the evaluator builds it."""
    spec = importlib.util.spec_from_file_location("team_agent", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["team_agent"] = module
    spec.loader.exec_module(module)
    return getattr(module, module.get_entry_point())(host, port, False)


def controls_of(control):
    """CARLA's VehicleControl (or anything with its fields) as the channel's controls."""
    if isinstance(control, dict):
        return control
    return {name: getattr(control, name) for name in ("steer", "throttle", "brake", "hand_brake", "reverse") if hasattr(control, name)}


class AgentHost:
    def __init__(self, channel, folder, agent):
        self._channel = channel
        self._folder = folder
        self._agent = agent
        self._buffer = None
        self._slots = {}

    def serve(self):
        """Answers calls until destroy; an agent's exception is an answer (not ok), never a crash of the host."""
        while True:
            message = self._channel.receive(timeout_seconds=24 * 3600)
            op = message.get("op")
            try:
                result = self._answer(op, message)
                self._channel.send({"ok": True, "result": result})
            except Exception as error:  # the agent's own failure, reported to the referee
                traceback.print_exc()
                self._channel.send({"ok": False, "error": f"{type(error).__name__}: {error}"})
            if op == "destroy":
                return

    def _answer(self, op, message):
        if op == "setup":
            return self._agent.setup(message.get("config"))
        if op == "sensors":
            return self._agent.sensors()
        if op == "buffer":
            self._slots = message["slots"]
            self._buffer = ReadBuffer(os.path.join(self._folder, BUFFER_NAME))
            return None
        if op == "step":
            return controls_of(self._agent.run_step(self._input_data(message["sensors"]), message["timestamp"]))
        if op == "destroy":
            return self._agent.destroy()
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
    AgentHost(channel, args.channel, load_agent(args.agent)).serve()


if __name__ == "__main__":
    main()
