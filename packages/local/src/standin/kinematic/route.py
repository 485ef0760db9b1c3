"""A route file's routes (the leaderboard's XML), and where a point is along one: how far, and how far off."""

import math
import xml.etree.ElementTree as ElementTree


class Route:
    """One route's waypoints as a polyline, scaled by `scale` (tests drive short routes)."""

    def __init__(self, ident, town, points):
        if len(points) < 2:
            raise ValueError(f"route {ident} has fewer than two waypoints")
        self.id, self.town, self.points = ident, town, points
        self.starts = [0.0]  # the distance along the route where each segment starts
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            self.starts.append(self.starts[-1] + math.hypot(bx - ax, by - ay))
        self.length = self.starts[-1]

    def locate(self, x, y, near):
        """(distance along, distance off, segment): the closest point on segments from `near` a few on, so
        that a route crossing itself is followed in order."""
        best = None
        for index in range(max(0, near - 1), min(len(self.points) - 1, near + 4)):
            (ax, ay), (bx, by) = self.points[index], self.points[index + 1]
            dx, dy = bx - ax, by - ay
            span = dx * dx + dy * dy
            t = 0.0 if span == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / span))
            off = math.hypot(x - (ax + t * dx), y - (ay + t * dy))
            if best is None or off < best[1]:
                best = (self.starts[index] + t * math.sqrt(span), off, index)
        return best

    def heading(self):
        (ax, ay), (bx, by) = self.points[0], self.points[1]
        return math.atan2(by - ay, bx - ax)


def read_routes(path, subset="", scale=1.0):
    """The routes of the file at `path`, those `subset` names ("3", "0-4", "1,5-7" by id) or all."""
    routes = []
    for element in ElementTree.parse(path).getroot().iter("route"):
        points = [(float(p.get("x")) * scale, float(p.get("y")) * scale) for p in element.iter("position")]
        routes.append(Route(element.get("id"), element.get("town"), points))
    if not subset:
        return routes
    ids = [route.id for route in routes]
    chosen = set()
    for part in subset.split(","):
        first, _, last = part.partition("-")
        if first in ids and (last or first) in ids:
            chosen.update(ids[ids.index(first) : ids.index(last or first) + 1])
    return [route for route in routes if route.id in chosen]
