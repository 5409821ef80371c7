#!/usr/bin/env bash
# Builds the `wsktrace` command and analyses traces with it: the balance check (`check`) and
# the startup-wait impact (`boot`). Without arguments it analyses the boot trace bundled in
# the repository, tests/data/boot-worker.etl (written by `wsktrace simulate --scenario
# boot-worker`).
#
#   bash scripts/demo.sh [FILE|DIR...]
#
# Exit status as wsktrace's: 0 clean, 1 findings (from `check`), 2 an input could not be read;
# 2 wins over 1.
set -uo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then
    set -- tests/data/boot-worker.etl
fi
echo "Building wsktrace (release; a first build takes several minutes)..." >&2
cargo build --locked --release --quiet -p wsktrace-tools --bin wsktrace || exit 2
wsktrace=target/release/wsktrace

status=0
run() { # run COMMAND...: print it, run it, keep the worst exit status (2 over 1 over 0)
    echo "\$ wsktrace $*"
    "$wsktrace" "$@"
    local code=$?
    if ((code > status)); then status=$code; fi
    echo
}
run check "$@"
run boot "$@"
echo "The binary is $wsktrace (cargo install --locked --path tools puts it on the PATH)."
exit "$status"
