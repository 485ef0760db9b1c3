"""The stand-in agent `good`: follows the route's plan at 8 m/s."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Driver  # noqa: E402


def get_entry_point():
    return "GoodAgent"


class GoodAgent(Driver):
    pass
