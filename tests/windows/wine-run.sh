#!/usr/bin/env bash
# Runs the driver image under Wine's kernel (winedevice.exe with Wine's ntoskrnl.exe, hal.dll
# and netio.sys), once per configuration of tests/windows/wine-configurations.txt, and writes
# what the driver logged as ETL files:
#
#   bash tests/windows/wine-run.sh OUT_DIR
#
# OUT_DIR gets, per configuration NAME:
#   NAME.etl        the driver's TraceLogging events, as ETW would have written them
#   NAME.tap        the ETW tap's record they were converted from (tools/src/etw_tap)
#   NAME.wine.log   Wine's log of the run (every process of the Wine session)
#   NAME.port       the loopback port the driver listened on (ListenPort, picked free)
#   NAME.clients    the port each TCP client connected from, one a line
# and service.reg, the service key as Wine's setupapi installed it from the INF; for the
# example driver (examples/subcomponent), whose subcomponent a user-mode program activates
# and deactivates:
#   subcomponent.etl, subcomponent.tap, subcomponent.wine.log  as above
#   subcomponent.out  the program's output (examples/subcomponent/client/wsksub.c)
# and wine-run.ok once everything ran. tools/tests/wine_run.rs checks them, the example
# driver's in the_subcomponent_is_activated_from_user_mode (docs/wine.md).
#
# Steps:
# 1. Installs Debian's wine64 (Wine 8.0) and mingw-w64's gcc unless present.
# 2. Builds the driver image (tests/windows/build.sh: a no-op when up to date), the tap
#    (tests/windows/tap/wsktap.c) and the image whose Etw*/ExAllocatePool2 imports resolve to
#    the tap (tests/windows/wine_imports.rs with tests/windows/wine-imports.txt: only the
#    import directory differs).
# 3. Makes a fresh prefix (OUT_DIR/prefix) and installs the driver from the stamped INF with
#    Wine's setupapi (`InstallHinfSection DefaultInstall`: the service's type, start type,
#    error control and Parameters come from the INF). Wine's setupapi has no DIRID 13 (the
#    driver store), so the binary is then put in C:\windows\system32\drivers and the
#    service's ImagePath pointed there, absolute; the tap goes beside it.
# 4. Per configuration: a new Wine session (wineserver -p keeps winedevice.exe alive between
#    commands); Parameters reset to what the INF installed, then the configuration's values
#    and a free ListenPort; `net start`; once the bring-up has ended (the tap has recorded
#    ReleaseProviderNpi) the configuration's TCP clients connect from Linux one after the
#    other (Wine's sockets are the host's), each waiting until the driver has closed the
#    connection; once the driver has armed its next accept (the record converted so far
#    holds one Accept Start per client, plus one; at most 10 s) `net stop`; the session ends;
#    the record becomes NAME.etl (`wsktrace tap-to-etl`).
#
# 5. The example driver: built and rewritten the same way, installed from its INF beside the
#    first, started; wsksub.exe (built with mingw-w64's gcc) sends its IOCTLs, activating and
#    deactivating the subcomponent three times; stopped; its record becomes subcomponent.etl.
#
# Without a tool it cannot install it warns and writes nothing (the tests then skip), unless
# CI=true: then it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lib/install.sh

if [[ $# -ne 1 ]]; then
    echo "usage: bash tests/windows/wine-run.sh OUT_DIR" >&2
    exit 2
fi
mkdir -p "$1"
out="$(cd "$1" && pwd)"
rm -f "$out/wine-run.ok"

wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
gcc=x86_64-w64-mingw32-gcc
dlltool=x86_64-w64-mingw32-dlltool
if [[ ! -x "$wine" || ! -x "$(command -v $gcc || true)" ]]; then
    apt_install wine64 gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev ||
        { need "could not install Debian's wine64 and mingw-w64 gcc"; exit 0; }
fi

# --- The image, the tap, the image as Wine runs it --------------------------------------------
# (The example first: tests/run.sh has just built it, so only one of the two relinks the
# driver crate's cdylib: see build.sh.)
bash tests/windows/build.sh --if-possible wsktrace-subcomponent
bash tests/windows/build.sh --if-possible
image=target/windows/wsktrace_driver.sys
inf=target/windows/wsktrace_driver.inf
sub_image=target/windows/wsktrace_subcomponent.sys
sub_inf=target/windows/wsktrace_subcomponent.inf
for file in "$image" "$inf" "$sub_image" "$sub_inf"; do
    if [[ ! -f "$file" ]]; then
        need "no driver image ($file)"
        exit 0
    fi
done
build=target/windows/wine
mkdir -p "$build"
for def in ntoskrnl hal; do
    "$dlltool" --input-def "tests/windows/tap/$def.def" --output-lib "$build/lib$def.a"
done
# A kernel-mode DLL: native subsystem, no C runtime, only the imports of the .def files.
"$gcc" -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-stack-protector -fno-builtin \
    -mno-stack-arg-probe -I/usr/x86_64-w64-mingw32/include/ddk -shared -nostdlib -nostartfiles -s \
    -Wl,--subsystem,native -Wl,--entry,DriverEntry -o "$build/wsktap.sys" \
    tests/windows/tap/wsktap.c tests/windows/tap/wsktap.def -L"$build" -lntoskrnl -lhal
cargo build --locked --quiet -p wsktrace-tools --bin wsktrace
cargo build --locked --quiet -p wsktrace-driver --example wine_imports
wsktrace=target/debug/wsktrace
stage="$build/package"
rm -rf "$stage" && mkdir -p "$stage"
cp "$inf" "$sub_inf" "$stage/"
echo "wine-run: images and tap ready (${SECONDS} s); imports moved for Wine:"
for sys in "$image" "$sub_image"; do
    target/debug/examples/wine_imports tests/windows/wine-imports.txt "$sys" \
        "$stage/$(basename "$sys")" | sed "s|^|  $(basename "$sys"): |"
done
"$gcc" -std=c11 -O2 -Wall -Wextra -Werror -o "$build/wsksub.exe" \
    examples/subcomponent/client/wsksub.c

# --- A fresh prefix with the driver installed -------------------------------------------------
export WINEPREFIX="$out/prefix" WINEARCH=win64
# No Mono or Gecko (nothing here needs .NET or HTML), no display.
export WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
winpath() { # winpath PATH: the Windows path of a file (Wine maps Z: to /)
    local abs
    abs="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
    printf 'Z:%s' "${abs//\//\\}"
}
session_end() { "$wineserver" -k 2>/dev/null || true; "$wineserver" -w; }
"$wineserver" -k 2>/dev/null || true
rm -rf "$WINEPREFIX"
WINEDEBUG=-all "$wine" wineboot --init >/dev/null 2>&1
system32="$WINEPREFIX/drive_c/windows/system32"
service='HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\wsktrace'
sub_service='HKEY_LOCAL_MACHINE\System\CurrentControlSet\Services\wsktracesub'
for driver in wsktrace_driver wsktrace_subcomponent; do
    WINEDEBUG=-all "$wine" rundll32 setupapi.dll,InstallHinfSection DefaultInstall 128 \
        "$(winpath "$stage/$driver.inf")"
    cp "$stage/$driver.sys" "$system32/drivers/"
done
cp "$build/wsktap.sys" "$system32/drivers/"
# Wine's sc.exe has no `config`; services.exe reads the new ImagePath when the next session
# starts it.
printf 'REGEDIT4\r\n\r\n[%s]\r\n"ImagePath"="%s"\r\n\r\n[%s]\r\n"ImagePath"="%s"\r\n' \
    "$service" 'C:\\windows\\system32\\drivers\\wsktrace_driver.sys' \
    "$sub_service" 'C:\\windows\\system32\\drivers\\wsktrace_subcomponent.sys' \
    >"$build/image-path.reg"
WINEDEBUG=-all "$wine" regedit /S "$(winpath "$build/image-path.reg")"
WINEDEBUG=-all "$wine" regedit /E "$(winpath "$out/service.reg")" "$service"
WINEDEBUG=-all "$wine" regedit /E "$(winpath "$build/parameters.reg")" "$service\\Parameters"
session_end

echo "wine-run: prefix made and drivers installed (${SECONDS} s)"

# --- One run per configuration ----------------------------------------------------------------
record="$WINEPREFIX/drive_c/wsktrace-tap.bin"
# Wine's log: errors and FIXMEs of every channel, the loader's warnings (unresolved imports),
# which module each process loads, each line prefixed with its process and thread id.
log_channels="+pid,err+all,fixme+all,warn+module,+loaddll"
# What the INF put in Parameters, as REGEDIT4 lines (the export is UTF-16 with a header line).
inf_parameters="$(iconv -f UTF-16LE -t UTF-8 "$build/parameters.reg" | sed '1d; s/\r$//')"
parameters_reg() { # parameters_reg TIMEOUT WORKER VERSION PORT: Parameters as the INF made
    # it, then the values that are not `-`, and the listening port
    printf 'REGEDIT4\r\n\r\n[-%s\\Parameters]\r\n' "$service"
    printf '%s\r\n' "$inf_parameters"
    printf '\r\n[%s\\Parameters]\r\n' "$service"
    local name value
    for name in WaitTimeoutMs WaitOnWorker NpiVersion ListenPort; do
        value="$1"; shift
        [[ "$value" == - ]] || printf '"%s"=dword:%08x\r\n' "$name" "$value"
    done
}
brought_up() { # brought_up: the driver's bring-up has ended (its last event is recorded)
    [[ -f "$record" ]] && grep -aq ReleaseProviderNpi "$record"
}
free_port() { # free_port: a loopback TCP port no one listens on now
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
connect_client() { # connect_client PORT: connects to the driver from Linux, prints the client's
    # own port, and returns once the driver has closed the connection (end of stream)
    timeout 20 python3 -c '
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15) as s:
    print(s.getsockname()[1], flush=True)
    s.recv(1)
' "$1"
}
accepts_armed() { # accepts_armed: Accept Start events in the record so far (0 if it does not
    # convert yet, e.g. while a record is half written)
    cp "$record" "$build/partial.tap" 2>/dev/null || { echo 0; return; }
    "$wsktrace" tap-to-etl "$build/partial.tap" -o "$build/partial.etl" >/dev/null 2>&1 ||
        { echo 0; return; }
    "$wsktrace" dump --json "$build/partial.etl" |
        grep -c '"opcode":1,.*"event_name":"Accept"' || true
}
run_session() { # run_session NAME SERVICE BEFORE AFTER: one Wine session: the function
    # BEFORE run, SERVICE started, AFTER run, SERVICE stopped; the tap's record becomes
    # NAME.tap and NAME.etl, Wine's log NAME.wine.log ($log while the functions run)
    local name=$1 service_name=$2
    rm -f "$record" "$out/$name".{etl,tap,wine.log}
    "$wineserver" -p
    # The session's first process starts services.exe, which starts winedevice.exe: they
    # inherit its WINEDEBUG and its stderr, the log.
    log="$out/$name.wine.log"
    export WINEDEBUG="$log_channels"
    "$3"
    # Bounded: a driver that hangs fails its configuration, not the whole CI run.
    timeout 120 "$wine" net start "$service_name" >>"$log" 2>&1 || true
    "$4"
    timeout 120 "$wine" net stop "$service_name" >>"$log" 2>&1 || true
    session_end
    unset WINEDEBUG
    if [[ -f "$record" ]]; then
        cp "$record" "$out/$name.tap"
        "$wsktrace" tap-to-etl "$out/$name.tap" -o "$out/$name.etl"
    else
        echo "wine-run: $name: the tap wrote no record (see $log)" >&2
    fi
}
set_parameters() { # the configuration's Parameters (the driver reads them in DriverEntry, so
    # setting them in its session is soon enough)
    "$wine" regedit /S "$(winpath "$build/$name.reg")" >>"$log" 2>&1
}
connect_clients() { # after the bring-up: the configuration's clients, then the next accept
    for _ in $(seq 200); do brought_up && break; sleep 0.05; done
    for _ in $(seq "$clients"); do
        connect_client "$port" >>"$out/$name.clients" 2>>"$log" ||
            echo "wine-run: $name: a client was not accepted and closed (see $log)" >&2
    done
    for _ in $(seq 200); do
        (( $(accepts_armed) > clients )) && break
        sleep 0.05
    done
}
ran=0
# (The configurations come in on descriptor 3: the Wine commands must not read them.)
while read -r name timeout worker version clients _ <&3; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    port="$(free_port)"
    echo "wine-run: $name (WaitTimeoutMs=$timeout WaitOnWorker=$worker NpiVersion=$version" \
        "ListenPort=$port, $clients client(s))"
    echo "$port" >"$out/$name.port"
    : >"$out/$name.clients"
    parameters_reg "$timeout" "$worker" "$version" "$port" >"$build/$name.reg"
    run_session "$name" wsktrace set_parameters connect_clients
    ran=$((ran + 1))
done 3<tests/windows/wine-configurations.txt

# --- The example driver: its subcomponent activated from user mode -----------------------------
activations() { # wsksub.exe's IOCTLs: three activations and deactivations
    timeout 120 "$wine" "$build/wsksub.exe" activate deactivate activate deactivate activate \
        deactivate >"$out/subcomponent.out" 2>>"$log" || true
}
echo "wine-run: subcomponent (wsktracesub, three activations and deactivations by wsksub.exe)"
run_session subcomponent wsktracesub : activations
touch "$out/wine-run.ok"
echo "wine-run: $ran configurations and the example driver in $out (${SECONDS} s)"
