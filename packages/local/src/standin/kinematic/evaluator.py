"""The official evaluator's stand-in, behind its command line (--routes, --routes-subset, --repetitions,
--agent, --agent-config, --track, --checkpoint, --resume, --port): it loads `--agent` as the evaluator does
(get_entry_point(), a new agent for each route), drives it through the kinematic world and writes the real
checkpoint format route by route, the global record last. An agent that fails ends the evaluation: its
route is "Failed - Agent crashed" and the last line on stderr names the failure class."""

import argparse
import importlib.util
import json
import math
import os
import sys
from types import SimpleNamespace

from pitwall_referee.controls import parse_controls

from .judge import Judge
from .route import read_routes
from .world import TICK_SECONDS, Car, gnss, readings

#: The SENSORS track's limits as the official rules (validate_sensor_configuration) state them.
SENSOR_LIMITS = {"sensor.camera.rgb": 8, "sensor.lidar.ray_cast": 2, "sensor.other.radar": 4, "sensor.other.gnss": 1,
                 "sensor.other.imu": 1, "sensor.speedometer": 1, "sensor.opendrive_map": 1}
MAX_SENSOR_RADIUS = 3.0


class AgentFailure(Exception):
    def __init__(self, message, failure_class):
        super().__init__(message)
        self.failure_class = failure_class


def _controls(control):
    """The agent's answer as the referee's fixed schema (an in-process agent's VehicleControl included)."""
    if not isinstance(control, dict):
        control = {k: getattr(control, k) for k in ("steer", "throttle", "brake", "hand_brake", "reverse") if hasattr(control, k)}
    controls, _ = parse_controls(control)
    return controls


def validate_sensors(specs, track):
    counts = {}
    for spec in specs:
        kind = spec["type"]
        if kind not in SENSOR_LIMITS or (kind == "sensor.opendrive_map" and track == "SENSORS"):
            raise AgentFailure(f"Illegal sensor used for Track [{track}]: {kind}", "invalid_sensors")
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] > SENSOR_LIMITS[kind]:
            raise AgentFailure(f"Too many {kind} sensors: at most {SENSOR_LIMITS[kind]}", "invalid_sensors")
        if math.hypot(spec.get("x", 0), spec.get("y", 0), spec.get("z", 0)) > MAX_SENSOR_RADIUS:
            raise AgentFailure(f"Illegal sensor position: {spec['id']} is over {MAX_SENSOR_RADIUS} m from the car", "invalid_sensors")


def drive(agent, route, judge, args):
    """One route: set up, sensors checked, the plan given, then ticks until the judge ends it; returns the
    sensors' types."""
    agent.setup(args.agent_config)
    specs = agent.sensors()
    validate_sensors(specs, args.track)
    world = [(_transform(x, y), "LANEFOLLOW") for x, y in route.points]
    plan = [({"lat": lat, "lon": lon, "z": 0.0}, "LANEFOLLOW") for lat, lon in (gnss(x, y) for x, y in route.points)]
    agent.set_global_plan(plan, world)
    car, frame = Car(*route.points[0], route.heading()), 0
    while True:
        frame += 1
        car.apply(_controls(agent.run_step(readings(car, specs, frame), frame * TICK_SECONDS)))
        if not judge.watch(car, TICK_SECONDS):
            return [spec["type"] for spec in specs]


def _transform(x, y):
    """A plan point as CARLA gives it (a carla.Transform's location and rotation)."""
    return SimpleNamespace(location=SimpleNamespace(x=x, y=y, z=0.0), rotation=SimpleNamespace(pitch=0.0, yaw=0.0, roll=0.0))


def load_agent_class(path):
    spec = importlib.util.spec_from_file_location("evaluated_agent", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, module.get_entry_point())


def write(path, records, total, sensors, complete):
    body = {
        "_checkpoint": {
            "global_record": {"index": -1, "route_id": -1, "status": "Completed", "infractions": {}, "meta": {}} if complete else {},
            "progress": [len(records), total],
            "records": records,
        },
        "entry_status": "Finished" if complete else "Started",
        "eligible": complete,
        "sensors": sensors,
        "values": [],
        "labels": [],
    }
    with open(path + ".tmp", "w") as file:
        json.dump(body, file)
    os.replace(path + ".tmp", path)


def evaluate(args):
    scale = float(os.environ.get("PITWALL_STANDIN_WORLD_SCALE", "1"))
    routes = read_routes(args.routes, args.routes_subset, scale)
    plan = [(route, rep) for route in routes for rep in range(args.repetitions)]
    records, sensors = [], []
    if args.resume and os.path.exists(args.checkpoint):
        with open(args.checkpoint) as file:
            saved = json.load(file)
        records, sensors = saved["_checkpoint"]["records"], saved.get("sensors", [])
    agent_class = load_agent_class(args.agent)
    for index in range(len(records), len(plan)):
        route, rep = plan[index]
        agent, judge = agent_class(args.host, args.port, False), Judge(route)
        try:
            sensors = drive(agent, route, judge, args)
            failure = None
        except Exception as error:  # the agent's failure, whatever it raised: its route ends, and the evaluation
            failure = error
        try:
            agent.destroy()
        except Exception as error:
            failure = failure or error
        records.append(judge.verdict(index, rep, crashed=failure is not None))
        write(args.checkpoint, records, len(plan), sensors, False)
        if failure is not None:
            failure_class = getattr(failure, "failure_class", "agent_crashed")
            print(f"the agent failed on route {route.id} ({failure_class}): {failure}", file=sys.stderr)
            return 1
        print(f"route {route.id} rep {rep}: {records[-1]['status']}, {records[-1]['scores']['score_composed']}")
    write(args.checkpoint, records, len(plan), sensors, True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="the stand-in for leaderboard_evaluator.py")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=2000)
    parser.add_argument("--routes", required=True)
    parser.add_argument("--routes-subset", default="")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--agent-config", default="")
    parser.add_argument("--track", default="SENSORS")
    parser.add_argument("--checkpoint", default="./simulation_results.json")
    parser.add_argument("--resume", type=lambda value: value not in ("0", "False", "false", ""), default=False)
    args, _ = parser.parse_known_args(argv)  # the rest (--timeout, --debug, the traffic manager's) is CARLA's
    return evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
