# shellcheck shell=bash
# What run_carla.sh and run_leaderboard.sh share: settings, status files, logs, how a round ends, and
# stopping only the processes a script started. Sourced, never run, after the script sets ROLE and
# PARTNER (simulator and agent, one each way). The contract is in README.md beside this file.

: "${ROLE:?set ROLE before sourcing common.sh}" "${PARTNER:?set PARTNER before sourcing common.sh}"
: "${WORKER_ID:?WORKER_ID is not set}"
: "${STATUS_DIR:?STATUS_DIR is not set}"
: "${LOG_DIR:?LOG_DIR is not set}"
: "${GPU_DIR:?GPU_DIR is not set}"
CARLA_PORT="${CARLA_PORT:-2000}"
TM_PORT="${TM_PORT:-8000}"
# How often each script looks at its process and its partner's status files.
POLL_SECONDS="${POLL_SECONDS:-2}"
# How long a script waits for its partner: the GPU file, the simulator's start, a crash handshake.
PARTNER_TIMEOUT="${PARTNER_TIMEOUT:-3600}"
HANDSHAKE_TIMEOUT="${HANDSHAKE_TIMEOUT:-600}"
# A stopped process gets this long after SIGTERM before SIGKILL.
STOP_GRACE_SECONDS="${STOP_GRACE_SECONDS:-10}"

mkdir -p "$STATUS_DIR" "$LOG_DIR"

# The attempt-local round: the number of agent crash files already there. Both containers count the same
# files, so after a crash both restart into the same round and use fresh status names.
crash_round() {
  local files=("$STATUS_DIR/agent-$WORKER_ID.crash"*)
  [[ -e "${files[0]}" ]] || { echo 0; return; }
  echo "${#files[@]}"
}

status_file() { echo "$STATUS_DIR/$1"; }
mark() { : > "$(status_file "$1")"; }
marked() { [[ -e "$(status_file "$1")" ]]; }
cancelled() { marked "simulation-$WORKER_ID.cancel"; }

# Everything the script and its processes print goes to stdout and, appended across restarts, to the log.
log_to() {
  exec > >(tee -a "$LOG_DIR/$1-$WORKER_ID.log") 2>&1
  LOG_PID=$!
}

# On the way out, the log's last lines reach the file before the script is gone: tee gets its end of input
# and is waited for. Without it, logcopy's last flush (the pod ending, a node lost) could read the log before
# tee wrote its tail, and those lines were lost with the pod.
flush_log() {
  exec >&- 2>&-
  # At most 2 s: a process this script started and did not stop may still hold tee's input open.
  local waited=0
  while [[ -n "${LOG_PID:-}" ]] && kill -0 "$LOG_PID" 2>/dev/null && ((waited < 20)); do
    sleep 0.1
    waited=$((waited + 1))
  done
}
trap flush_log EXIT

say() { echo "[$(date -u +%H:%M:%S)] $*"; }

# Starts a command in a process group of its own, so that stopping it stops whatever it started, and
# nothing else: never a kill by name. Sets CHILD_PID.
start_group() {
  setsid "$@" &
  CHILD_PID=$!
}

alive() { kill -0 "$1" 2>/dev/null; }

# SIGTERM to the group, SIGKILL after the grace; returns once the group's leader is gone.
stop_group() {
  local pid="$1" waited=0
  alive "$pid" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && ((waited < STOP_GRACE_SECONDS * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}


ROUND="$(crash_round)"
# The process this script started and watches (CARLA or the evaluator), once started.
CHILD_PID=""
log_to "$ROLE"

partner_crashed() { marked "$PARTNER-$WORKER_ID.crash$ROUND"; }

# Says why the round ends, stops what this script started, and writes the round's status file.
end_round() {
  say "$ROLE $WORKER_ID: $1"
  [[ -n "$CHILD_PID" ]] && stop_group "$CHILD_PID"
  mark "$ROLE-$WORKER_ID.$2"
}

# This round failed: the crash file, then the handshake (the partner ends its round too), then exit 1 so
# that the kubelet restarts both into the next round.
crash() {
  end_round "$1" "crash$ROUND"
  local started=$SECONDS
  until partner_crashed || marked "$PARTNER-$WORKER_ID.done" || cancelled; do
    ((SECONDS - started >= HANDSHAKE_TIMEOUT)) && break
    sleep "$POLL_SECONDS"
  done
  exit 1
}

# This round ends because the partner's did (its crash file is there): the same crash file, no handshake to
# wait for, and exit PARTNER_CRASHED_EXIT, which the control plane does not count as this container's own
# failure; the failure is the partner's, the one that exited 1 first.
PARTNER_CRASHED_EXIT=3
partner_ended() {
  end_round "$1" "crash$ROUND"
  exit "$PARTNER_CRASHED_EXIT"
}

finish() {
  end_round "$1" "done"
  [[ "$ROLE" == simulator ]] && linger
  exit 0
}

# The simulator is a sidecar, which the kubelet starts again if it exits: once its round is done it waits
# for the pod's end (SIGTERM, sent once the agent has exited).
linger() {
  trap 'exit 0' TERM
  while true; do
    sleep "$POLL_SECONDS" &
    wait $!
  done
}

# The pod is going (deleted, preempted, drained): stop what this script started. The round ends as a
# crash would, without the handshake, so that a restart in the same pod starts with fresh status names.
interrupted() {
  end_round "stopped (SIGTERM)" "crash$ROUND"
  exit 143
}
trap interrupted TERM

# Waits for the partner's step (a command that succeeds once it is done), giving up on a cancel (done),
# on the partner's crash or after PARTNER_TIMEOUT (crash, with the reason given for each).
await_partner() {
  local if_crashed="$1" if_late="$2" started=$SECONDS
  shift 2
  until "$@"; do
    cancelled && finish "cancelled before start"
    partner_crashed && partner_ended "$if_crashed"
    ((SECONDS - started >= PARTNER_TIMEOUT)) && crash "$if_late within ${PARTNER_TIMEOUT} s"
    sleep "$POLL_SECONDS"
  done
}
