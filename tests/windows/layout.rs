//! The `#[repr(C)]` structures the driver hands the kernel and NETIO, checked against
//! independent C headers by the C compiler for the Windows target (`x86_64-w64-mingw32-gcc`):
//! `_Static_assert`s of every size and field offset, generated from the Rust layouts below,
//! compiled against
//!
//! - mingw-w64's DDK headers (Debian `mingw-w64-x86-64-dev`): the kernel structures;
//! - Wine's headers (Debian `libwine-dev`, as Wine's own `netio.sys` includes them): the
//!   kernel structures again, the WSK structures of `ddk/wsk.h`, the socket addresses, and
//!   the WSK constants.
//!
//! The kernel structures are the stand-in's (`wsktrace_driver::wdk_standin`), which
//! `tests/windows/bindings.rs` holds to the wdk-sys bindings the Windows glue uses; the WSK
//! ones are `wsktrace_driver::wsk_abi`, which both platforms use. `WSK_PROVIDER_CHARACTERISTICS`
//! is in neither header set (Wine 8 does not declare it), so its layout rests on Microsoft's
//! documentation alone (`src/wsk_abi.rs` tests it).

use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use wsktrace_driver::wdk_standin as k;
use wsktrace_driver::wsk_abi as w;

use crate::support::{missing, repo};

/// One structure: its C name, size, and `(C member path, offset)` pairs.
struct Check {
    c_type: &'static str,
    size: usize,
    fields: Vec<(String, usize)>,
}

/// The C spelling of a Rust field path: bindgen's `__bindgen_anon_N` members are anonymous
/// in C.
fn c_path(rust: &str) -> String {
    rust.split('.')
        .map(str::trim)
        .filter(|part| !part.starts_with("__bindgen_anon_"))
        .collect::<Vec<_>>()
        .join(".")
}

/// `layout!(struct "C_NAME" = RustType { every, field } and { nested.paths })`: the `struct`
/// form must name every field of the Rust structure (an exhaustive pattern checks that), so a
/// field added in Rust cannot go unchecked. Unions are listed field by field.
macro_rules! layout {
    (struct $c:literal = $($ty:ident)::+ { $($field:ident),* $(,)? } $(and { $($($path:ident).+),* $(,)? })?) => {{
        #[allow(dead_code)]
        fn every_field_is_listed(value: &$($ty)::+) {
            let $($ty)::+ { $($field: _),* } = value;
        }
        layout!(@check $c, $($ty)::+, [$($field),*], [$($($($path).+),*)?])
    }};
    (union $c:literal = $($ty:ident)::+ { $($field:ident),* $(,)? }) => {
        layout!(@check $c, $($ty)::+, [$($field),*], [])
    };
    (@check $c:literal, $ty:ty, [$($field:ident),*], [$($($path:ident).+),*]) => {
        Check {
            c_type: $c,
            size: size_of::<$ty>(),
            fields: vec![
                $((c_path(stringify!($field)), offset_of!($ty, $field)),)*
                $((c_path(stringify!($($path).+)), offset_of!($ty, $($path).+)),)*
            ],
        }
    };
}

/// The kernel structures the glue hands to ntoskrnl (or, for IRPs, to NETIO).
fn kernel_structures() -> Vec<Check> {
    vec![
        layout!(struct "UNICODE_STRING" = k::_UNICODE_STRING { Length, MaximumLength, Buffer }),
        layout!(struct "OBJECT_ATTRIBUTES" = k::_OBJECT_ATTRIBUTES {
            Length, RootDirectory, ObjectName, Attributes, SecurityDescriptor,
            SecurityQualityOfService,
        }),
        layout!(struct "KEY_VALUE_PARTIAL_INFORMATION" = k::_KEY_VALUE_PARTIAL_INFORMATION {
            TitleIndex, Type, DataLength, Data,
        }),
        layout!(union "LARGE_INTEGER" = k::_LARGE_INTEGER { QuadPart }),
        layout!(struct "LIST_ENTRY" = k::_LIST_ENTRY { Flink, Blink }),
        layout!(struct "DISPATCHER_HEADER" = k::_DISPATCHER_HEADER {
            Type, SignalState, WaitListHead,
        }),
        layout!(struct "KEVENT" = k::_KEVENT { Header }),
        layout!(struct "IO_STATUS_BLOCK" = k::_IO_STATUS_BLOCK { __bindgen_anon_1, Information }
            and { __bindgen_anon_1.Status }),
        layout!(struct "IO_STACK_LOCATION" = k::_IO_STACK_LOCATION {
            MajorFunction, MinorFunction, Flags, Control, Parameters, DeviceObject, FileObject,
            CompletionRoutine, Context,
        }),
        layout!(struct "IRP" = k::_IRP {
            Type, Size, MdlAddress, Flags, AssociatedIrp, ThreadListEntry, IoStatus,
            RequestorMode, PendingReturned, StackCount, CurrentLocation, Cancel, CancelIrql,
            ApcEnvironment, AllocationFlags, UserIosb, UserEvent, Overlay, CancelRoutine,
            UserBuffer, Tail,
        } and {
            Tail.Overlay.Thread,
            Tail.Overlay.AuxiliaryBuffer,
            Tail.Overlay.__bindgen_anon_2.ListEntry,
            Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation,
            Tail.Overlay.OriginalFileObject,
        }),
        layout!(struct "DRIVER_OBJECT" = k::_DRIVER_OBJECT {
            Type, Size, DeviceObject, Flags, DriverStart, DriverSize, DriverSection,
            DriverExtension, DriverName, HardwareDatabase, FastIoDispatch, DriverInit,
            DriverStartIo, DriverUnload, MajorFunction,
        }),
    ]
}

/// The WSK structures of `wsk.h` and the socket addresses of `ws2def.h`/`ws2ipdef.h`.
fn wsk_structures() -> Vec<Check> {
    vec![
        layout!(struct "WSK_CLIENT_DISPATCH" = w::WSK_CLIENT_DISPATCH {
            Version, Reserved, WskClientEvent,
        }),
        layout!(struct "WSK_CLIENT_NPI" = w::WSK_CLIENT_NPI { ClientContext, Dispatch }),
        layout!(struct "WSK_REGISTRATION" = w::WSK_REGISTRATION {
            ReservedRegistrationState, ReservedRegistrationContext, ReservedRegistrationLock,
        }),
        layout!(struct "WSK_PROVIDER_NPI" = w::WSK_PROVIDER_NPI { Client, Dispatch }),
        layout!(struct "WSK_PROVIDER_DISPATCH" = w::WSK_PROVIDER_DISPATCH {
            Version, Reserved, WskSocket, WskSocketConnect, WskControlClient, WskGetAddressInfo,
            WskFreeAddressInfo, WskGetNameInfo,
        }),
        layout!(struct "WSK_SOCKET" = w::WSK_SOCKET { Dispatch }),
        layout!(struct "WSK_PROVIDER_BASIC_DISPATCH" = w::WSK_PROVIDER_BASIC_DISPATCH {
            WskControlSocket, WskCloseSocket,
        }),
        layout!(struct "WSK_PROVIDER_LISTEN_DISPATCH" = w::WSK_PROVIDER_LISTEN_DISPATCH {
            Basic, WskBind, WskAccept, WskInspectComplete, WskGetLocalAddress,
        }),
        layout!(struct "WSK_PROVIDER_CONNECTION_DISPATCH" = w::WSK_PROVIDER_CONNECTION_DISPATCH {
            Basic, WskBind, WskConnect, WskGetLocalAddress, WskGetRemoteAddress, WskSend,
            WskReceive, WskDisconnect, WskRelease, WskConnectEx, WskSendEx, WskReceiveEx,
        }),
        layout!(struct "SOCKADDR" = w::SOCKADDR { sa_family, sa_data }),
        layout!(struct "SOCKADDR_IN" = w::SOCKADDR_IN { sin_family, sin_port, sin_addr, sin_zero }),
        layout!(struct "SOCKADDR_IN6" = w::SOCKADDR_IN6 {
            sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id,
        }),
        layout!(union "SOCKADDR_INET" = w::SOCKADDR_INET { Ipv4, Ipv6, si_family }),
    ]
}

/// The WSK and socket constants the driver passes, as C expressions and Rust values.
fn wsk_constants() -> Vec<(&'static str, u64)> {
    vec![
        ("WSK_NO_WAIT", w::WSK_NO_WAIT.into()),
        ("WSK_INFINITE_WAIT", w::WSK_INFINITE_WAIT.into()),
        ("MAKE_WSK_VERSION(1, 0)", w::make_wsk_version(1, 0).into()),
        ("MAKE_WSK_VERSION(2, 3)", w::make_wsk_version(2, 3).into()),
        ("WSK_FLAG_LISTEN_SOCKET", w::WSK_FLAG_LISTEN_SOCKET.into()),
        (
            "WSK_FLAG_CONNECTION_SOCKET",
            w::WSK_FLAG_CONNECTION_SOCKET.into(),
        ),
        ("AF_INET", w::AF_INET.into()),
        ("AF_INET6", w::AF_INET6.into()),
        ("SOCK_STREAM", w::SOCK_STREAM.into()),
        ("IPPROTO_TCP", w::IPPROTO_TCP.into()),
        ("INADDR_LOOPBACK", w::INADDR_LOOPBACK.into()),
    ]
}

/// The C source: the headers, then one assertion per size, offset and constant.
fn c_source(includes: &str, checks: &[Check], constants: &[(&str, u64)]) -> String {
    let mut c = String::from("#include <stddef.h>\n");
    c.push_str(includes);
    for check in checks {
        let t = check.c_type;
        c.push_str(&format!(
            "_Static_assert(sizeof({t}) == {n}, \"sizeof({t}) is not {n} as in Rust\");\n",
            n = check.size
        ));
        // An anonymous member itself has no C name; its members are listed by their own.
        for (field, offset) in check.fields.iter().filter(|(field, _)| !field.is_empty()) {
            c.push_str(&format!(
                "_Static_assert(offsetof({t}, {field}) == {offset}, \
                 \"offsetof({t}, {field}) is not {offset} as in Rust\");\n"
            ));
        }
    }
    for (expr, value) in constants {
        c.push_str(&format!(
            "_Static_assert(({expr}) == {value}ULL, \"{expr} is not {value} as in Rust\");\n"
        ));
    }
    c
}

/// The C compiler for the Windows target, or `None` (after [`missing`]).
fn compiler() -> Option<&'static str> {
    const GCC: &str = "x86_64-w64-mingw32-gcc";
    let found = Command::new(GCC)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        missing(&format!("{GCC} (Debian: gcc-mingw-w64-x86-64)"));
    }
    found.then_some(GCC)
}

/// The compiler and the first of `candidates` that holds `probe`, or `None` (after
/// [`missing`]).
fn prerequisites(
    what: &str,
    probe: &str,
    candidates: &[PathBuf],
) -> Option<(&'static str, PathBuf)> {
    let gcc = compiler()?;
    Some((gcc, header_dir(what, probe, candidates)?))
}

/// A header directory that must contain `probe`: the first of `candidates` that does.
fn header_dir(what: &str, probe: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    let found = candidates
        .iter()
        .find(|dir| dir.join(probe).is_file())
        .cloned();
    if found.is_none() {
        missing(&format!("{what} ({probe} in any of {candidates:?})"));
    }
    found
}

/// Compiles `source` with `args`; the compiler's messages on failure.
fn compile(gcc: &str, name: &str, source: &str, args: &[String]) -> Result<(), String> {
    let dir = repo().join("target/tmp/windows-layout");
    std::fs::create_dir_all(&dir).expect("target/tmp");
    let file = dir.join(name);
    std::fs::write(&file, source).expect("write the C source");
    let output = Command::new(gcc)
        .args(["-fsyntax-only", "-Werror=implicit-function-declaration"])
        .args(args)
        .arg(&file)
        .output()
        .expect("run the C compiler");
    if output.status.success() {
        return Ok(());
    }
    let messages = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = messages
        .lines()
        .filter(|line| line.contains("error"))
        .collect();
    Err(format!("{}:\n  {}", file.display(), errors.join("\n  ")))
}

fn include_flag(dir: &Path) -> String {
    format!("-I{}", dir.display())
}

#[test]
fn kernel_structures_match_mingw_w64_ddk() {
    let ddk_dirs = [PathBuf::from("/usr/x86_64-w64-mingw32/include/ddk")];
    let Some((gcc, ddk)) = prerequisites("mingw-w64's DDK headers", "ntddk.h", &ddk_dirs) else {
        return;
    };
    let source = c_source("#include <ntddk.h>\n", &kernel_structures(), &[]);
    let args = [
        String::from("-D_KERNEL_MODE"),
        String::from("-D_WIN32_WINNT=0x0A00"),
        String::from("-DNTDDI_VERSION=0x0A000008"),
        include_flag(&ddk),
    ];
    if let Err(errors) = compile(gcc, "mingw-ddk.c", &source, &args) {
        panic!("layouts differ from mingw-w64's DDK headers: {errors}");
    }
}

#[test]
fn kernel_and_wsk_structures_match_wine_headers() {
    let wine_dirs = [
        PathBuf::from("/usr/include/wine/wine/windows"),
        repo().join("target/windows/wine-headers/usr/include/wine/wine/windows"),
    ];
    let Some((gcc, windows)) = prerequisites(
        "Wine's headers (Debian libwine-dev)",
        "ddk/wsk.h",
        &wine_dirs,
    ) else {
        return;
    };
    // As Wine's netio.sys includes them (dlls/netio.sys/netio.c).
    let includes = "#include <stdarg.h>\n#include \"ntstatus.h\"\n#define WIN32_NO_STATUS\n\
                    #include \"windef.h\"\n#include \"winternl.h\"\n#include \"ddk/wdm.h\"\n\
                    #include \"ddk/wsk.h\"\n#include \"ws2tcpip.h\"\n";
    let mut checks = kernel_structures();
    checks.extend(wsk_structures());
    let source = c_source(includes, &checks, &wsk_constants());
    let msvcrt = windows.parent().expect("wine include dir").join("msvcrt");
    let args = [
        String::from("-nostdinc"),
        include_flag(&windows),
        include_flag(&msvcrt),
    ];
    if let Err(errors) = compile(gcc, "wine.c", &source, &args) {
        panic!("layouts differ from Wine's headers: {errors}");
    }
}

#[test]
fn c_paths_drop_anonymous_members() {
    assert_eq!(
        c_path("Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation"),
        "Tail.Overlay.CurrentStackLocation"
    );
    assert_eq!(c_path("__bindgen_anon_1.Status"), "Status");
}
