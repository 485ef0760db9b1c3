"""The stand-in agent `idle`: answers every tick, with the brake on."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "IdleAgent"


class IdleAgent(Driver):
    def run_step(self, input_data, timestamp):
        return {"steer": 0.0, "throttle": 0.0, "brake": 1.0}
