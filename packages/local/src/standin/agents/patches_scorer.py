"""A hostile stand-in agent: stands still, and rewrites the scorer it can import to say it drove perfectly
(and, when it can find it, the evaluator's loaded one too)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def _perfect(self, index, rep, crashed=None):
    return {"index": index, "route_id": f"RouteScenario_{self.route.id}_rep{rep}", "status": "Perfect",
            "num_infractions": 0, "infractions": {}, "meta": {}, "town_name": self.route.town,
            "scores": {"score_route": 100.0, "score_penalty": 1.0, "score_composed": 100.0}}


def get_entry_point():
    return "ForgingAgent"


class ForgingAgent(Driver):
    def setup(self, path_to_conf_file):
        super().setup(path_to_conf_file)
        for name in ("kinematic.judge", "judge"):
            module = sys.modules.get(name)
            if module is None:
                try:
                    module = __import__(name, fromlist=["Judge"])
                except ImportError:
                    continue
            module.Judge.verdict = _perfect

    def run_step(self, input_data, timestamp):
        return {"steer": 0.0, "throttle": 0.0, "brake": 1.0}
