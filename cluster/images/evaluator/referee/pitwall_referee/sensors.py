"""The agent's sensors() answer, checked for shape before the official rules see it, and the bytes each
sensor's data takes in the shared buffer."""

import math

from .channel import ChannelError, finite

#: More sensors than any track allows: the official rules then say which limit was passed.
MAX_SENSORS = 64
_NUMBERS = ("x", "y", "z", "roll", "pitch", "yaw", "width", "height", "fov", "range", "channels",
            "points_per_second", "rotation_frequency", "upper_fov", "lower_fov", "horizontal_fov",
            "vertical_fov", "reading_frequency", "sensor_tick")
_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def parse_sensors(answer):
    """The sensor specifications as plain dicts: a list of objects with a `type` and a unique `id` (short
    words), numbers finite; the official validation of the track's limits runs on the result."""
    if not isinstance(answer, list) or len(answer) > MAX_SENSORS:
        raise ChannelError(f"the agent's sensors are not a list of at most {MAX_SENSORS}", "invalid_sensors")
    sensors, ids = [], set()
    for spec in answer:
        if not isinstance(spec, dict):
            raise ChannelError("a sensor of the agent is not an object", "invalid_sensors")
        kind, ident = spec.get("type"), spec.get("id")
        for name, value in (("type", kind), ("id", ident)):
            if not isinstance(value, str) or not 0 < len(value) <= 64 or not set(value) <= _WORD:
                raise ChannelError(f"a sensor's {name} is not a short word: {value!r}", "invalid_sensors")
        if ident in ids:
            raise ChannelError(f"two sensors share the id {ident}", "invalid_sensors")
        ids.add(ident)
        unknown = set(spec) - {"type", "id", *_NUMBERS}
        if unknown:
            raise ChannelError(f"sensor {ident} has unknown fields: {', '.join(sorted(unknown))}", "invalid_sensors")
        for name in _NUMBERS:
            if name in spec and not finite(spec[name]):
                raise ChannelError(f"sensor {ident}'s {name} is not a finite number", "invalid_sensors")
        sensors.append(dict(spec))
    return sensors


def data_bytes(spec, hz=20):
    """The largest reading a sensor produces per tick, in bytes, as CARLA delivers it."""
    kind = spec["type"]
    if kind.startswith("sensor.camera."):
        return int(spec.get("width", 800)) * int(spec.get("height", 600)) * 4  # BGRA, 8 bits each
    if kind == "sensor.lidar.ray_cast":
        points = math.ceil(float(spec.get("points_per_second", 56000)) / hz)
        return points * 4 * 4  # x, y, z, intensity as float32
    if kind == "sensor.other.radar":
        return math.ceil(float(spec.get("points_per_second", 1500)) / hz) * 4 * 4  # velocity, azimuth, altitude, depth
    if kind == "sensor.other.gnss":
        return 3 * 8
    if kind == "sensor.other.imu":
        return 7 * 8
    if kind == "sensor.speedometer":
        return 8
    if kind == "sensor.opendrive_map":
        return 8 * 1024 * 1024  # the map's OpenDRIVE text, sent once a second in the leaderboard
    raise ChannelError(f"sensor {spec['id']} has a type no track offers: {kind}", "invalid_sensors")
