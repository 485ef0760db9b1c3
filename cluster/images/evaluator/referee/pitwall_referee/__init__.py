"""Pitwall's referee channel: the one narrow way between the trusted evaluator and the participant's agent.

The referee's side (the proxy agent, in the official evaluator's process) and the untrusted side (the agent
host, in the participant's image) exchange small JSON frames over a Unix socket; sensor data goes through a
shared buffer file that only the referee writes. Everything the agent sends is hostile input: frames are
size-capped, every call has a deadline, nothing is unpickled, and controls are a fixed schema.
"""
