#!/usr/bin/env bash
# Run FileFlow's processes side by side: gunicorn and FILEFLOW_TASK_WORKERS task workers
# (`manage.py db_worker`, default 1; 0 when workers run elsewhere). Ctrl+C (or SIGTERM)
# stops them all, and when one of them exits the others are stopped too.
# No set-up here: scripts/serve.sh (local) and build.sh (deployments) do that first.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${FILEFLOW_RUN_PYTHON:-python}"
GUNICORN="${FILEFLOW_RUN_GUNICORN:-gunicorn}"
WORKERS="${FILEFLOW_TASK_WORKERS:-1}"
case "$WORKERS" in (''|*[!0-9]*) echo "FileFlow cannot start: FILEFLOW_TASK_WORKERS='$WORKERS' is not a whole number." >&2; exit 2;; esac

pids=()
alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
# stop_all GRACE: give the processes GRACE tenths of a second to stop by themselves (after
# Ctrl+C the terminal has signalled them all already), then SIGTERM those left, and SIGKILL
# whatever still runs 40 s later (a task in progress is allowed to finish first).
stop_all() {
  trap - INT TERM
  local tick
  for ((tick = 0; tick < $1; tick++)); do alive || break; sleep 0.1; done
  alive && kill -TERM "${pids[@]}" 2>/dev/null
  for ((tick = 0; tick < 400; tick++)); do alive || break; sleep 0.1; done
  alive && kill -KILL "${pids[@]}" 2>/dev/null
  wait
}
trap 'stop_all 100; exit 130' INT
trap 'stop_all 0; exit 143' TERM

"$GUNICORN" -c fileflow/gunicorn.conf.py fileflow.wsgi &
pids+=($!)
for _ in $(seq 1 "$WORKERS"); do
  "$PY" manage.py db_worker --no-reload -v 1 &
  pids+=($!)
done
wait -n
status=$?
stop_all 0
exit "$status"
