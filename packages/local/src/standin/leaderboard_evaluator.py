#!/usr/bin/env python3
"""Stand-in for leaderboard/leaderboard_evaluator.py in a local Job: the real command line, the CARLA
stand-in's evaluation (same process, so the script that started it can stop it)."""
import os
import sys

node = os.environ["PITWALL_NODE"]
os.execv(node, [node, os.environ["PITWALL_STANDIN"], "evaluator", *sys.argv[1:]])
