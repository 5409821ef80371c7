//! Hand-written `#[repr(C)]` definitions of the Winsock Kernel (WSK) structures, constants and
//! NETIO imports this driver uses.
//!
//! `wdk-sys` does not generate bindings for `wsk.h`, so the structures the registration
//! functions and the provider dispatch take are written out here, field for field, in the
//! order and with the types `wsk.h` (Windows 10 WDK, `NTDDI_VERSION >= NTDDI_WIN7`) declares
//! them. `tests/windows/layout.rs` compiles their size and every field offset, with the
//! constants below, as `_Static_assert`s against Wine's independent `ddk/wsk.h` with the
//! mingw-w64 C compiler, so a transcription error fails on Linux rather than as a bug check
//! on Windows. `WSK_PROVIDER_CHARACTERISTICS` is missing from Wine's header: the test below
//! pins it to Microsoft's documentation.
//!
//! Definitions only: no function here is called by this module. The NETIO functions are
//! declared at the bottom: on Windows as `extern "system"` imports from `netio.lib`; on any
//! other host they are the stand-ins of [`crate::wdk_standin::netio`], which have the same
//! signatures and are backed by the simulated WSK subsystem.
//!
//! Pointer parameters that this driver always passes as `NULL` (`PEPROCESS`, `PETHREAD`,
//! `PSECURITY_DESCRIPTOR`) and dispatch entries it never calls are typed as opaque pointers:
//! the ABI (one pointer-sized slot) is the same.

#![allow(non_camel_case_types, non_snake_case)]

use core::ffi::c_void;

#[cfg(not(windows))]
use crate::wdk_standin as wdk;
#[cfg(windows)]
use wdk_sys as wdk;

/// `NTSTATUS` (`LONG`).
pub type NTSTATUS = i32;
/// `PIRP`: the IRP type of `wdk-sys` (or of its stand-in).
pub type PIRP = *mut wdk::IRP;

/// `IoGetNextIrpStackLocation(Irp)` (wdm.h; an inline function, so bindgen leaves it out of
/// `wdk-sys`): `Irp->Tail.Overlay.CurrentStackLocation - 1`, the stack location of the driver
/// the IRP goes to next. A WSK client sets its completion routine there before the call
/// (`IoSetCompletionRoutine`), and the provider completes the IRP through it.
///
/// # Safety
///
/// `irp` points to a live IRP that is not queued (so `Tail.Overlay` is its active member) and
/// has a stack location below its current one.
pub unsafe fn IoGetNextIrpStackLocation(irp: PIRP) -> wdk::PIO_STACK_LOCATION {
    // SAFETY: 1. `irp` points to a live IRP (contract).
    let irp = unsafe { &*irp };
    // SAFETY: 1. `Tail.Overlay` is the active member of an IRP that is not queued (contract).
    let overlay = unsafe { &irp.Tail.Overlay };
    // SAFETY: 1. `CurrentStackLocation` is the member `IoAllocateIrp`/`IoReuseIrp` set and the
    //            I/O manager keeps current.
    let current = unsafe {
        overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
    };
    // SAFETY: 1. A stack location below the current one exists (contract), inside the IRP's
    //            allocation.
    unsafe { current.sub(1) }
}

/// `IoGetCurrentIrpStackLocation(Irp)` (wdm.h; an inline function, so bindgen leaves it out
/// of `wdk-sys`): `Irp->Tail.Overlay.CurrentStackLocation`, the stack location of the driver
/// the I/O manager dispatched the IRP to.
///
/// # Safety
///
/// `irp` points to a live IRP dispatched to the caller (so `Tail.Overlay` is its active member
/// and its current location is the caller's).
pub unsafe fn IoGetCurrentIrpStackLocation(irp: PIRP) -> wdk::PIO_STACK_LOCATION {
    // SAFETY: 1. `irp` points to a live IRP (contract).
    let irp = unsafe { &*irp };
    // SAFETY: 1. `Tail.Overlay` is the active member of an IRP being dispatched (contract).
    let overlay = unsafe { &irp.Tail.Overlay };
    // SAFETY: 1. `CurrentStackLocation` is the member the I/O manager keeps current.
    unsafe {
        overlay
            .__bindgen_anon_2
            .__bindgen_anon_1
            .CurrentStackLocation
    }
}

// The version macros, wait values and address families of wsk.h/ws2def.h: defined once, in the
// portable core, and used from there.
pub use crate::lifecycle::api::{
    make_wsk_version, wsk_major_version, wsk_minor_version, AF_INET, AF_INET6, WSK_INFINITE_WAIT,
    WSK_NO_WAIT,
};

// ---------------------------------------------------------------------------------------------
// Socket creation constants (wsk.h, ws2def.h)
// ---------------------------------------------------------------------------------------------

/// `WSK_FLAG_LISTEN_SOCKET` (wsk.h).
pub const WSK_FLAG_LISTEN_SOCKET: u32 = 0x0000_0001;
/// `WSK_FLAG_CONNECTION_SOCKET` (wsk.h): the category of the sockets `WskAccept` returns.
pub const WSK_FLAG_CONNECTION_SOCKET: u32 = 0x0000_0002;
/// `SOCK_STREAM` (ws2def.h).
pub const SOCK_STREAM: u16 = 1;
/// `IPPROTO_TCP` (ws2def.h).
pub const IPPROTO_TCP: u32 = 6;
/// `INADDR_LOOPBACK` (ws2def.h), host byte order.
pub const INADDR_LOOPBACK: u32 = 0x7F00_0001;

/// `SOCKADDR` (ws2def.h): the generic socket address the WSK functions take a pointer to.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SOCKADDR {
    /// `ADDRESS_FAMILY sa_family` (`USHORT`).
    pub sa_family: u16,
    /// `CHAR sa_data[14]`.
    pub sa_data: [u8; 14],
}

/// `SOCKADDR_IN` (ws2def.h): an IPv4 socket address; port and address in network byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SOCKADDR_IN {
    /// `ADDRESS_FAMILY sin_family`.
    pub sin_family: u16,
    /// `USHORT sin_port`, network byte order.
    pub sin_port: u16,
    /// `IN_ADDR sin_addr` (`ULONG S_addr`), network byte order.
    pub sin_addr: u32,
    /// `CHAR sin_zero[8]`.
    pub sin_zero: [u8; 8],
}

impl SOCKADDR_IN {
    /// `address:port` (0: the stack picks a free port).
    pub const fn new(address: [u8; 4], port: u16) -> Self {
        Self {
            sin_family: AF_INET,
            sin_port: port.to_be(),
            // The bytes in network order are the address's octets, as they are.
            sin_addr: u32::from_ne_bytes(address),
            sin_zero: [0; 8],
        }
    }

    /// The IPv4 loopback address with `port`.
    pub const fn loopback(port: u16) -> Self {
        Self::new(INADDR_LOOPBACK.to_be_bytes(), port)
    }

    /// The address's octets and the port (host order).
    pub const fn address_and_port(&self) -> ([u8; 4], u16) {
        (self.sin_addr.to_ne_bytes(), u16::from_be(self.sin_port))
    }
}

/// `SOCKADDR_IN6` (ws2ipdef.h): an IPv6 socket address; port in network byte order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SOCKADDR_IN6 {
    /// `ADDRESS_FAMILY sin6_family`.
    pub sin6_family: u16,
    /// `USHORT sin6_port`, network byte order.
    pub sin6_port: u16,
    /// `ULONG sin6_flowinfo`.
    pub sin6_flowinfo: u32,
    /// `IN6_ADDR sin6_addr` (16 bytes).
    pub sin6_addr: [u8; 16],
    /// `ULONG sin6_scope_id` (the `SCOPE_ID` union).
    pub sin6_scope_id: u32,
}

impl SOCKADDR_IN6 {
    /// `[address]:port` (0: the stack picks a free port), no flow label, scope 0.
    pub const fn new(address: [u8; 16], port: u16) -> Self {
        Self {
            sin6_family: AF_INET6,
            sin6_port: port.to_be(),
            sin6_flowinfo: 0,
            sin6_addr: address,
            sin6_scope_id: 0,
        }
    }

    /// The IPv6 loopback address `::1` with `port`.
    pub const fn loopback(port: u16) -> Self {
        let mut addr = [0; 16];
        addr[15] = 1;
        Self::new(addr, port)
    }

    /// The address's octets and the port (host order).
    pub const fn address_and_port(&self) -> ([u8; 16], u16) {
        (self.sin6_addr, u16::from_be(self.sin6_port))
    }
}

/// `SOCKADDR_INET` (ws2ipdef.h): storage for an IPv4 or IPv6 socket address, told apart by
/// `si_family`. The buffer `WskAccept` writes the remote address into.
#[repr(C)]
#[derive(Clone, Copy)]
pub union SOCKADDR_INET {
    /// `SOCKADDR_IN Ipv4`.
    pub Ipv4: SOCKADDR_IN,
    /// `SOCKADDR_IN6 Ipv6`.
    pub Ipv6: SOCKADDR_IN6,
    /// `ADDRESS_FAMILY si_family`.
    pub si_family: u16,
}

impl SOCKADDR_INET {
    /// All zero (family 0: no address written yet).
    pub const fn zeroed() -> Self {
        SOCKADDR_INET {
            Ipv6: SOCKADDR_IN6 {
                sin6_family: 0,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: [0; 16],
                sin6_scope_id: 0,
            },
        }
    }

    /// The address it holds: `Some` for `AF_INET` and `AF_INET6`.
    pub fn to_socket_addr(&self) -> Option<crate::lifecycle::SocketAddr> {
        use crate::lifecycle::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
        // SAFETY: 1. Every member starts with the 2-byte family, and every bit pattern of
        //            the union's bytes is a valid `u16`.
        let family = unsafe { self.si_family };
        match family {
            AF_INET => {
                // SAFETY: 1. Plain integers: every bit pattern is a valid `SOCKADDR_IN`.
                let (octets, port) = unsafe { self.Ipv4 }.address_and_port();
                Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(octets)), port))
            }
            AF_INET6 => {
                // SAFETY: 1. Plain integers: every bit pattern is a valid `SOCKADDR_IN6`.
                let (octets, port) = unsafe { self.Ipv6 }.address_and_port();
                Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(octets)), port))
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client side: dispatch, NPI, registration (wsk.h)
// ---------------------------------------------------------------------------------------------

/// `PFN_WSK_CLIENT_EVENT` (wsk.h): the optional `WskClientEvent` callback (WSK 1.0 does not
/// need one; this driver passes `NULL`).
pub type PFN_WSK_CLIENT_EVENT = Option<
    unsafe extern "system" fn(
        ClientContext: *mut c_void,
        EventType: u32,
        Information: *mut c_void,
        InformationLength: usize,
    ) -> NTSTATUS,
>;

/// `WSK_CLIENT_DISPATCH` (wsk.h): the NPI version the client asks for. Must stay valid and
/// resident until `WskDeregister` has returned.
///
/// x64: `Version` at 0, `Reserved` at 2, `WskClientEvent` at 8; size 16.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WSK_CLIENT_DISPATCH {
    /// `USHORT Version`: `MAKE_WSK_VERSION(major, minor)`.
    pub Version: u16,
    /// `USHORT Reserved`.
    pub Reserved: u16,
    /// `PFN_WSK_CLIENT_EVENT WskClientEvent`.
    pub WskClientEvent: PFN_WSK_CLIENT_EVENT,
}

/// `WSK_CLIENT_NPI` (wsk.h): what `WskRegister` takes.
///
/// x64: `ClientContext` at 0, `Dispatch` at 8; size 16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_CLIENT_NPI {
    /// `PVOID ClientContext`.
    pub ClientContext: *mut c_void,
    /// `CONST WSK_CLIENT_DISPATCH *Dispatch`.
    pub Dispatch: *const WSK_CLIENT_DISPATCH,
}

/// `WSK_REGISTRATION` (wsk.h): opaque to the client, initialised by `WskRegister` and passed
/// to every other registration function. Must stay valid and resident (never moved) until
/// `WskDeregister` has returned.
///
/// x64: `ReservedRegistrationState` (`ULONGLONG`) at 0, `ReservedRegistrationContext`
/// (`PVOID`) at 8, `ReservedRegistrationLock` (`KSPIN_LOCK` = `ULONG_PTR`) at 16; size 24.
#[repr(C)]
#[derive(Debug)]
pub struct WSK_REGISTRATION {
    /// `ULONGLONG ReservedRegistrationState`.
    pub ReservedRegistrationState: u64,
    /// `PVOID ReservedRegistrationContext`.
    pub ReservedRegistrationContext: *mut c_void,
    /// `KSPIN_LOCK ReservedRegistrationLock`.
    pub ReservedRegistrationLock: usize,
}

impl WSK_REGISTRATION {
    /// An all-zero registration, ready for `WskRegister`.
    pub const fn zeroed() -> Self {
        Self {
            ReservedRegistrationState: 0,
            ReservedRegistrationContext: core::ptr::null_mut(),
            ReservedRegistrationLock: 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Provider side: client object, socket, dispatch tables, NPI, characteristics (wsk.h)
// ---------------------------------------------------------------------------------------------

/// `WSK_CLIENT` (wsk.h: `typedef PVOID PWSK_CLIENT`): the provider's client object, opaque.
#[repr(C)]
pub struct WSK_CLIENT {
    _opaque: [u8; 0],
}

/// `WSK_SOCKET` (wsk.h): `CONST VOID *Dispatch`, the socket's provider dispatch table, whose
/// type depends on the socket category (`WSK_PROVIDER_LISTEN_DISPATCH` for a listening
/// socket).
///
/// x64: `Dispatch` at 0; size 8.
#[repr(C)]
#[derive(Debug)]
pub struct WSK_SOCKET {
    /// `CONST VOID *Dispatch`.
    pub Dispatch: *const c_void,
}

/// `PFN_WSK_SOCKET` (wsk.h): `WskSocket`. On success `Irp->IoStatus.Information` holds the
/// new `PWSK_SOCKET`.
pub type PFN_WSK_SOCKET = Option<
    unsafe extern "system" fn(
        Client: *mut WSK_CLIENT,
        AddressFamily: u16,
        SocketType: u16,
        Protocol: u32,
        Flags: u32,
        SocketContext: *mut c_void,
        Dispatch: *const c_void,
        OwningProcess: *mut c_void,
        OwningThread: *mut c_void,
        SecurityDescriptor: *mut c_void,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

/// `PFN_WSK_CONTROL_CLIENT` (wsk.h): `WskControlClient`.
pub type PFN_WSK_CONTROL_CLIENT = Option<
    unsafe extern "system" fn(
        Client: *mut WSK_CLIENT,
        ControlCode: u32,
        InputSize: usize,
        InputBuffer: *mut c_void,
        OutputSize: usize,
        OutputBuffer: *mut c_void,
        OutputSizeReturned: *mut usize,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

/// `WSK_PROVIDER_DISPATCH` (wsk.h, `NTDDI_VERSION >= NTDDI_WIN7`): the provider's client-level
/// functions. Entries this driver never calls are opaque pointers.
///
/// x64: `Version` at 0, `Reserved` at 2, `WskSocket` at 8, `WskSocketConnect` at 16,
/// `WskControlClient` at 24, `WskGetAddressInfo` at 32, `WskFreeAddressInfo` at 40,
/// `WskGetNameInfo` at 48; size 56.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_PROVIDER_DISPATCH {
    /// `USHORT Version`.
    pub Version: u16,
    /// `USHORT Reserved`.
    pub Reserved: u16,
    /// `PFN_WSK_SOCKET WskSocket`.
    pub WskSocket: PFN_WSK_SOCKET,
    /// `PFN_WSK_SOCKET_CONNECT WskSocketConnect` (not called).
    pub WskSocketConnect: *const c_void,
    /// `PFN_WSK_CONTROL_CLIENT WskControlClient`.
    pub WskControlClient: PFN_WSK_CONTROL_CLIENT,
    /// `PFN_WSK_GET_ADDRESS_INFO WskGetAddressInfo` (not called).
    pub WskGetAddressInfo: *const c_void,
    /// `PFN_WSK_FREE_ADDRESS_INFO WskFreeAddressInfo` (not called).
    pub WskFreeAddressInfo: *const c_void,
    /// `PFN_WSK_GET_NAME_INFO WskGetNameInfo` (not called).
    pub WskGetNameInfo: *const c_void,
}

/// `PFN_WSK_CLOSE_SOCKET` (wsk.h): `WskCloseSocket`.
pub type PFN_WSK_CLOSE_SOCKET =
    Option<unsafe extern "system" fn(Socket: *mut WSK_SOCKET, Irp: PIRP) -> NTSTATUS>;

/// `PFN_WSK_BIND` (wsk.h): `WskBind`; `Flags` is reserved (0).
pub type PFN_WSK_BIND = Option<
    unsafe extern "system" fn(
        Socket: *mut WSK_SOCKET,
        LocalAddress: *mut SOCKADDR,
        Flags: u32,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

/// `WSK_PROVIDER_BASIC_DISPATCH` (wsk.h): the functions every socket category has.
///
/// x64: `WskControlSocket` at 0, `WskCloseSocket` at 8; size 16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_PROVIDER_BASIC_DISPATCH {
    /// `PFN_WSK_CONTROL_SOCKET WskControlSocket` (not called).
    pub WskControlSocket: *const c_void,
    /// `PFN_WSK_CLOSE_SOCKET WskCloseSocket`.
    pub WskCloseSocket: PFN_WSK_CLOSE_SOCKET,
}

/// `PFN_WSK_ACCEPT` (wsk.h): `WskAccept`. On success `Irp->IoStatus.Information` holds the
/// accepted connection's `PWSK_SOCKET` (a connection socket, `WSK_PROVIDER_CONNECTION_DISPATCH`)
/// and `RemoteAddress`, if not `NULL`, the client's transport address. `AcceptSocketDispatch`
/// is a `const WSK_CLIENT_CONNECTION_DISPATCH *`: this driver passes `NULL` (no event
/// callbacks on the connection).
pub type PFN_WSK_ACCEPT = Option<
    unsafe extern "system" fn(
        ListenSocket: *mut WSK_SOCKET,
        Flags: u32,
        AcceptSocketContext: *mut c_void,
        AcceptSocketDispatch: *const c_void,
        LocalAddress: *mut SOCKADDR,
        RemoteAddress: *mut SOCKADDR,
        Irp: PIRP,
    ) -> NTSTATUS,
>;

/// `WSK_PROVIDER_LISTEN_DISPATCH` (wsk.h): a listening socket's dispatch table.
///
/// x64: `Basic` at 0, `WskBind` at 16, `WskAccept` at 24, `WskInspectComplete` at 32,
/// `WskGetLocalAddress` at 40; size 48.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_PROVIDER_LISTEN_DISPATCH {
    /// `WSK_PROVIDER_BASIC_DISPATCH Basic`.
    pub Basic: WSK_PROVIDER_BASIC_DISPATCH,
    /// `PFN_WSK_BIND WskBind`.
    pub WskBind: PFN_WSK_BIND,
    /// `PFN_WSK_ACCEPT WskAccept`.
    pub WskAccept: PFN_WSK_ACCEPT,
    /// `PFN_WSK_INSPECT_COMPLETE WskInspectComplete` (not called).
    pub WskInspectComplete: *const c_void,
    /// `PFN_WSK_GET_LOCAL_ADDRESS WskGetLocalAddress` (not called).
    pub WskGetLocalAddress: *const c_void,
}

/// `WSK_PROVIDER_CONNECTION_DISPATCH` (wsk.h, with the `NTDDI_WIN10_RS2` members): a
/// connection socket's dispatch table. The driver only closes accepted connections, through
/// `Basic`; the rest are opaque.
///
/// x64: `Basic` at 0, then eleven function pointers from 16 in steps of 8; size 104.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_PROVIDER_CONNECTION_DISPATCH {
    /// `WSK_PROVIDER_BASIC_DISPATCH Basic`.
    pub Basic: WSK_PROVIDER_BASIC_DISPATCH,
    /// `PFN_WSK_BIND WskBind` (not called).
    pub WskBind: *const c_void,
    /// `PFN_WSK_CONNECT WskConnect` (not called).
    pub WskConnect: *const c_void,
    /// `PFN_WSK_GET_LOCAL_ADDRESS WskGetLocalAddress` (not called).
    pub WskGetLocalAddress: *const c_void,
    /// `PFN_WSK_GET_REMOTE_ADDRESS WskGetRemoteAddress` (not called).
    pub WskGetRemoteAddress: *const c_void,
    /// `PFN_WSK_SEND WskSend` (not called).
    pub WskSend: *const c_void,
    /// `PFN_WSK_RECEIVE WskReceive` (not called).
    pub WskReceive: *const c_void,
    /// `PFN_WSK_DISCONNECT WskDisconnect` (not called).
    pub WskDisconnect: *const c_void,
    /// `PFN_WSK_RELEASE_DATA_INDICATION_LIST WskRelease` (not called).
    pub WskRelease: *const c_void,
    /// `PFN_WSK_CONNECT_EX WskConnectEx` (not called).
    pub WskConnectEx: *const c_void,
    /// `PFN_WSK_SEND_EX WskSendEx` (reserved).
    pub WskSendEx: *const c_void,
    /// `PFN_WSK_RECEIVE_EX WskReceiveEx` (reserved).
    pub WskReceiveEx: *const c_void,
}

/// `WSK_PROVIDER_NPI` (wsk.h): what a successful `WskCaptureProviderNPI` fills in.
///
/// x64: `Client` at 0, `Dispatch` at 8; size 16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WSK_PROVIDER_NPI {
    /// `PWSK_CLIENT Client`.
    pub Client: *mut WSK_CLIENT,
    /// `CONST WSK_PROVIDER_DISPATCH *Dispatch`.
    pub Dispatch: *const WSK_PROVIDER_DISPATCH,
}

impl WSK_PROVIDER_NPI {
    /// An empty NPI (both pointers `NULL`) for `WskCaptureProviderNPI` to fill in.
    pub const fn empty() -> Self {
        Self {
            Client: core::ptr::null_mut(),
            Dispatch: core::ptr::null(),
        }
    }
}

/// `WSK_PROVIDER_CHARACTERISTICS` (wsk.h): the range of NPI versions the subsystem supports.
/// Note the order: highest first.
///
/// x64: `HighestVersion` at 0, `LowestVersion` at 2; size 4.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WSK_PROVIDER_CHARACTERISTICS {
    /// `USHORT HighestVersion`.
    pub HighestVersion: u16,
    /// `USHORT LowestVersion`.
    pub LowestVersion: u16,
}

// ---------------------------------------------------------------------------------------------
// NETIO imports (wsk.h declarations; exported by netio.sys, import library netio.lib)
// ---------------------------------------------------------------------------------------------

#[cfg(windows)]
#[link(name = "netio")]
unsafe extern "system" {
    /// `NTSTATUS WskRegister(PWSK_CLIENT_NPI WskClientNpi, PWSK_REGISTRATION WskRegistration)`.
    pub fn WskRegister(
        WskClientNpi: *mut WSK_CLIENT_NPI,
        WskRegistration: *mut WSK_REGISTRATION,
    ) -> NTSTATUS;
    /// `VOID WskDeregister(PWSK_REGISTRATION WskRegistration)`.
    pub fn WskDeregister(WskRegistration: *mut WSK_REGISTRATION);
    /// `NTSTATUS WskCaptureProviderNPI(PWSK_REGISTRATION WskRegistration, ULONG WaitTimeout,
    /// PWSK_PROVIDER_NPI WskProviderNpi)`.
    pub fn WskCaptureProviderNPI(
        WskRegistration: *mut WSK_REGISTRATION,
        WaitTimeout: u32,
        WskProviderNpi: *mut WSK_PROVIDER_NPI,
    ) -> NTSTATUS;
    /// `VOID WskReleaseProviderNPI(PWSK_REGISTRATION WskRegistration)`.
    pub fn WskReleaseProviderNPI(WskRegistration: *mut WSK_REGISTRATION);
    /// `NTSTATUS WskQueryProviderCharacteristics(PWSK_REGISTRATION WskRegistration,
    /// PWSK_PROVIDER_CHARACTERISTICS WskProviderCharacteristics)`.
    pub fn WskQueryProviderCharacteristics(
        WskRegistration: *mut WSK_REGISTRATION,
        WskProviderCharacteristics: *mut WSK_PROVIDER_CHARACTERISTICS,
    ) -> NTSTATUS;
}

#[cfg(not(windows))]
pub use crate::wdk_standin::netio::{
    WskCaptureProviderNPI, WskDeregister, WskQueryProviderCharacteristics, WskRegister,
    WskReleaseProviderNPI,
};

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    // The layouts checked here and in tests/windows/layout.rs are the x64 ones: a 64-bit host
    // lays these structures out as x86_64-pc-windows-msvc does (explicit widths, 8-byte
    // pointers).
    const _: () = assert!(size_of::<usize>() == 8);

    #[test]
    fn provider_characteristics_layout() {
        // Not in Wine's wsk.h: Microsoft documents `USHORT HighestVersion; USHORT
        // LowestVersion;`, highest first.
        assert_eq!(size_of::<WSK_PROVIDER_CHARACTERISTICS>(), 4);
        assert_eq!(offset_of!(WSK_PROVIDER_CHARACTERISTICS, HighestVersion), 0);
        assert_eq!(offset_of!(WSK_PROVIDER_CHARACTERISTICS, LowestVersion), 2);
    }

    #[test]
    fn loopback_addresses_are_in_network_byte_order() {
        let lo = SOCKADDR_IN::loopback(0x1234);
        // Network byte order in memory: 12 34, 7f 00 00 01.
        assert_eq!(lo.sin_family, AF_INET);
        assert_eq!(lo.sin_port.to_ne_bytes(), [0x12, 0x34]);
        assert_eq!(lo.sin_addr.to_ne_bytes(), [0x7f, 0, 0, 1]);
        assert_eq!(lo.sin_zero, [0; 8]);
        let lo6 = SOCKADDR_IN6::loopback(80);
        assert_eq!(lo6.sin6_family, AF_INET6);
        assert_eq!(lo6.sin6_port.to_ne_bytes(), [0, 80]);
        assert_eq!(lo6.sin6_addr[15], 1);
    }

    #[test]
    fn addresses_round_trip_through_sockaddr_inet() {
        use crate::lifecycle::SocketAddr;
        for text in ["192.0.2.7:40123", "[2001:db8::5]:80", "[::1]:1"] {
            let want: SocketAddr = text.parse().unwrap();
            let mut inet = SOCKADDR_INET::zeroed();
            match want {
                SocketAddr::V4(a) => inet.Ipv4 = SOCKADDR_IN::new(a.ip().octets(), a.port()),
                SocketAddr::V6(a) => inet.Ipv6 = SOCKADDR_IN6::new(a.ip().octets(), a.port()),
            }
            assert_eq!(inet.to_socket_addr(), Some(want));
        }
        assert_eq!(SOCKADDR_INET::zeroed().to_socket_addr(), None);
        assert_eq!(size_of::<SOCKADDR_INET>(), 28);
        assert_eq!(
            SOCKADDR_IN::new([127, 0, 0, 1], 9),
            SOCKADDR_IN::loopback(9)
        );
    }

    #[test]
    fn option_fn_pointers_are_nullable_pointers() {
        // `Option<extern fn>` has the null-pointer niche, so a C `NULL` entry reads as `None`.
        assert_eq!(size_of::<PFN_WSK_SOCKET>(), 8);
        assert_eq!(size_of::<PFN_WSK_CLIENT_EVENT>(), 8);
    }
}
