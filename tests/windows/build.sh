#!/usr/bin/env bash
# Builds a driver crate of this workspace as a Windows kernel image, on Linux, and stamps its
# INF template:
#
#   bash tests/windows/build.sh [--if-possible] [PACKAGE]
#
# PACKAGE (default: wsktrace-driver) is a cdylib package with `[package.metadata.wdk]`; the
# result is target/windows/<lib>.sys (a PE32+ native image, entry DriverEntry) and, when the
# package has an INF template (<package>/inf/<lib>.inx or <package>/<lib>.inx),
# target/windows/<lib>.inf. The bindings the glue compiled against are copied to
# target/windows/bindings/ for the tests (tests/windows/bindings.rs).
#
# How (docs/windows-build.md says why, and what this proves):
# - Debian's distribution compiler (rustc-web, cargo-web, rust-web-src) builds `core` and
#   `alloc` for x86_64-pc-windows-msvc (`-Zbuild-std`); the rustup toolchain builds everything
#   else, and the two never share a target directory (target/windows/cargo here).
# - The real wdk-sys, wdk-alloc, wdk-panic and wdk crates build unchanged; only wdk-build (the
#   crate that finds the WDK) is replaced, on this command line alone, by
#   tests/windows/wdk-build-mingw/, which points wdk-sys's bindgen runs at mingw-w64's DDK
#   headers. The lockfile with that patch is derived from Cargo.lock (target/windows/lock/).
# - lld-link (lld-19) links against import libraries that llvm-dlltool makes from the .def
#   files in tests/windows/imports/, with the linker options wdk-build gives a WDM driver.
#
# Installs what it needs (Debian packages, as root) unless present. With --if-possible (the
# test suite's mode) a tool that cannot be installed only warns, unless CI=true; without it,
# that is an error. A re-run with nothing changed costs a no-op cargo build.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/install.sh

if_possible=false
if [[ "${1:-}" == "--if-possible" ]]; then
    if_possible=true
    shift
fi
package="${1:-wsktrace-driver}"

out=target/windows
target=x86_64-pc-windows-msvc
llvm=/usr/lib/llvm-19
# The distribution compiler: /usr/bin/rustc is rustc-web's (Debian's older `rustc` package
# would be refused by the version check below).
dist_rustc=/usr/bin/rustc
dist_cargo=/usr/bin/cargo
mingw_sysroot=/usr/x86_64-w64-mingw32
packages=(rustc-web cargo-web rust-web-src lld-19 llvm-19 libclang1-19 libclang-common-19-dev
    mingw-w64-x86-64-dev python3)

missing() { # missing: what of the toolchain is absent (nothing when complete)
    local version
    version="$("$dist_rustc" --version 2>/dev/null | awk '{print $2}')" || true
    # wdk-sys is edition 2024 and its bindings are written for Rust 1.91 (wdk-build's MSRV).
    if ! printf '1.91.0\n%s\n' "${version:-0}" | sort -C -V; then
        echo "rustc-web >= 1.91 at $dist_rustc (found ${version:-none})"
    fi
    local file
    for file in "$dist_cargo" "$($dist_rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library/alloc" \
        "$llvm/bin/lld-link" "$llvm/bin/llvm-dlltool" "$llvm/lib/libclang-19.so.1" \
        "$llvm/lib/clang/19/include/stddef.h" "$mingw_sysroot/include/ddk/ntddk.h"; do
        [[ -e "$file" ]] || echo "$file"
    done
    command -v python3 >/dev/null || echo python3
}

install_toolchain() {
    [[ -z "$(missing)" ]] && return 0
    apt_install "${packages[@]}" || true
    local absent
    absent="$(missing)"
    [[ -z "$absent" ]] && return 0
    local message="cannot build the Windows image: missing $(echo $absent) (Debian: ${packages[*]})"
    if $if_possible; then
        need "$message"
        exit 0
    fi
    echo "build.sh: $message" >&2
    exit 1
}

import_libraries() { # the .lib of each tests/windows/imports/*.def, remade when the .def changes
    mkdir -p "$out/lib"
    local def lib
    for def in tests/windows/imports/*.def; do
        lib="$out/lib/$(basename "$def" .def).lib"
        if [[ ! "$lib" -nt "$def" ]]; then
            "$llvm/bin/llvm-dlltool" -m i386:x86-64 -d "$def" -l "$lib"
        fi
    done
}

derived_lockfile() { # Cargo.lock with the wdk-build patch applied, remade when Cargo.lock changes
    mkdir -p "$out/lock"
    if ! cmp -s Cargo.lock "$out/lock/Cargo.lock.base"; then
        cp Cargo.lock "$out/lock/Cargo.lock"
        # Resolving with the patch replaces the wdk-build entry and drops the dependencies only
        # the real one had; every other package keeps its locked version.
        windows_cargo metadata --format-version 1 >/dev/null
        cp Cargo.lock "$out/lock/Cargo.lock.base"
    fi
}

# cargo with the distribution compiler, for the Windows target. RUSTC_BOOTSTRAP=1: -Zbuild-std
# (and -Zlockfile-path) are unstable, and Debian ships no nightly; rustc-web's own `core` and
# `alloc` sources are built with the same compiler, which is what the flag exists for (building
# a Rust toolchain's library with itself). It is set for this one command only.
windows_cargo() {
    local flags=(
        # Our crates' warnings are errors here too (dependencies' lints are capped by cargo).
        -Dwarnings
        -Ctarget-feature=+crt-static
        "-Lnative=$PWD/$out/lib"
        # The linker options wdk-build's configure_wdk_binary_build gives a WDM driver.
        -Clink-arg=/NODEFAULTLIB -Clink-arg=/DRIVER -Clink-arg=/SUBSYSTEM:NATIVE
        -Clink-arg=/KERNEL -Clink-arg=/ENTRY:DriverEntry -Clink-arg=/NXCOMPAT
        -Clink-arg=/DYNAMICBASE -Clink-arg=/OPT:REF,ICF -Clink-arg=/INTEGRITYCHECK
        -Clink-arg=/MANIFEST:NO
    )
    local IFS=$'\x1f'
    # A kernel driver aborts on panic (Cargo.toml says why the workspace profiles do not).
    RUSTC_BOOTSTRAP=1 \
        CARGO_PROFILE_RELEASE_PANIC=abort \
        RUSTC="$dist_rustc" RUSTDOC=/usr/bin/rustdoc \
        CARGO_TARGET_DIR="$PWD/$out/cargo" \
        CARGO_ENCODED_RUSTFLAGS="${flags[*]}" \
        LIBCLANG_PATH="$llvm/lib" \
        BINDGEN_EXTRA_CLANG_ARGS="-resource-dir=$llvm/lib/clang/19" \
        MINGW_SYSROOT="$mingw_sysroot" \
        "$dist_cargo" "$@" -Zlockfile-path \
        --config "resolver.lockfile-path=\"$PWD/$out/lock/Cargo.lock\"" \
        --config "patch.crates-io.wdk-build.path=\"$PWD/tests/windows/wdk-build-mingw\"" \
        --config "target.$target.linker=\"$llvm/bin/lld-link\""
}

# Reads cargo's JSON messages on stdin; prints "image PATH" for the package's cdylib,
# "bindings DIR" for wdk-sys's OUT_DIR and "wdk-sys DIR" for its sources.
artifacts() {
    python3 -c '
import json, sys
package = sys.argv[1]
for line in sys.stdin:
    message = json.loads(line)
    name = message.get("package_id", "")
    if message.get("reason") == "compiler-artifact" and "cdylib" in message["target"]["kind"] \
            and f"#{package}@" in name:
        print("image", *[f for f in message["filenames"] if f.endswith(".dll")])
    if message.get("reason") == "build-script-executed" and "#wdk-sys@" in name:
        print("bindings", message["out_dir"])
    if message.get("reason") == "compiler-artifact" and "#wdk-sys@" in name \
            and "lib" in message["target"]["kind"]:
        print("wdk-sys", message["manifest_path"].rsplit("/", 1)[0])
' "$1"
}

stamp_inf() { # stamp_inf TEMPLATE OUTPUT: what stampinf does, for an x64 package
    local version date
    version="$(package_field "$package" version)"
    # The commit date, so that the same sources stamp the same INF.
    date="$(git log -1 --format=%cd --date=format:%m/%d/%Y 2>/dev/null || date +%m/%d/%Y)"
    # The template is UTF-16LE with a BOM and CRLF line ends, as the WDK tools write INFs.
    python3 -c '
import re, sys
template, output, date, version = sys.argv[1:]
text = open(template, encoding="utf-16", newline="").read()
text = text.replace("$ARCH$", "amd64")
text = re.sub(r"(?m)^DriverVer *=[^\r\n]*", f"DriverVer   = {date},{version}.0", text)
open(output, "w", encoding="utf-16", newline="").write(text)
' "$1" "$2" "$date" "${version%%-*}"
}

build_driver() { # build_driver PACKAGE
    local package=$1 image="" bindings="" wdk_sys="" kind path
    windows_cargo build --release --locked -p "$package" --target "$target" -Zbuild-std=core,alloc \
        --message-format=json-render-diagnostics \
        > "$out/build-messages.json"
    while read -r kind path; do
        case "$kind" in
            image) image=$path ;;
            bindings) bindings=$path ;;
            wdk-sys) wdk_sys=$path ;;
        esac
    done < <(artifacts "$package" < "$out/build-messages.json")
    if [[ -z "$image" ]]; then
        echo "build.sh: cargo built no cdylib for $package" >&2
        exit 1
    fi
    local lib
    lib="$(basename "$image" .dll)"
    cp "$image" "$out/$lib.sys"
    # What the glue compiled against, for tests/windows/bindings.rs: wdk-sys's generated files
    # and the two sources of its crate root that are not generated (lib.rs, constants.rs).
    if [[ -n "$bindings" && -n "$wdk_sys" ]]; then
        rm -rf "$out/bindings"
        mkdir -p "$out/bindings/out" "$out/bindings/src"
        cp "$bindings"/{types,constants,ntddk}.rs "$out/bindings/out/"
        cp "$wdk_sys"/src/{lib,constants}.rs "$out/bindings/src/"
    fi
    local manifest_dir template
    manifest_dir="$(dirname "$(package_field "$package" manifest_path)")"
    for template in "$manifest_dir/inf/$lib.inx" "$manifest_dir/$lib.inx"; do
        if [[ -f "$template" ]]; then
            stamp_inf "$template" "$out/$lib.inf"
            echo "build.sh: $out/$lib.sys, $out/$lib.inf"
            return
        fi
    done
    echo "build.sh: $out/$lib.sys"
}

package_field() { # package_field PACKAGE FIELD: a field of the package's `cargo metadata`
    "$dist_cargo" metadata --no-deps --format-version 1 --offline \
        | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p[sys.argv[2]] for p in m["packages"] if p["name"]==sys.argv[1]))' "$1" "$2"
}

install_toolchain
mkdir -p "$out"
import_libraries
derived_lockfile
build_driver "$package"
