#!/usr/bin/env bash
#
# Builds (or reuses) a virtualenv with a pinned Apache Airflow, for the real-Airflow tests.
#
#   integration-tests/airflow/venv.sh VERSION_LINE TARGET_DIR
#
# VERSION_LINE is 2 or 3: the venv is built from requirements-airflow-<VERSION_LINE>.lock next to
# this script (a `pip freeze` of a clean install; see docs/AIRFLOW.md for how it was made). The
# install is `pip install --no-deps -r LOCK`, so nothing is resolved and nothing unpinned comes in.
# If that fails, it retries once letting pip resolve (same pins, dependencies checked) and says so.
#
# Idempotent: TARGET_DIR/.asfc-venv-stamp records the lock's SHA-256 and the interpreter; a venv
# whose stamp matches is reused as it is. Otherwise TARGET_DIR is removed and built again. The
# stamp is written last, so an interrupted build is never reused. Concurrent calls for the same
# TARGET_DIR wait for each other (flock on TARGET_DIR.flock).
#
# Environment: ASFC_AIRFLOW_PYTHON (default /usr/bin/python3: Debian's interpreter, not a pyenv
# shim), PIP_INDEX_URL and the other PIP_* variables as pip reads them.
#
# Exit codes: 0 venv ready (TARGET_DIR/bin/airflow), 1 could not build it, 2 usage.

set -o errexit -o nounset -o pipefail

readonly NAME=venv.sh
here=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
readonly here

usage() {
  echo "usage: $NAME VERSION_LINE TARGET_DIR   (VERSION_LINE: 2 or 3)" >&2
  exit 2
}

fail() {
  echo "$NAME: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || usage
line=$1
target=$2
[[ $line == 2 || $line == 3 ]] || usage
[[ -n $target ]] || usage

lock=$here/requirements-airflow-$line.lock
python=${ASFC_AIRFLOW_PYTHON:-/usr/bin/python3}
[[ -f $lock ]] || fail "no lock file $lock"
[[ -x $python ]] || fail "no Python interpreter at $python (install python3 and python3-venv, or set ASFC_AIRFLOW_PYTHON)"

mkdir -p -- "$(dirname -- "$target")"
target=$(readlink -f -- "$target")

# One builder per target at a time; the others wait, then find the stamp and reuse the venv.
exec 9>"$target.flock"
flock 9

python_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') ||
  fail "$python does not run"
lock_hash=$(sha256sum -- "$lock" | cut -d' ' -f1)
wanted="lock=$lock_hash python=$python python-version=$python_version"
stamp=$target/.asfc-venv-stamp

if [[ -f $stamp && -x $target/bin/airflow && "$(cat -- "$stamp")" == "$wanted" ]]; then
  echo "$NAME: reusing $target (Airflow ${line}.x, lock ${lock_hash:0:12}, Python $python_version)"
  exit 0
fi

echo "$NAME: building $target from $(basename -- "$lock") with $python (Python $python_version)"
started=$SECONDS
rm -rf -- "$target"
"$python" -m venv -- "$target" ||
  fail "$python -m venv failed (on Debian: apt-get install python3-venv)"

pip=("$target/bin/python" -m pip --disable-pip-version-check --no-input)
if ! "${pip[@]}" install --no-deps --requirement "$lock"; then
  echo "$NAME: 'pip install --no-deps -r $(basename -- "$lock")' failed; retrying once with pip's resolver" \
    "(same pins; this fails too if PyPI is unreachable or a pinned version is gone)" >&2
  "${pip[@]}" install --requirement "$lock" ||
    fail "could not install $(basename -- "$lock") into $target: is PyPI reachable (PIP_INDEX_URL)?"
fi
"${pip[@]}" check || echo "$NAME: warning: pip check reports the problems above" >&2
[[ -x $target/bin/airflow ]] || fail "$target/bin/airflow missing after the install"

echo "$wanted" >"$stamp"
echo "$NAME: built $target in $((SECONDS - started)) s ($(du -sh -- "$target" | cut -f1))"
