//! Stand-ins for the NETIO WSK registration functions (`wsk.h`, exported by `netio.sys`) and
//! the provider dispatch a captured NPI leads to, backed by the simulated WSK subsystem
//! ([`crate::sim::SimWsk`]) that a test installs with [`super::host::install_wsk`].
//!
//! They take and fill the same `#[repr(C)]` structures ([`crate::wsk_abi`]) as the real
//! functions and keep their state where NETIO keeps it: a registration's state hangs off
//! `WSK_REGISTRATION::ReservedRegistrationContext`, a captured NPI's client object is what
//! `WSK_PROVIDER_NPI::Client` points to, a socket is a `WSK_SOCKET` whose `Dispatch` is the
//! listen dispatch table. On top of the simulator's own rule checks they report (as
//! [`super::host`] violations): a `WSK_REGISTRATION` that moved or a `WSK_CLIENT_DISPATCH`
//! that changed while registered, a dispatch call through a client object whose NPI was
//! released, and sockets never closed.
//!
//! Socket calls (`WskSocket`, `WskBind`, `WskAccept`, `WskCloseSocket`) complete their IRP
//! through the stand-in's IRP completion (`complete_irp`) on another thread, after returning
//! `STATUS_PENDING`, as a provider may; [`super::host::Faults::complete_inline`] completes
//! them on the calling thread instead (except `WskAccept`, which always waits for a
//! connection or the close on a thread of its own). A listening socket's close completes only
//! after its pending accepts have been completed (cancelled), as WSK documents. Registration
//! functions report a call above `PASSIVE_LEVEL`, socket calls one above `DISPATCH_LEVEL`.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use std::sync::{Condvar, Mutex, PoisonError};

use super::irql;
use super::ntddk::complete_irp;
use super::objects;
use super::{NTSTATUS, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS, ULONG_PTR};
use crate::lifecycle::{IpAddr, Ipv4Addr, Ipv6Addr, ListenParams, SocketAddr, WskApi};
use crate::sim::{SimConnection, SimProviderNpi, SimRegistration, SimSocket, SimWsk};
use crate::wsk_abi::{
    make_wsk_version, AF_INET, AF_INET6, IPPROTO_TCP, PIRP, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6,
    SOCKADDR_INET, SOCK_STREAM, WSK_CLIENT, WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI,
    WSK_FLAG_LISTEN_SOCKET, WSK_PROVIDER_BASIC_DISPATCH, WSK_PROVIDER_CHARACTERISTICS,
    WSK_PROVIDER_CONNECTION_DISPATCH, WSK_PROVIDER_DISPATCH, WSK_PROVIDER_LISTEN_DISPATCH,
    WSK_PROVIDER_NPI, WSK_REGISTRATION, WSK_SOCKET,
};

/// `STATUS_NOT_SUPPORTED` (ntstatus.h).
const STATUS_NOT_SUPPORTED: NTSTATUS = 0xC000_00BB_u32 as i32;
/// Marks a `WSK_REGISTRATION` this stand-in initialised.
const REGISTERED: u64 = 0x5753_4B52_4547_0001;

/// A registration's state (what `ReservedRegistrationContext` points to).
struct RegistrationState {
    wsk: SimWsk,
    sim: SimRegistration,
    /// Where the `WSK_REGISTRATION` was when registered: it must never move.
    at: usize,
    dispatch: *const WSK_CLIENT_DISPATCH,
    version: u16,
    /// Client objects of captured NPIs: live ones, then released ones (kept until
    /// deregistration so a late call through them is caught, not a use after free).
    clients: Mutex<ClientLists>,
}

#[derive(Default)]
struct ClientLists {
    live: Vec<*mut ClientObject>,
    released: Vec<*mut ClientObject>,
}

/// A captured NPI's client object (what `WSK_PROVIDER_NPI::Client` points to).
struct ClientObject {
    wsk: SimWsk,
    npi: SimProviderNpi,
    released: core::sync::atomic::AtomicBool,
}

/// A socket: the `WSK_SOCKET` header first, as the provider's socket objects have it.
#[repr(C)]
struct SocketObject {
    header: WSK_SOCKET,
    wsk: SimWsk,
    family: u16,
    /// The simulator's socket; `None` once closed.
    sim: Mutex<Option<SimSide>>,
    /// Accept IRPs taken and not yet completed; a close completes only after they are.
    accepts: Mutex<u32>,
    accepts_done: Condvar,
}

/// What a socket is in the simulator.
enum SimSide {
    Listen(SimSocket),
    Connection(SimConnection),
}

/// A dispatch table in a `static`.
#[repr(transparent)]
struct Table<T>(T);
// SAFETY: 1. The tables hold only function pointers and `NULL`s and are never written: shared
//            reads from any thread are sound.
unsafe impl<T> Sync for Table<T> {}

static PROVIDER_DISPATCH: Table<WSK_PROVIDER_DISPATCH> = Table(WSK_PROVIDER_DISPATCH {
    Version: make_wsk_version(1, 0),
    Reserved: 0,
    WskSocket: Some(wsk_socket),
    WskSocketConnect: core::ptr::null(),
    WskControlClient: Some(wsk_control_client),
    WskGetAddressInfo: core::ptr::null(),
    WskFreeAddressInfo: core::ptr::null(),
    WskGetNameInfo: core::ptr::null(),
});

static LISTEN_DISPATCH: Table<WSK_PROVIDER_LISTEN_DISPATCH> = Table(WSK_PROVIDER_LISTEN_DISPATCH {
    Basic: WSK_PROVIDER_BASIC_DISPATCH {
        WskControlSocket: core::ptr::null(),
        WskCloseSocket: Some(wsk_close_socket),
    },
    WskBind: Some(wsk_bind),
    WskAccept: Some(wsk_accept),
    WskInspectComplete: core::ptr::null(),
    WskGetLocalAddress: core::ptr::null(),
});

/// An accepted connection's table: only its close is implemented.
static CONNECTION_DISPATCH: Table<WSK_PROVIDER_CONNECTION_DISPATCH> =
    Table(WSK_PROVIDER_CONNECTION_DISPATCH {
        Basic: WSK_PROVIDER_BASIC_DISPATCH {
            WskControlSocket: core::ptr::null(),
            WskCloseSocket: Some(wsk_close_socket),
        },
        WskBind: core::ptr::null(),
        WskConnect: core::ptr::null(),
        WskGetLocalAddress: core::ptr::null(),
        WskGetRemoteAddress: core::ptr::null(),
        WskSend: core::ptr::null(),
        WskReceive: core::ptr::null(),
        WskDisconnect: core::ptr::null(),
        WskRelease: core::ptr::null(),
        WskConnectEx: core::ptr::null(),
        WskSendEx: core::ptr::null(),
        WskReceiveEx: core::ptr::null(),
    });

fn violation(what: String) {
    objects::with(|s| s.violation(what));
}

/// The state of a registered `WSK_REGISTRATION`, checking it did not move and its client
/// dispatch did not change.
///
/// # Safety
///
/// `registration` is `NULL` or points to a `WSK_REGISTRATION`.
unsafe fn state_of<'a>(
    registration: *mut WSK_REGISTRATION,
    call: &str,
) -> Option<&'a RegistrationState> {
    if registration.is_null() {
        violation(format!("{call}: NULL registration"));
        return None;
    }
    // SAFETY: 1. Not `NULL`, and points to a `WSK_REGISTRATION` (contract).
    let reg = unsafe { &*registration };
    if reg.ReservedRegistrationState != REGISTERED || reg.ReservedRegistrationContext.is_null() {
        violation(format!("{call}: registration not registered (or moved)"));
        return None;
    }
    // SAFETY: 1. `ReservedRegistrationContext` of a registered `WSK_REGISTRATION` is the
    //            `Box::into_raw` of its `RegistrationState`, freed only by `WskDeregister`
    //            after every other call on it has returned.
    let state = unsafe { &*reg.ReservedRegistrationContext.cast::<RegistrationState>() };
    if state.at != registration as usize {
        violation(format!(
            "{call}: the WSK_REGISTRATION moved after WskRegister"
        ));
    }
    // SAFETY: 1. WSK requires the client dispatch to stay valid until `WskDeregister` returns;
    //            reading it here is the check that it did.
    let version = unsafe { (*state.dispatch).Version };
    if version != state.version {
        violation(format!(
            "{call}: WSK_CLIENT_DISPATCH changed while registered"
        ));
    }
    Some(state)
}

fn no_wsk() -> NTSTATUS {
    violation(String::from(
        "WSK call with no simulated subsystem installed",
    ));
    super::STATUS_UNSUCCESSFUL
}

/// `NTSTATUS WskRegister(PWSK_CLIENT_NPI WskClientNpi, PWSK_REGISTRATION WskRegistration)`
/// (wsk.h).
///
/// # Safety
///
/// `WskClientNpi` points to a `WSK_CLIENT_NPI` whose `Dispatch` stays valid until
/// `WskDeregister` returns; `WskRegistration` to a `WSK_REGISTRATION` that stays in place
/// until then.
#[must_use]
pub unsafe extern "system" fn WskRegister(
    WskClientNpi: *mut WSK_CLIENT_NPI,
    WskRegistration: *mut WSK_REGISTRATION,
) -> NTSTATUS {
    irql::require(irql::PASSIVE_LEVEL, "WskRegister");
    if WskClientNpi.is_null() || WskRegistration.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. Not `NULL`, and points to a `WSK_CLIENT_NPI` (contract).
    let dispatch = unsafe { (*WskClientNpi).Dispatch };
    if dispatch.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. `Dispatch` is a valid `WSK_CLIENT_DISPATCH` (contract).
    let version = unsafe { (*dispatch).Version };
    let Some(wsk) = super::host::wsk() else {
        return no_wsk();
    };
    match wsk.register(version) {
        Ok(sim) => {
            let state = Box::new(RegistrationState {
                wsk,
                sim,
                at: WskRegistration as usize,
                dispatch,
                version,
                clients: Mutex::new(ClientLists::default()),
            });
            objects::with(|s| s.registrations_alive += 1);
            // SAFETY: 1. Not `NULL`, and points to writable `WSK_REGISTRATION` storage.
            unsafe {
                WskRegistration.write(WSK_REGISTRATION {
                    ReservedRegistrationState: REGISTERED,
                    ReservedRegistrationContext: Box::into_raw(state).cast::<c_void>(),
                    ReservedRegistrationLock: 0,
                })
            };
            STATUS_SUCCESS
        }
        Err(status) => status.0,
    }
}

/// `VOID WskDeregister(PWSK_REGISTRATION WskRegistration)` (wsk.h): cancels waiting
/// captures, blocks until every captured NPI is released and every socket closed.
///
/// # Safety
///
/// `WskRegistration` was registered by `WskRegister` and is deregistered once.
pub unsafe extern "system" fn WskDeregister(WskRegistration: *mut WSK_REGISTRATION) {
    irql::require(irql::PASSIVE_LEVEL, "WskDeregister");
    // SAFETY: 1. `WskRegistration` is `NULL` or a `WSK_REGISTRATION` (contract).
    let Some(state) = (unsafe { state_of(WskRegistration, "WskDeregister") }) else {
        return;
    };
    state.wsk.deregister(&state.sim);
    let context = {
        // SAFETY: 1. `WskRegistration` is valid (checked by `state_of`) and no other call on
        //            it is running any more (the simulator's deregister waited for them).
        let reg = unsafe { &mut *WskRegistration };
        reg.ReservedRegistrationState = 0;
        core::mem::replace(&mut reg.ReservedRegistrationContext, core::ptr::null_mut())
    };
    // SAFETY: 1. `context` is the `Box::into_raw` of this registration's state, detached
    //            from the `WSK_REGISTRATION` just above, so it is freed once.
    let state = unsafe { Box::from_raw(context.cast::<RegistrationState>()) };
    let lists = state
        .clients
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    if !lists.live.is_empty() {
        violation(format!(
            "WskDeregister returned with {} NPI(s) captured",
            lists.live.len()
        ));
    }
    for client in lists.live.into_iter().chain(lists.released) {
        // SAFETY: 1. Every client pointer is a `Box::into_raw` owned by this registration
        //            and listed once.
        drop(unsafe { Box::from_raw(client) });
    }
    objects::with(|s| s.registrations_alive -= 1);
}

/// `NTSTATUS WskCaptureProviderNPI(PWSK_REGISTRATION WskRegistration, ULONG WaitTimeout,
/// PWSK_PROVIDER_NPI WskProviderNpi)` (wsk.h).
///
/// # Safety
///
/// `WskRegistration` is registered; `WskProviderNpi` points to writable `WSK_PROVIDER_NPI`
/// storage.
#[must_use]
pub unsafe extern "system" fn WskCaptureProviderNPI(
    WskRegistration: *mut WSK_REGISTRATION,
    WaitTimeout: u32,
    WskProviderNpi: *mut WSK_PROVIDER_NPI,
) -> NTSTATUS {
    irql::require(irql::PASSIVE_LEVEL, "WskCaptureProviderNPI");
    // SAFETY: 1. `WskRegistration` is `NULL` or a `WSK_REGISTRATION` (contract).
    let Some(state) = (unsafe { state_of(WskRegistration, "WskCaptureProviderNPI") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    // A failed capture may let a concurrent `WskDeregister` free `state`: touch it only on
    // success (the NPI is then captured, so deregistration waits for its release).
    match state.wsk.capture(&state.sim, WaitTimeout) {
        Ok(npi) => {
            let client = Box::into_raw(Box::new(ClientObject {
                wsk: state.wsk.clone(),
                npi,
                released: core::sync::atomic::AtomicBool::new(false),
            }));
            state
                .clients
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .live
                .push(client);
            // SAFETY: 1. The caller passes writable `WSK_PROVIDER_NPI` storage (contract).
            unsafe {
                WskProviderNpi.write(WSK_PROVIDER_NPI {
                    Client: client.cast::<WSK_CLIENT>(),
                    Dispatch: &PROVIDER_DISPATCH.0,
                })
            };
            STATUS_SUCCESS
        }
        Err(status) => status.0,
    }
}

/// `VOID WskReleaseProviderNPI(PWSK_REGISTRATION WskRegistration)` (wsk.h): releases one
/// captured NPI (the most recent still captured).
///
/// # Safety
///
/// `WskRegistration` is registered.
pub unsafe extern "system" fn WskReleaseProviderNPI(WskRegistration: *mut WSK_REGISTRATION) {
    irql::require(irql::PASSIVE_LEVEL, "WskReleaseProviderNPI");
    // SAFETY: 1. `WskRegistration` is `NULL` or a `WSK_REGISTRATION` (contract).
    let Some(state) = (unsafe { state_of(WskRegistration, "WskReleaseProviderNPI") }) else {
        return;
    };
    {
        let mut lists = state.clients.lock().unwrap_or_else(PoisonError::into_inner);
        match lists.live.pop() {
            Some(client) => {
                // SAFETY: 1. A live client pointer of this registration: valid until
                //            deregistration frees it.
                let object = unsafe { &*client };
                object
                    .released
                    .store(true, core::sync::atomic::Ordering::SeqCst);
                lists.released.push(client);
            }
            None => violation(String::from("WskReleaseProviderNPI with no NPI captured")),
        }
    }
    // After this the simulator may let a concurrent deregister finish: `state` is not used.
    state.wsk.release(&state.sim);
}

/// `NTSTATUS WskQueryProviderCharacteristics(PWSK_REGISTRATION WskRegistration,
/// PWSK_PROVIDER_CHARACTERISTICS WskProviderCharacteristics)` (wsk.h).
///
/// # Safety
///
/// `WskRegistration` is registered; `WskProviderCharacteristics` points to writable storage.
#[must_use]
pub unsafe extern "system" fn WskQueryProviderCharacteristics(
    WskRegistration: *mut WSK_REGISTRATION,
    WskProviderCharacteristics: *mut WSK_PROVIDER_CHARACTERISTICS,
) -> NTSTATUS {
    irql::require(irql::PASSIVE_LEVEL, "WskQueryProviderCharacteristics");
    // SAFETY: 1. `WskRegistration` is `NULL` or a `WSK_REGISTRATION` (contract).
    let Some(state) = (unsafe { state_of(WskRegistration, "WskQueryProviderCharacteristics") })
    else {
        return STATUS_INVALID_PARAMETER;
    };
    match state.wsk.query_characteristics(&state.sim) {
        Ok(range) => {
            // SAFETY: 1. The caller passes writable `WSK_PROVIDER_CHARACTERISTICS` storage.
            unsafe {
                WskProviderCharacteristics.write(WSK_PROVIDER_CHARACTERISTICS {
                    HighestVersion: range.highest_version,
                    LowestVersion: range.lowest_version,
                })
            };
            STATUS_SUCCESS
        }
        Err(status) => status.0,
    }
}

// ---------------------------------------------------------------------------------------------
// Provider dispatch
// ---------------------------------------------------------------------------------------------

/// The client object behind `Client`, reporting a call through a released NPI.
///
/// # Safety
///
/// `client` is `NULL` or the `Client` of an NPI captured from this stand-in, whose
/// registration is not yet deregistered.
unsafe fn client_of<'a>(client: *mut WSK_CLIENT, call: &str) -> Option<&'a ClientObject> {
    if client.is_null() {
        violation(format!("{call}: NULL client"));
        return None;
    }
    // SAFETY: 1. A captured NPI's `Client` is a `ClientObject` that lives until its
    //            registration is deregistered (contract).
    let object = unsafe { &*client.cast::<ClientObject>() };
    if object.released.load(core::sync::atomic::Ordering::SeqCst) {
        violation(format!(
            "{call}: provider dispatch call through a released NPI"
        ));
    }
    Some(object)
}

/// A socket address of `AF_INET` or `AF_INET6`.
///
/// # Safety
///
/// `address` is `NULL` or points to a `SOCKADDR_IN` (family `AF_INET`) or `SOCKADDR_IN6`
/// (family `AF_INET6`).
unsafe fn socket_address(address: *const SOCKADDR) -> Option<SocketAddr> {
    if address.is_null() {
        return None;
    }
    // SAFETY: 1. Not `NULL`; every socket address starts with its family (contract).
    let family = unsafe { (*address).sa_family };
    let mut inet = SOCKADDR_INET::zeroed();
    match family {
        // SAFETY: 1. An `AF_INET` address is a `SOCKADDR_IN` (contract).
        AF_INET => inet.Ipv4 = unsafe { *address.cast::<SOCKADDR_IN>() },
        // SAFETY: 1. An `AF_INET6` address is a `SOCKADDR_IN6` (contract).
        AF_INET6 => inet.Ipv6 = unsafe { *address.cast::<SOCKADDR_IN6>() },
        _ => return None,
    }
    inet.to_socket_addr()
}

/// A pointer carried into the thread that completes an IRP later.
#[derive(Clone, Copy)]
struct SendPtr(usize);

/// Completes `irp` with what `work` returns: on another thread after returning
/// `STATUS_PENDING`, as a provider may (the default), or on this one when the test asks for
/// inline completion ([`super::host::Faults::complete_inline`]).
///
/// # Safety
///
/// `irp` is a live IRP passed to the provider, not completed otherwise; whatever `work`
/// reaches stays valid until it has run.
unsafe fn complete_with(
    irp: PIRP,
    work: impl FnOnce() -> (NTSTATUS, ULONG_PTR) + Send + 'static,
) -> NTSTATUS {
    let irp = SendPtr(irp as usize);
    let complete = move || {
        let (status, information) = work();
        // SAFETY: 1. The IRP stays live until it is completed, here, once (contract).
        unsafe { complete_irp(irp.0 as PIRP, status, information) };
        status
    };
    if objects::with(|s| s.faults.complete_inline) {
        return complete();
    }
    std::thread::Builder::new()
        .name("standin-wsk-completion".into())
        .spawn(move || {
            // A little later, as a provider completing from its own thread would.
            std::thread::sleep(std::time::Duration::from_millis(1));
            complete();
        })
        .expect("the host starts the completion thread");
    STATUS_PENDING
}

/// A new socket object on the heap (counted alive until its close frees it).
fn new_socket(wsk: &SimWsk, family: u16, side: SimSide) -> *mut SocketObject {
    let dispatch = match side {
        SimSide::Listen(_) => (&raw const LISTEN_DISPATCH.0).cast::<c_void>(),
        SimSide::Connection(_) => (&raw const CONNECTION_DISPATCH.0).cast::<c_void>(),
    };
    objects::with(|s| s.sockets_alive += 1);
    Box::into_raw(Box::new(SocketObject {
        header: WSK_SOCKET { Dispatch: dispatch },
        wsk: wsk.clone(),
        family,
        sim: Mutex::new(Some(side)),
        accepts: Mutex::new(0),
        accepts_done: Condvar::new(),
    }))
}

/// `PFN_WSK_SOCKET` `WskSocket` (wsk.h): a listening TCP socket; `Irp->IoStatus.Information`
/// gets the `PWSK_SOCKET`.
unsafe extern "system" fn wsk_socket(
    Client: *mut WSK_CLIENT,
    AddressFamily: u16,
    SocketType: u16,
    Protocol: u32,
    Flags: u32,
    _SocketContext: *mut c_void,
    _Dispatch: *const c_void,
    _OwningProcess: *mut c_void,
    _OwningThread: *mut c_void,
    _SecurityDescriptor: *mut c_void,
    Irp: PIRP,
) -> NTSTATUS {
    irql::require(irql::DISPATCH_LEVEL, "WskSocket");
    // SAFETY: 1. `Client` comes from a captured NPI (WSK contract).
    let Some(client) = (unsafe { client_of(Client, "WskSocket") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let valid = Flags == WSK_FLAG_LISTEN_SOCKET
        && SocketType == SOCK_STREAM
        && Protocol == IPPROTO_TCP
        && (AddressFamily == AF_INET || AddressFamily == AF_INET6);
    if !valid {
        violation(format!(
            "WskSocket: unexpected arguments family {AddressFamily} type {SocketType} protocol {Protocol} flags {Flags:#x}"
        ));
        // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
        unsafe { complete_irp(Irp, STATUS_INVALID_PARAMETER, 0) };
        return STATUS_INVALID_PARAMETER;
    }
    let client = SendPtr(client as *const ClientObject as usize);
    let create = move || {
        // SAFETY: 1. The client object outlives the call: its NPI stays captured until the
        //            caller has waited for this IRP's completion.
        let client = unsafe { &*(client.0 as *const ClientObject) };
        let params = ListenParams {
            address: unspecified(AddressFamily),
            port: 0,
        };
        match client.wsk.socket_listen(&client.npi, &params) {
            Ok(sim) => {
                let socket = new_socket(&client.wsk, AddressFamily, SimSide::Listen(sim));
                (STATUS_SUCCESS, socket as ULONG_PTR)
            }
            Err(status) => (status.0, 0),
        }
    };
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract), completed once.
    unsafe { complete_with(Irp, create) }
}

/// The unspecified address of `family` (what a socket has before it is bound).
fn unspecified(family: u16) -> IpAddr {
    if family == AF_INET6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// `PFN_WSK_CONTROL_CLIENT` `WskControlClient` (wsk.h): not used by the driver; completes
/// with `STATUS_NOT_SUPPORTED`.
unsafe extern "system" fn wsk_control_client(
    Client: *mut WSK_CLIENT,
    _ControlCode: u32,
    _InputSize: usize,
    _InputBuffer: *mut c_void,
    _OutputSize: usize,
    _OutputBuffer: *mut c_void,
    _OutputSizeReturned: *mut usize,
    Irp: PIRP,
) -> NTSTATUS {
    // SAFETY: 1. `Client` comes from a captured NPI (WSK contract).
    let _ = unsafe { client_of(Client, "WskControlClient") };
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
    unsafe { complete_irp(Irp, STATUS_NOT_SUPPORTED, 0) };
    STATUS_NOT_SUPPORTED
}

/// The socket object behind a `PWSK_SOCKET`.
///
/// # Safety
///
/// `socket` is `NULL` or a socket this stand-in created and has not closed yet.
unsafe fn socket_of<'a>(socket: *mut WSK_SOCKET, call: &str) -> Option<&'a SocketObject> {
    if socket.is_null() {
        violation(format!("{call}: NULL socket"));
        return None;
    }
    // SAFETY: 1. A socket of this provider is the `WSK_SOCKET` header of a `SocketObject`
    //            (`repr(C)`, header first), live until closed (contract).
    Some(unsafe { &*socket.cast::<SocketObject>() })
}

impl SocketObject {
    /// Runs `f` with the simulator's listening socket, or reports `call` on a closed socket
    /// or on a connection.
    fn listening<R>(&self, call: &str, f: impl FnOnce(&SimSocket) -> R) -> Option<R> {
        let sim = self.sim.lock().unwrap_or_else(PoisonError::into_inner);
        match sim.as_ref() {
            Some(SimSide::Listen(sim)) => Some(f(sim)),
            Some(SimSide::Connection(_)) => {
                violation(format!("{call} on a connection socket"));
                None
            }
            None => {
                violation(format!("{call} on a closed socket"));
                None
            }
        }
    }
}

/// `PFN_WSK_BIND` `WskBind` (wsk.h).
unsafe extern "system" fn wsk_bind(
    Socket: *mut WSK_SOCKET,
    LocalAddress: *mut SOCKADDR,
    _Flags: u32,
    Irp: PIRP,
) -> NTSTATUS {
    irql::require(irql::DISPATCH_LEVEL, "WskBind");
    // SAFETY: 1. `Socket` is an open socket of this provider (WSK contract).
    let Some(socket) = (unsafe { socket_of(Socket, "WskBind") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: 1. `LocalAddress` is a socket address of its family (WSK contract).
    let address = unsafe { socket_address(LocalAddress) };
    let status = match address {
        Some(address) if family_of(&address) == socket.family => socket
            .listening("WskBind", |sim| {
                let params = ListenParams {
                    address: address.ip(),
                    port: address.port(),
                };
                socket.wsk.bind(sim, &params).0
            })
            .unwrap_or(STATUS_INVALID_PARAMETER),
        _ => {
            violation(String::from(
                "WskBind: address family does not match the socket's",
            ));
            STATUS_INVALID_PARAMETER
        }
    };
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract), completed once;
    //            the work touches nothing of the caller's.
    unsafe { complete_with(Irp, move || (status, 0)) }
}

fn family_of(address: &SocketAddr) -> u16 {
    match address {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    }
}

/// `PFN_WSK_ACCEPT` `WskAccept` (wsk.h): takes the accept at once (so a close from now on
/// cancels it), returns `STATUS_PENDING`, and completes the IRP from another thread when a
/// test connects ([`crate::sim::SimWsk::connect`]) or the socket is closed: with a connection
/// socket in `IoStatus.Information` and the client's address in `RemoteAddress`, or with
/// `STATUS_CANCELLED`.
unsafe extern "system" fn wsk_accept(
    ListenSocket: *mut WSK_SOCKET,
    Flags: u32,
    _AcceptSocketContext: *mut c_void,
    AcceptSocketDispatch: *const c_void,
    _LocalAddress: *mut SOCKADDR,
    RemoteAddress: *mut SOCKADDR,
    Irp: PIRP,
) -> NTSTATUS {
    irql::require(irql::DISPATCH_LEVEL, "WskAccept");
    if Flags != 0 || !AcceptSocketDispatch.is_null() {
        violation(format!(
            "WskAccept: unexpected flags {Flags:#x} or client dispatch {AcceptSocketDispatch:p}"
        ));
    }
    // SAFETY: 1. `ListenSocket` is an open socket of this provider (WSK contract).
    let Some(socket) = (unsafe { socket_of(ListenSocket, "WskAccept") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let taken = socket.listening("WskAccept", |sim| socket.wsk.begin_accept(sim));
    let pending = match taken {
        Some(Ok(pending)) => pending,
        Some(Err(status)) => {
            // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
            unsafe { complete_irp(Irp, status.0, 0) };
            return status.0;
        }
        None => {
            // SAFETY: 1. As above.
            unsafe { complete_irp(Irp, STATUS_INVALID_PARAMETER, 0) };
            return STATUS_INVALID_PARAMETER;
        }
    };
    *socket
        .accepts
        .lock()
        .unwrap_or_else(PoisonError::into_inner) += 1;
    let (listen, remote, irp) = (
        SendPtr(ListenSocket as usize),
        SendPtr(RemoteAddress as usize),
        SendPtr(Irp as usize),
    );
    std::thread::Builder::new()
        .name("standin-wsk-accept".into())
        .spawn(move || {
            let (status, information) = match pending.wait() {
                Ok(accepted) => {
                    // SAFETY: 1. The caller's buffer stays valid until the IRP completes
                    //            (WSK contract), which is below.
                    unsafe { write_address(remote.0 as *mut SOCKADDR, accepted.remote) };
                    // SAFETY: 1. The listening socket's close waits for this accept (its
                    //            `accepts` count), so the object is alive.
                    let listening = unsafe { &*(listen.0 as *const SocketObject) };
                    let family = family_of(&accepted.remote);
                    let side = SimSide::Connection(accepted.connection);
                    let connection = new_socket(&listening.wsk, family, side);
                    (STATUS_SUCCESS, connection as ULONG_PTR)
                }
                Err(status) => (status.0, 0),
            };
            // SAFETY: 1. The IRP stays live until it is completed, here, once.
            unsafe { complete_irp(irp.0 as PIRP, status, information) };
            // SAFETY: 1. As above: the close waits for this.
            let listening = unsafe { &*(listen.0 as *const SocketObject) };
            let mut accepts = listening
                .accepts
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *accepts -= 1;
            listening.accepts_done.notify_all();
        })
        .expect("the host starts the accept thread");
    STATUS_PENDING
}

/// Writes `address` where a `SOCKADDR_INET`-sized buffer (or `NULL`) is.
///
/// # Safety
///
/// `buffer` is `NULL` or writable for a socket address of `address`'s family.
unsafe fn write_address(buffer: *mut SOCKADDR, address: SocketAddr) {
    if buffer.is_null() {
        return;
    }
    match address {
        // SAFETY: 1. Writable for a `SOCKADDR_IN` (contract).
        SocketAddr::V4(a) => unsafe {
            buffer
                .cast::<SOCKADDR_IN>()
                .write_unaligned(SOCKADDR_IN::new(a.ip().octets(), a.port()))
        },
        // SAFETY: 1. Writable for a `SOCKADDR_IN6` (contract).
        SocketAddr::V6(a) => unsafe {
            buffer
                .cast::<SOCKADDR_IN6>()
                .write_unaligned(SOCKADDR_IN6::new(a.ip().octets(), a.port()))
        },
    }
}

/// `PFN_WSK_CLOSE_SOCKET` `WskCloseSocket` (wsk.h), for both socket categories: closes the
/// socket (a listening socket's pending accepts are cancelled and completed first) and frees
/// it, then completes the IRP.
unsafe extern "system" fn wsk_close_socket(Socket: *mut WSK_SOCKET, Irp: PIRP) -> NTSTATUS {
    irql::require(irql::DISPATCH_LEVEL, "WskCloseSocket");
    // SAFETY: 1. `Socket` is an open socket of this provider (WSK contract).
    let Some(socket) = (unsafe { socket_of(Socket, "WskCloseSocket") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let Some(side) = socket
        .sim
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        violation(String::from("WskCloseSocket of a closed socket"));
        // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
        unsafe { complete_irp(Irp, STATUS_INVALID_PARAMETER, 0) };
        return STATUS_INVALID_PARAMETER;
    };
    let object = SendPtr(Socket as usize);
    let close = move || {
        // SAFETY: 1. The socket object lives until it is freed below; the caller makes no
        //            other call on it (WSK forbids any after `WskCloseSocket`).
        let socket = unsafe { &*(object.0 as *const SocketObject) };
        let status = match side {
            SimSide::Listen(sim) => socket.wsk.close_socket(&sim),
            SimSide::Connection(sim) => socket.wsk.close_connection(sim),
        };
        // The cancelled accepts complete before the close does.
        let mut accepts = socket
            .accepts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *accepts > 0 {
            accepts = socket
                .accepts_done
                .wait(accepts)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(accepts);
        // SAFETY: 1. The object is the `Box::into_raw` of `new_socket`; this close is its
        //            last use, so it is freed once.
        drop(unsafe { Box::from_raw(object.0 as *mut SocketObject) });
        objects::with(|s| s.sockets_alive -= 1);
        (status.0, 0)
    };
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract), completed once.
    unsafe { complete_with(Irp, close) }
}
