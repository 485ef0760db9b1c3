"""The evaluator's `--agent` under the referee: an LB 2.0 agent whose every call goes over the channel to the
participant's agent host. One link for the whole evaluation (the evaluator builds an agent per route); its
folder is PITWALL_REFEREE_CHANNEL, its deadlines PITWALL_REFEREE_{CONNECT,SETUP,CALL,STEP}_SECONDS."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pitwall_referee.referee_link import ProxyAgent, RefereeLink  # noqa: E402


def _seconds(name, default):
    return float(os.environ.get(f"PITWALL_REFEREE_{name}_SECONDS", default))


_link = None


def get_entry_point():
    return "RefereeAgent"


class RefereeAgent:
    def __init__(self, host, port, debug=False):
        global _link
        if _link is None:
            _link = RefereeLink(os.environ["PITWALL_REFEREE_CHANNEL"], _seconds("CONNECT", 120))
        self._proxy = ProxyAgent(_link, {"setup": _seconds("SETUP", 120), "call": _seconds("CALL", 10)})
        self._step_seconds = _seconds("STEP", 10)

    def setup(self, path_to_conf_file):
        self._proxy.setup(path_to_conf_file)

    def sensors(self):
        return self._proxy.sensors()

    def set_global_plan(self, global_plan_gps, global_plan_world_coord):
        self._proxy.set_global_plan(global_plan_gps, global_plan_world_coord)

    def run_step(self, input_data, timestamp):
        return self._proxy.run_step(input_data, timestamp, self._step_seconds)

    @property
    def notes(self):
        return self._proxy.notes

    def destroy(self):
        self._proxy.destroy()
