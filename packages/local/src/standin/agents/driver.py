"""What the stand-in agents share: an LB 2.0 AutonomousAgent (setup, sensors, set_global_plan, run_step,
destroy) that follows the route's plan by GNSS and compass, as a participant's simple agent would."""

import math

METRES_PER_DEGREE = 6378137.0 * math.pi / 180
WHEELBASE, MAX_STEER_RADIANS = 2.9, 0.6


class Driver:
    #: The speed it drives at, in m/s.
    speed = 8.0

    def __init__(self, host, port, debug=False):
        self.plan = []
        self.next = 0  # the plan's segment the car is on
        self.ticks = 0

    def setup(self, path_to_conf_file):
        self.config = path_to_conf_file

    def sensors(self):
        return [
            {"type": "sensor.camera.rgb", "id": "Center", "x": 0.7, "y": 0.0, "z": 1.6, "width": 64, "height": 32, "fov": 100},
            {"type": "sensor.other.gnss", "id": "GPS", "x": 0.0, "y": 0.0, "z": 0.0},
            {"type": "sensor.other.imu", "id": "IMU", "x": 0.0, "y": 0.0, "z": 0.0},
            {"type": "sensor.speedometer", "id": "Speed", "reading_frequency": 20},
        ]

    def set_global_plan(self, global_plan_gps, global_plan_world_coord):
        self.plan = [(t.location.x, t.location.y) for t, _ in global_plan_world_coord]

    def run_step(self, input_data, timestamp):
        self.ticks += 1
        fix = input_data["GPS"][1]
        x, y = fix[1] * METRES_PER_DEGREE, -fix[0] * METRES_PER_DEGREE
        yaw = input_data["IMU"][1][6] - math.pi / 2
        speed = input_data["Speed"][1]["speed"]
        lookahead = max(3.0, 0.6 * speed)
        tx, ty = self.carrot(x, y, lookahead)
        alpha = math.atan2(ty - y, tx - x) - yaw
        alpha = math.atan2(math.sin(alpha), math.cos(alpha))
        steer = math.atan(2 * WHEELBASE * math.sin(alpha) / lookahead) / MAX_STEER_RADIANS + self.swerve()
        target = self.speed if abs(alpha) < 0.2 else self.speed / 3
        return {
            "steer": max(-1.0, min(1.0, steer)),
            "throttle": max(0.0, min(1.0, 0.5 * (target - speed))),
            "brake": 1.0 if speed > target + 1 else 0.0,
        }

    def swerve(self):
        """Steering added to pure pursuit's: none for a good driver."""
        return 0.0

    def carrot(self, x, y, lookahead):
        """Pure pursuit's aim: the point `lookahead` metres on along the plan from the car's nearest point."""
        segments = list(zip(self.plan, self.plan[1:]))
        best = None
        for index in range(self.next, min(len(segments), self.next + 3)):
            (ax, ay), (bx, by) = segments[index]
            span = (bx - ax) ** 2 + (by - ay) ** 2
            t = 0.0 if span == 0 else max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / span))
            off = math.dist((x, y), (ax + t * (bx - ax), ay + t * (by - ay)))
            if best is None or off < best[0]:
                best = (off, index, t)
        _, self.next, t = best
        (ax, ay), (bx, by) = segments[self.next]
        left, point = lookahead, (ax + t * (bx - ax), ay + t * (by - ay))
        for (ax, ay), (bx, by) in [(point, (bx, by)), *segments[self.next + 1 :]]:
            length = math.dist((ax, ay), (bx, by))
            if length >= left:
                return ax + (bx - ax) * left / length, ay + (by - ay) * left / length
            left -= length
        return self.plan[-1]

    def destroy(self):
        pass
