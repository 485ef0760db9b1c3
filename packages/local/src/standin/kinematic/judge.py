"""What the official criteria would say of a drive, in the checkpoint's record format: route completion,
leaving the route's lanes, deviating from it, getting blocked, timing out, and driving too slowly."""

import math

#: Metres off the route's centre line that leave its lanes, and that are a deviation (the route ends).
OFF_LANE, DEVIATION = 2.0, 30.0
#: Game seconds standing still that block the route; the time a route may take beyond its length at this speed.
BLOCKED_SECONDS, TIMEOUT_SPEED, TIMEOUT_MARGIN = 20.0, 2.0, 30.0
#: Below this share of the traffic's speed (the stand-in's traffic drives at TRAFFIC_SPEED), a drive is too slow.
TRAFFIC_SPEED, MIN_SPEED_SHARE = 8.0, 0.5
#: The official keys of a record's infractions.
INFRACTION_KEYS = ("collisions_layout", "collisions_pedestrian", "collisions_vehicle", "red_light",
                   "stop_infraction", "outside_route_lanes", "min_speed_infractions", "yield_emergency_vehicle_infractions",
                   "scenario_timeouts", "route_dev", "vehicle_blocked", "route_timeout")


class Judge:
    """Watches one route's drive tick by tick; `verdict()` once it ends."""

    def __init__(self, route):
        self.route = route
        self.done = 0.0  # the furthest point along the route reached, in metres
        self.segment = 0
        self.off_lane = 0.0
        self.still = 0.0
        self.seconds = 0.0
        self.ended = None  # (status, infraction key, message) when the route ended early
        self.limit = route.length / TIMEOUT_SPEED + TIMEOUT_MARGIN

    def watch(self, car, tick_seconds):
        """One tick; returns False once the route has ended (completed, or failed)."""
        self.seconds += tick_seconds
        along, off, self.segment = self.route.locate(car.x, car.y, self.segment)
        if off > DEVIATION:
            return self._end("Failed - Agent deviated from the route", "route_dev", f"Agent deviated from the route at {_at(car)}")
        if off > OFF_LANE:
            self.off_lane += car.speed * tick_seconds
        elif along > self.done:
            self.done = along
        self.still = self.still + tick_seconds if car.speed < 0.1 else 0.0
        if self.still >= BLOCKED_SECONDS:
            return self._end("Failed - Agent got blocked", "vehicle_blocked", f"Agent got blocked at {_at(car)}")
        if self.seconds > self.limit:
            return self._end("Failed - Agent timed out", "route_timeout", "Route timeout.")
        return self.route.length - self.done > 1.0

    def _end(self, status, key, message):
        self.ended = (status, key, message)
        return False

    def verdict(self, index, rep, crashed=None):
        """The route's record, as the official statistics manager writes it; `crashed` when the agent failed."""
        infractions = {key: [] for key in INFRACTION_KEYS}
        completion = 100.0 * min(self.done / self.route.length, 1.0)
        penalty = 1.0
        if self.off_lane > 0:
            share = 100.0 * self.off_lane / max(self.done + self.off_lane, 1e-9)
            infractions["outside_route_lanes"].append(
                f"Agent went outside its route lanes for about {self.off_lane:.3f} meters ({share:.2f}% of the completed route)")
            completion *= 1 - share / 100
        speed = self.done / self.seconds if self.seconds else 0.0
        if self.done > 0 and speed < MIN_SPEED_SHARE * TRAFFIC_SPEED:
            percentage = 100.0 * speed / TRAFFIC_SPEED
            infractions["min_speed_infractions"].append(f"Average agent speed is {percentage:.2f}% of the surrounding traffic's one")
            penalty *= 1 - (1 - 0.7) * (1 - percentage / 100)
        if crashed:
            status = "Failed - Agent crashed"
        elif self.ended:
            status, key, message = self.ended
            infractions[key].append(message)
        else:
            status = "Completed" if any(infractions.values()) else "Perfect"
        return {
            "index": index,
            "route_id": f"RouteScenario_{self.route.id}_rep{rep}",
            "status": status,
            "num_infractions": sum(len(events) for events in infractions.values()),
            "infractions": infractions,
            "scores": {
                "score_route": round(completion, 6),
                "score_penalty": round(penalty, 6),
                "score_composed": round(max(completion * penalty, 0.0), 6),
            },
            "meta": {"route_length": round(self.route.length, 3), "duration_game": round(self.seconds, 3),
                     "duration_system": round(self.seconds, 3)},
            "town_name": self.route.town,
        }


def _at(car):
    return f"(x={car.x:.1f}, y={car.y:.1f}, z=0.0)"
