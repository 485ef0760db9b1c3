"""A hostile stand-in agent: drives well, then stops answering (an endless computation, a deadlock)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "SilentAgent"


class SilentAgent(Driver):
    def run_step(self, input_data, timestamp):
        if self.ticks >= 40:
            time.sleep(3600)
        return super().run_step(input_data, timestamp)
