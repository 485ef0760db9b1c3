"""A hostile stand-in agent: drives well, then answers a NaN steer (a float the channel's JSON refuses)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "NanAgent"


class NanAgent(Driver):
    def run_step(self, input_data, timestamp):
        controls = super().run_step(input_data, timestamp)
        return {**controls, "steer": float("nan")} if self.ticks >= 40 else controls
