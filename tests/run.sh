#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs them.
#
# Installs (each step is skipped when already done, so a re-run costs only the test run):
# - .venv: a Python virtualenv with the pinned tests/requirements.txt (dissect.etl, the
#   independent parser of the ETL writer's differential test; DuckDB and PySpark, which run
#   the docs/export.md queries over `wsktrace export` tables);
# - Debian's `openjdk-17-jre-headless` (PySpark's JVM), only when no `java` is on the PATH;
# - Debian's `chromium` (headless rendering test of `wsktrace report`), only when
#   /usr/bin/chromium is missing.
# Without CI=true a step that cannot be done (no network, not root) only warns, and the tests
# that need it say so and skip; with CI=true it fails the run, and so do those tests.
set -euo pipefail
cd "$(dirname "$0")/.."

ci=false
if [[ "${CI:-}" == "true" ]]; then ci=true; fi

need() { # need MESSAGE: fail in CI, warn elsewhere
    if $ci; then
        echo "tests/run.sh: $1 (required with CI=true)" >&2
        exit 1
    fi
    echo "tests/run.sh: warning: $1; the tests that need it will skip" >&2
}

apt_updated=false
apt_install() { # apt_install PACKAGE...: Debian packages, as root, no prompts
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        return 1
    fi
    if ! $apt_updated; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        apt_updated=true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Python virtualenv with the pinned test tools ---------------------------------------------
venv=.venv
stamp="$venv/.requirements-installed"
make_venv() { # a fresh .venv with the pinned requirements
    rm -rf "$venv"
    python3 -m venv "$venv" \
        && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r tests/requirements.txt
}
if [[ -f "$stamp" ]] && cmp -s tests/requirements.txt "$stamp" && [[ -x "$venv/bin/python" ]]; then
    : # up to date
elif make_venv || { apt_install python3 python3-venv && make_venv; }; then
    cp tests/requirements.txt "$stamp"
else
    rm -rf "$venv"
    need "could not create $venv with tests/requirements.txt"
fi

# --- Java for PySpark -------------------------------------------------------------------------
if ! command -v java >/dev/null; then
    apt_install openjdk-17-jre-headless || need "could not install Debian's openjdk-17-jre-headless"
fi

# --- Chromium for the HTML report test --------------------------------------------------------
if [[ ! -x /usr/bin/chromium ]]; then
    apt_install chromium || need "could not install Debian's chromium"
fi

cargo test --locked --workspace
