# asfc's remote helper, run on other nodes as `sh -s -- OP ARG...` with this text on standard input.
# It is fixed code shipped with asfc. Its arguments come only from the local config file and from
# pids this helper itself reported (S5); nothing read from ZooKeeper ever reaches it.
#
#   dump                      print "self <pid>", every /proc/<pid>/stat, then every command line
#                             (grep -z records "/proc/<pid>/cmdline:<arg>"); asfc matches them
#   stop TENTHS PID:START...  SIGTERM those processes (if still the same: start time checked),
#                             SIGKILL what is left after TENTHS tenths of a second
#   fence DIR EPOCH           record max(recorded, EPOCH) as this host's fencing token; print
#                             "fenced R" (R: the token now recorded), exit 4 when it cannot record
#   start DIR EPOCH LOG VENV CMD
#                             start CMD with /bin/sh -c in its own session, detached, output
#                             appended to LOG (relative to the home directory), only if no newer
#                             leader fenced this host: exit 75 ("refused R") when the recorded token
#                             R is greater than EPOCH, exit 4 when EPOCH cannot be recorded
#
# The fencing token lives in $HOME/DIR/epoch (DIR is .asfc/<cluster>), guarded by flock(1) on
# $HOME/DIR/lock: a start checks, records and launches under the lock, a fence reads and records
# under it, so the two never interleave. A missing or garbled token reads as 0.
set -u

# token DIR: the recorded token, 0 when missing or not a number
token() {
  { read -r recorded < "$1/epoch"; } 2>/dev/null || recorded=
  case "$recorded" in
    '' | *[!0-9]*) echo 0 ;;
    *) if [ "${#recorded}" -gt 18 ]; then echo 0; else echo "$recorded"; fi ;;
  esac
}

# locked DIR: opens DIR/lock on fd 9 and takes it (10 s at most); DIR is created if missing
locked() {
  mkdir -p "$1" 2>/dev/null
  command -v flock >/dev/null 2>&1 || { echo "flock(1) is missing on this host" >&2; return 1; }
  { exec 9>>"$1/lock"; } 2>/dev/null || { echo "cannot open $1/lock" >&2; return 1; }
  flock -w 10 9 || { echo "cannot lock $1/lock within 10 s" >&2; return 1; }
}

# record DIR EPOCH: writes the token (a new file renamed over the old: never half written)
record() {
  if printf '%s\n' "$2" > "$1/epoch.new" 2>/dev/null && mv -f "$1/epoch.new" "$1/epoch" 2>/dev/null; then
    return 0
  fi
  rm -f "$1/epoch.new" 2>/dev/null
  echo "cannot write $1/epoch" >&2
  return 1
}

fence() {
  dir=$HOME/$1
  locked "$dir" || return 4
  recorded=$(token "$dir")
  if [ "$2" -gt "$recorded" ]; then
    record "$dir" "$2" || return 4
    recorded=$2
  fi
  echo "fenced $recorded"
}

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
  dir=$HOME/$1
  epoch=$2
  log=$3
  venv=$4
  cmd=$5
  shift 5
  # the whole start holds the lock: a fence waits for it, or the start waits for the fence
  locked "$dir" || return 4
  recorded=$(token "$dir")
  if [ "$recorded" -gt "$epoch" ]; then
    echo "refused $recorded"
    return 75
  fi
  record "$dir" "$epoch" || return 4
  # scheduler.environment arrives as export lines before this script, on stdin, never in argv
  if [ "$venv" != "-" ]; then
    PATH="$venv/bin:$PATH"
    VIRTUAL_ENV=$venv
    export PATH VIRTUAL_ENV
  fi
  cd || return 1
  if command -v setsid >/dev/null 2>&1; then
    setsid /bin/sh -c "$cmd" </dev/null >>"$log" 2>&1 9>&- &
  else
    nohup /bin/sh -c "$cmd" </dev/null >>"$log" 2>&1 9>&- &
  fi
  echo "started $!"
}

op=${1:-}
[ $# -gt 0 ] && shift
case "$op" in
  dump) dump ;;
  stop) stop "$@" ;;
  fence) fence "$@" ;;
  start) start "$@" ;;
  *) echo "asfc remote helper: unknown operation '$op'" >&2; exit 2 ;;
esac
