#!/usr/bin/env bash
# The agent container of a worker pod: names its GPU for the simulator, waits for CARLA, runs the official
# leaderboard evaluator over the worker's routes with the participant's agent, and watches it. The contract
# is in README.md beside this file.
set -uo pipefail
ROLE=agent PARTNER=simulator
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LEADERBOARD_ROOT="${LEADERBOARD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
# The official code comes first, before anything of the same name in the participant's image.
export SCENARIO_RUNNER_ROOT="$LEADERBOARD_ROOT/scenario_runner"
export PYTHONPATH="$LEADERBOARD_ROOT:$SCENARIO_RUNNER_ROOT:$LEADERBOARD_ROOT/carla/PythonAPI/carla${PYTHONPATH:+:$PYTHONPATH}"
MAX_IDLE="${MAX_IDLE:-800}"
REPETITIONS="${REPETITIONS:-1}"
LOG_FILE="$LOG_DIR/agent-$WORKER_ID.log"

for name in ROUTES ROUTES_SUBSET CHECKPOINT_ENDPOINT CHALLENGE_TRACK_CODENAME; do
  [[ -n "${!name:-}" ]] || crash "$name is not set (the Job manifest sets it)"
done
# The participant's image says which agent to run (leaderboard 2.0's TEAM_AGENT and TEAM_CONFIG).
[[ -n "${TEAM_AGENT:-}" ]] || crash "TEAM_AGENT is not set: the agent image must set it (ENV TEAM_AGENT=/path/to/agent.py)"

# A round resumes from a checkpoint: one a pod's restore step brought back (a resumed attempt, or a pod
# replacing one that crashed or lost its node), or the one an earlier round in this pod left.
resume=0
if [[ "${RESUME:-0}" == 1 || "$ROUND" -gt 0 || -s "$CHECKPOINT_ENDPOINT" ]]; then resume=1; fi

if ! uuid="$(nvidia-smi --query-gpu=uuid --format=csv,noheader 2>&1)" || [[ "$uuid" != GPU-* ]]; then
  crash "no GPU is visible to the agent: nvidia-smi said: ${uuid:-nothing}"
fi
# On one machine the executor names the GPU it gave the Job: that one, and no other, must be the one seen.
if [[ -n "${PITWALL_GPU_UUID:-}" ]] && ! grep -qx "$PITWALL_GPU_UUID" <<<"$uuid"; then
  crash "the agent was given GPU $PITWALL_GPU_UUID but sees ${uuid//$'\n'/, }"
fi
uuid="${PITWALL_GPU_UUID:-$uuid}"
mkdir -p "$GPU_DIR"
head -n 1 <<<"$uuid" >"$GPU_DIR/uuid.txt$ROUND"
mark "agent-$WORKER_ID.start$ROUND"
say "agent $WORKER_ID: round $ROUND on GPU $(head -n 1 <<<"$uuid"), waiting for CARLA"

await_partner "the simulator did not start" "the simulator did not start" marked "simulator-$WORKER_ID.start$ROUND"

say "agent $WORKER_ID: evaluating routes $ROUTES_SUBSET (resume=$resume)"
start_group python3 -u "$LEADERBOARD_ROOT/leaderboard/leaderboard_evaluator.py" \
  "--agent=$TEAM_AGENT" "--agent-config=${TEAM_CONFIG:-}" \
  "--routes=$ROUTES" "--routes-subset=$ROUTES_SUBSET" "--repetitions=$REPETITIONS" \
  "--track=$CHALLENGE_TRACK_CODENAME" "--checkpoint=$CHECKPOINT_ENDPOINT" "--resume=$resume" \
  "--port=$CARLA_PORT" "--traffic-manager-port=$TM_PORT"

# Complete: every route done and the global record written (the evaluator writes it last).
complete() {
  python3 - "$CHECKPOINT_ENDPOINT" <<'PY' 2>/dev/null
import json, sys
with open(sys.argv[1]) as f:
    checkpoint = json.load(f)["_checkpoint"]
done, total = checkpoint["progress"]
sys.exit(0 if checkpoint.get("global_record") and total > 0 and done == total else 1)
PY
}

# CARLA no longer takes connections on its port: it went first, whatever the evaluator said after it.
carla_gone() { ! { exec 3<>"/dev/tcp/127.0.0.1/$CARLA_PORT"; } 2>/dev/null; }

# An evaluator that ended because CARLA did is the simulator's failure: its script marks it at its next
# look (seconds on a loaded machine), and the round ends as its partner's.
await_simulator_crash() {
  local since=$SECONDS
  until partner_crashed || ((SECONDS - since >= HANDSHAKE_TIMEOUT)); do
    cancelled && finish "cancelled"
    sleep "$POLL_SECONDS"
  done
  partner_crashed && partner_ended "the simulator crashed"
}

size() { stat -c %s "$LOG_FILE" 2>/dev/null || echo 0; }
last_size="$(size)"
last_change=$SECONDS
while true; do
  cancelled && finish "cancelled"
  partner_crashed && partner_ended "the simulator crashed"
  if ! alive "$CHILD_PID"; then
    wait "$CHILD_PID" 2>/dev/null
    code=$?
    complete && finish "the evaluation is complete"
    carla_gone && await_simulator_crash
    crash "the evaluator exited with code $code without a complete checkpoint"
  fi
  # The watchdog: an agent whose log has not grown for MAX_IDLE seconds is stuck.
  current="$(size)"
  if [[ "$current" != "$last_size" ]]; then
    last_size="$current"
    last_change=$SECONDS
  elif ((SECONDS - last_change >= MAX_IDLE)); then
    crash "the agent produced no output for ${MAX_IDLE} s"
  fi
  sleep "$POLL_SECONDS"
done
