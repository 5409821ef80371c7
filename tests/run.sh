#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs them.
#
# Installs (each step is skipped when already done, so a re-run costs only the test run):
# - .venv: a Python virtualenv with the pinned tests/requirements.txt (dissect.etl, the
#   independent parser of the ETL writer's differential test; DuckDB and PySpark, which run
#   the docs/export.md queries over `wsktrace export` tables);
# - Debian's `openjdk-17-jre-headless` (PySpark's JVM), only when no `java` is on the PATH;
# - Debian's `chromium` (headless rendering test of `wsktrace report`), only when
#   /usr/bin/chromium is missing;
# - the Windows kernel images: tests/windows/build.sh installs its toolchain and builds
#   target/windows/wsktrace_driver.sys and the example driver's
#   target/windows/wsktrace_subcomponent.sys, which the image and binding tests read;
# - for the layout test (tests/windows/layout.rs): Debian's mingw-w64 C compiler and DDK
#   headers, and Wine's headers, extracted from Debian's libwine-dev package into
#   target/windows/wine-headers/ (not installed: the headers are all the test needs).
# - the Wine run: tests/windows/wine-run.sh installs Debian's wine64 and mingw-w64's gcc, runs
#   the image under Wine once per configuration and leaves the ETL files in target/wine-run
#   for tools/tests/wine_run.rs (docs/wine.md).
# Without CI=true a step that cannot be done (no network, not root) only warns, and the tests
# that need it say so and skip; with CI=true it fails the run, and so do those tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/install.sh

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

# --- The Windows kernel images: the driver and the example driver ------------------------------
bash tests/windows/build.sh --if-possible
bash tests/windows/build.sh --if-possible wsktrace-subcomponent

# --- Independent C headers and the compiler for the layout test ------------------------------
if ! command -v x86_64-w64-mingw32-gcc >/dev/null || [[ ! -d /usr/x86_64-w64-mingw32/include/ddk ]]; then
    apt_install gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev \
        || need "could not install Debian's gcc-mingw-w64-x86-64 and mingw-w64-x86-64-dev"
fi
wine_headers=target/windows/wine-headers
extract_wine_headers() { # Wine's include tree from Debian's libwine-dev, without installing it
    local deb_dir="$wine_headers.download"
    rm -rf "$deb_dir" && mkdir -p "$deb_dir"
    (cd "$deb_dir" && apt-get download libwine-dev >/dev/null 2>&1) \
        || { apt_update && (cd "$deb_dir" && apt-get download libwine-dev >/dev/null); } \
        || return 1
    rm -rf "$wine_headers" && dpkg-deb -x "$deb_dir"/libwine-dev_*.deb "$wine_headers" && rm -rf "$deb_dir"
}
if [[ ! -f /usr/include/wine/wine/windows/ddk/wsk.h \
    && ! -f "$wine_headers/usr/include/wine/wine/windows/ddk/wsk.h" ]]; then
    extract_wine_headers || need "could not download Debian's libwine-dev for Wine's headers"
fi

# --- The image under Wine's kernel and WSK (checked by tools/tests/wine_run.rs) --------------
bash tests/windows/wine-run.sh target/wine-run

cargo test --locked --workspace
