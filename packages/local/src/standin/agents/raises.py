"""A stand-in agent whose run_step raises, as a CUDA error or a bug would, with a long, coloured message."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "RaisingAgent"


class RaisingAgent(Driver):
    def run_step(self, input_data, timestamp):
        if self.ticks >= 40:
            raise RuntimeError("CUDA error: an illegal memory access was encountered \x1b[31m" + "x" * 5000)
        return super().run_step(input_data, timestamp)
