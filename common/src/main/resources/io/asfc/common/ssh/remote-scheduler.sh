# asfc's remote helper, run on other nodes as `sh -s -- OP ARG...` with this text on standard input.
# It is fixed code shipped with asfc. Its arguments come only from the local config file and from
# pids this helper itself reported (S5); nothing read from ZooKeeper ever reaches it.
#
#   dump                      print "self <pid>", every /proc/<pid>/stat, then every command line
#                             (grep -z records "/proc/<pid>/cmdline:<arg>"); asfc matches them
#   stop TENTHS PID:START...  SIGTERM those processes (if still the same: start time checked),
#                             SIGKILL what is left after TENTHS tenths of a second
#   start LOG VENV CMD [NAME=VALUE...]
#                             start CMD with /bin/sh -c in its own session, detached, output
#                             appended to LOG (relative to the home directory)
set -u

dump() {
  echo "self $$"
  echo "STAT"
  cat /proc/[0-9]*/stat 2>/dev/null
  echo "CMDLINE"
  grep -a -H -z '' /proc/[0-9]*/cmdline 2>/dev/null
  return 0
}

# alive PID START: the process PID runs, is not a zombie, and started at START (clock ticks)
alive() {
  want=$2
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086 # split the stat fields on purpose
  set -- $stat
  [ "$1" != Z ] && [ "${20}" = "$want" ]
}

# still PID:START...: prints those that are alive
still() {
  for target in "$@"; do
    alive "${target%%:*}" "${target#*:}" && printf ' %s' "$target"
  done
  return 0
}

stop() {
  tenths=$1
  shift
  for target in "$@"; do
    alive "${target%%:*}" "${target#*:}" && kill -TERM "${target%%:*}" 2>/dev/null
  done
  waited=0
  left=$(still "$@")
  while [ -n "$left" ] && [ "$waited" -lt "$tenths" ]; do
    sleep 0.1
    waited=$((waited + 1))
    # shellcheck disable=SC2086
    left=$(still $left)
  done
  if [ -z "$left" ]; then
    echo "terminated"
    return 0
  fi
  for target in $left; do
    kill -KILL "${target%%:*}" 2>/dev/null
  done
  echo "killed$left"
  waited=0
  while [ -n "$left" ] && [ "$waited" -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
    # shellcheck disable=SC2086
    left=$(still $left)
  done
  if [ -n "$left" ]; then
    echo "survived$left"
    return 3
  fi
  return 0
}

start() {
  log=$1
  venv=$2
  cmd=$3
  shift 3
  # scheduler.environment arrives as export lines before this script, on stdin, never in argv
  if [ "$venv" != "-" ]; then
    PATH="$venv/bin:$PATH"
    VIRTUAL_ENV=$venv
    export PATH VIRTUAL_ENV
  fi
  cd || return 1
  if command -v setsid >/dev/null 2>&1; then
    setsid /bin/sh -c "$cmd" </dev/null >>"$log" 2>&1 &
  else
    nohup /bin/sh -c "$cmd" </dev/null >>"$log" 2>&1 &
  fi
  echo "started $!"
}

op=${1:-}
[ $# -gt 0 ] && shift
case "$op" in
  dump) dump ;;
  stop) stop "$@" ;;
  start) start "$@" ;;
  *) echo "asfc remote helper: unknown operation '$op'" >&2; exit 2 ;;
esac
