"""The stand-in for CARLA and the official evaluator's scoring in local Jobs: a small kinematic world that
drives the agent's controls along each route's waypoints at 20 Hz and judges the drive, so that a score
depends on how the agent drove. `evaluator.py` runs it behind the official evaluator's command line."""
