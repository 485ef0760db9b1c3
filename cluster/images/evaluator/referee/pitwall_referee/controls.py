"""The agent's answer to run_step: CARLA's VehicleControl as a fixed schema, checked and clamped."""

from .channel import ChannelError, finite

#: Each field, its range, and what a missing one is.
RANGES = {"steer": (-1.0, 1.0, 0.0), "throttle": (0.0, 1.0, 0.0), "brake": (0.0, 1.0, 0.0)}
FLAGS = ("hand_brake", "reverse")


def parse_controls(answer):
    """(controls, notes): the controls to apply, and a note for each value clamped or left out.

    A value that is not a finite number (NaN, an infinity, a string) refuses the whole answer: the run fails
    as the agent's, rather than the referee guessing what it meant. Unknown fields are refused too.
    """
    if not isinstance(answer, dict):
        raise ChannelError("the agent's controls are not an object", "agent_crashed")
    unknown = sorted(set(answer) - set(RANGES) - set(FLAGS))
    if unknown:
        raise ChannelError(f"the agent's controls have unknown fields: {', '.join(unknown)}", "agent_crashed")
    controls, notes = {}, []
    for name, (low, high, missing) in RANGES.items():
        value = answer.get(name, missing)
        if not finite(value):
            raise ChannelError(f"the agent's {name} is not a finite number: {value!r}", "agent_crashed")
        clamped = min(max(float(value), low), high)
        if clamped != value:
            notes.append(f"{name} {value!r} clamped to {clamped}")
        controls[name] = clamped
    for name in FLAGS:
        value = answer.get(name, False)
        if not isinstance(value, bool):
            raise ChannelError(f"the agent's {name} is not true or false: {value!r}", "agent_crashed")
        controls[name] = value
    return controls, notes
