# Shared by the test scripts (`source tests/lib/install.sh`): installing what the tests need,
# and what a missing tool means. Without CI=true a step that cannot be done (no network, not
# root) only warns, and the tests that need it say so and skip; with CI=true it fails the run.

ci=false
if [[ "${CI:-}" == "true" ]]; then ci=true; fi

need() { # need MESSAGE: fail in CI, warn elsewhere
    if $ci; then
        echo "${0##*/}: $1 (required with CI=true)" >&2
        exit 1
    fi
    echo "${0##*/}: warning: $1; the tests that need it will skip" >&2
}

apt_updated=false
apt_update() { # apt_update: refresh Debian's package lists, once per run, as root
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        return 1
    fi
    if ! $apt_updated; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        apt_updated=true
    fi
}

apt_install() { # apt_install PACKAGE...: Debian packages, as root, no prompts
    apt_update || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
