"""The car: a kinematic bicycle driven by CARLA's controls at the leaderboard's 20 Hz, and what its sensors
read (GNSS, IMU compass, speedometer; cameras as blank frames of their size)."""

import math
from array import array

TICK_SECONDS = 0.05
WHEELBASE = 2.9
MAX_STEER_RADIANS = 0.6
#: The car's accelerations per unit of throttle and brake, and its drag, in m/s².
THROTTLE, BRAKE, DRAG = 4.0, 8.0, 0.05
#: How CARLA's GNSS turns metres into degrees around its geo-reference (lat and lon 0).
METRES_PER_DEGREE = 6378137.0 * math.pi / 180


class Car:
    def __init__(self, x, y, yaw):
        self.x, self.y, self.yaw, self.speed = x, y, yaw, 0.0

    def apply(self, controls):
        """One tick of `controls` (steer, throttle, brake, hand_brake, reverse; already checked)."""
        if controls["hand_brake"]:
            acceleration = -BRAKE
        else:
            acceleration = THROTTLE * controls["throttle"] - BRAKE * controls["brake"] - DRAG * self.speed
        if controls["reverse"]:
            acceleration = -abs(acceleration)  # the stand-in has no reverse gear: reversing only slows it
        self.speed = max(0.0, self.speed + acceleration * TICK_SECONDS)
        self.yaw += self.speed / WHEELBASE * math.tan(controls["steer"] * MAX_STEER_RADIANS) * TICK_SECONDS
        self.x += self.speed * math.cos(self.yaw) * TICK_SECONDS
        self.y += self.speed * math.sin(self.yaw) * TICK_SECONDS


def gnss(x, y):
    """CARLA's GNSS fix for a point: latitude from -y, longitude from x (the map's y axis points south)."""
    return -y / METRES_PER_DEGREE, x / METRES_PER_DEGREE


def readings(car, specs, frame):
    """input_data as the evaluator hands it to an agent: {id: (frame, data)} for each of its sensors."""
    data = {}
    for spec in specs:
        kind = spec["type"]
        if kind == "sensor.speedometer":
            reading = {"speed": car.speed}
        elif kind == "sensor.other.gnss":
            reading = array("d", [*gnss(car.x, car.y), 0.0])
        elif kind == "sensor.other.imu":
            # CARLA's compass: 0 facing north (-y), clockwise; the accelerometer and gyroscope are not modelled.
            reading = array("d", [0.0, 0.0, 9.81, 0.0, 0.0, 0.0, (car.yaw + math.pi / 2) % (2 * math.pi)])
        elif kind.startswith("sensor.camera."):
            reading = bytearray(int(spec.get("width", 800)) * int(spec.get("height", 600)) * 4)
        else:
            continue  # lidar, radar and the map read nothing here
        data[spec["id"]] = (frame, reading)
    return data
