"""The referee channel against agents that answer well, and against hostile ones: each gains nothing."""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from pitwall_referee.channel import MAX_FRAME_BYTES, ChannelError, encode  # noqa: E402
from pitwall_referee.controls import parse_controls  # noqa: E402
from pitwall_referee.referee_link import SOCKET_NAME, ProxyAgent, RefereeLink  # noqa: E402
from pitwall_referee.sensors import parse_sensors  # noqa: E402

TIMEOUTS = {"setup": 5, "call": 2}
AGENT = '''
import json, os
def get_entry_point():
    return "EchoAgent"
class EchoAgent:
    def __init__(self, host, port, debug):
        self.seen = []
    def setup(self, config):
        self.out = config
    def sensors(self):
        return [{"type": "sensor.camera.rgb", "id": "Center", "x": 0.7, "y": 0.0, "z": 1.6, "width": 64, "height": 32},
                {"type": "sensor.speedometer", "id": "Speed", "reading_frequency": 20}]
    def run_step(self, input_data, timestamp):
        frame, image = input_data["Center"]
        self.seen.append({"frame": frame, "first": bytes(image)[:4].hex(), "size": len(bytes(image)),
                          "speed": input_data["Speed"][1]["speed"], "t": timestamp})
        return {"steer": 2.0, "throttle": 0.5, "brake": 0.0, "hand_brake": False, "reverse": False}
    def destroy(self):
        with open(self.out, "w") as f:
            json.dump(self.seen, f)
'''


def start_host(folder, agent_source):
    agent = os.path.join(folder, "agent.py")
    with open(agent, "w") as file:
        file.write(agent_source)
    return subprocess.Popen(
        [sys.executable, "-m", "pitwall_referee.agent_host", "--channel", folder, "--agent", agent],
        cwd=os.path.dirname(HERE),
    )


def hostile(folder, behaviour):
    """A raw client on the referee's socket that does `behaviour(sock)` once it is asked anything."""

    def run():
        path = os.path.join(folder, SOCKET_NAME)
        for _ in range(200):
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(path)
                break
            except OSError:
                time.sleep(0.02)
        sock.recv(65536)
        try:
            behaviour(sock)
        except OSError:
            pass  # the referee hung up first: what the test wants
        time.sleep(1.5)
        sock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class WellBehaved(unittest.TestCase):
    def test_a_whole_run_through_the_channel(self):
        with tempfile.TemporaryDirectory() as folder:
            host = start_host(folder, AGENT)
            link = RefereeLink(folder, connect_timeout_seconds=10)
            proxy = ProxyAgent(link, TIMEOUTS)
            out = os.path.join(folder, "seen.json")
            proxy.setup(out)
            self.assertEqual([s["id"] for s in proxy.sensors()], ["Center", "Speed"])
            image = bytes([7, 8, 9, 10]) + bytes(64 * 32 * 4 - 4)
            controls = proxy.run_step({"Center": (41, image), "Speed": (41, {"speed": 3.5})}, 2.05, step_timeout=2)
            self.assertEqual(controls["steer"], 1.0)  # clamped, and said
            self.assertEqual(proxy.notes, ["steer 2.0 clamped to 1.0"])
            proxy.destroy()
            link.close()
            self.assertEqual(host.wait(timeout=10), 0)
            with open(out) as file:
                self.assertEqual(json.load(file), [{"frame": 41, "first": "0708090a", "size": 8192, "speed": 3.5, "t": 2.05}])


class Hostile(unittest.TestCase):
    def _first_call_against(self, behaviour, timeout=1.0):
        with tempfile.TemporaryDirectory() as folder:
            hostile(folder, behaviour)
            link = RefereeLink(folder, connect_timeout_seconds=5)
            try:
                with self.assertRaises(ChannelError) as caught:
                    link.call("sensors", timeout)
                return caught.exception
            finally:
                link.close()

    def test_an_agent_that_never_answers_is_idle(self):
        started = time.monotonic()
        error = self._first_call_against(lambda sock: None, timeout=0.5)
        self.assertEqual(error.failure_class, "agent_idle")
        self.assertLess(time.monotonic() - started, 1.4)

    def test_an_oversized_frame_is_refused_before_it_is_read(self):
        error = self._first_call_against(lambda sock: sock.sendall(struct.pack(">I", MAX_FRAME_BYTES + 1)))
        self.assertEqual(error.failure_class, "agent_crashed")
        self.assertIn("over the cap", str(error))

    def test_a_frame_that_is_not_json_or_holds_nan_is_refused(self):
        for body in (b"\x80\x81not json", b"[1, 2]", b'{"ok": true, "result": NaN}', b"\xc0\x00"):
            error = self._first_call_against(lambda sock, body=body: sock.sendall(struct.pack(">I", len(body)) + body))
            self.assertEqual(error.failure_class, "agent_crashed", body)

    def test_an_endless_frame_runs_into_the_deadline(self):
        def trickle(sock):
            sock.sendall(struct.pack(">I", 1000))
            for _ in range(20):
                sock.sendall(b" ")
                time.sleep(0.05)

        self.assertEqual(self._first_call_against(trickle, timeout=0.5).failure_class, "agent_idle")

    def test_an_agent_that_hangs_up_has_crashed(self):
        self.assertEqual(self._first_call_against(lambda sock: sock.close()).failure_class, "agent_crashed")

    def test_an_agent_error_is_reported_in_one_printable_line(self):
        def fail(sock):
            sock.sendall(encode({"ok": False, "error": "boom\x1b[31m" + "x" * 2000}))

        error = self._first_call_against(fail)
        self.assertEqual(error.failure_class, "agent_crashed")
        self.assertNotIn("\x1b", str(error))
        self.assertLess(len(str(error)), 600)


class Controls(unittest.TestCase):
    def test_clamps_out_of_range_values_and_says_so(self):
        controls, notes = parse_controls({"steer": -3, "throttle": 1.5, "brake": -0.1})
        self.assertEqual(controls, {"steer": -1.0, "throttle": 1.0, "brake": 0.0, "hand_brake": False, "reverse": False})
        self.assertEqual(len(notes), 3)

    def test_refuses_what_is_not_a_finite_number_or_a_flag_or_a_known_field(self):
        for answer in ({"steer": float("nan")}, {"throttle": float("inf")}, {"brake": "0.1"}, {"steer": True},
                       {"reverse": 1}, {"teleport": 1.0}, [0.1, 0.2]):
            with self.assertRaises(ChannelError, msg=repr(answer)) as caught:
                parse_controls(answer)
            self.assertEqual(caught.exception.failure_class, "agent_crashed")


class Sensors(unittest.TestCase):
    def test_refuses_malformed_sensor_lists_as_invalid_sensors(self):
        camera = {"type": "sensor.camera.rgb", "id": "C"}
        for answer in ("cameras", [camera, camera], [{"type": "sensor.camera.rgb", "id": "../../x"}],
                       [{**camera, "x": float("nan")}], [{**camera, "script": "rm -rf /"}], [camera] * 65):
            with self.assertRaises(ChannelError, msg=repr(answer)[:80]) as caught:
                parse_sensors(answer)
            self.assertEqual(caught.exception.failure_class, "invalid_sensors")


if __name__ == "__main__":
    unittest.main()
