#!/usr/bin/env bash
# The simulator container of a worker pod: CARLA on the agent's GPU, declared started only once its port
# accepts connections, stopped with the agent. The contract is in README.md beside this file.
set -uo pipefail
ROLE=simulator PARTNER=agent
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CARLA_SERVER="${CARLA_SERVER:-/home/carla/CarlaUE4.sh}"
CARLA_START_TIMEOUT="${CARLA_START_TIMEOUT:-300}"

# The Job's GPU: the one the executor named (PITWALL_GPU_UUID), never a file the agent can write; only where
# nothing names it (Kubernetes, where the device plugin gives the GPU to the agent's container) is the UUID
# the agent writes taken (cluster/README.md's threat model says what that trusts).
if [[ -n "${PITWALL_GPU_UUID:-}" ]]; then
  uuid="$PITWALL_GPU_UUID"
else
  gpu_file="$GPU_DIR/uuid.txt$ROUND"
  await_partner "the agent ended the round before naming its GPU" "the agent named no GPU" test -s "$gpu_file"
  uuid="$(head -n 1 "$gpu_file")"
fi
if ! devices="$(nvidia-smi --query-gpu=index,uuid --format=csv,noheader 2>&1)"; then
  crash "nvidia-smi failed: $devices"
fi
adapter="$(awk -F', *' -v uuid="$uuid" '$2 == uuid { print $1; exit }' <<<"$devices")"
[[ -n "$adapter" ]] || crash "the agent's GPU $uuid is not visible to the simulator (it sees: ${devices//$'\n'/; })"

say "simulator $WORKER_ID: round $ROUND, starting CARLA on port $CARLA_PORT, GPU $adapter ($uuid)"
start_group "$CARLA_SERVER" -RenderOffScreen -nosound "-carla-rpc-port=$CARLA_PORT" \
  "-ini:[/Script/Engine.RendererSettings]:r.GraphicsAdapter=$adapter"

# Started means the RPC port answers, not that some time has passed.
started=$SECONDS
until (: <"/dev/tcp/127.0.0.1/$CARLA_PORT") 2>/dev/null; do
  cancelled && finish "cancelled while CARLA started"
  alive "$CHILD_PID" || crash "CARLA exited while starting"
  ((SECONDS - started >= CARLA_START_TIMEOUT)) && crash "CARLA did not open port $CARLA_PORT within ${CARLA_START_TIMEOUT} s"
  sleep "$POLL_SECONDS"
done
mark "simulator-$WORKER_ID.start$ROUND"
say "simulator $WORKER_ID: CARLA is up"

while true; do
  cancelled && finish "cancelled"
  marked "agent-$WORKER_ID.done" && finish "the agent is done"
  partner_crashed && partner_ended "the agent crashed"
  if ! alive "$CHILD_PID"; then
    wait "$CHILD_PID" 2>/dev/null
    crash "CARLA exited with code $?"
  fi
  sleep "$POLL_SECONDS"
done
