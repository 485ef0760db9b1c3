"""A stand-in agent that asks for more cameras than the SENSORS track allows."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "GreedyAgent"


class GreedyAgent(Driver):
    def sensors(self):
        camera = {"type": "sensor.camera.rgb", "x": 0.7, "y": 0.0, "z": 1.6, "width": 64, "height": 32}
        return super().sensors() + [{**camera, "id": f"Extra{i}"} for i in range(8)]
