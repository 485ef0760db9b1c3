"""The stand-in agent `swerving`: follows the plan weaving from side to side, out of its lanes at times."""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "SwervingAgent"


class SwervingAgent(Driver):
    def swerve(self):
        return math.sin(self.ticks / 20)
