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
//! Provider dispatch calls complete their IRP through the stand-in's IRP completion
//! (`complete_irp`), on the calling thread, or, for `WskSocket` when
//! [`super::host::Faults::complete_socket_async`] is set, on another thread after returning
//! `STATUS_PENDING`.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use std::sync::{Mutex, PoisonError};

use super::ntddk::complete_irp;
use super::objects;
use super::{NTSTATUS, STATUS_INVALID_PARAMETER, STATUS_PENDING, STATUS_SUCCESS};
use crate::lifecycle::{ListenParams, WskApi};
use crate::sim::{SimProviderNpi, SimRegistration, SimSocket, SimWsk};
use crate::wsk_abi::{
    make_wsk_version, AF_INET, AF_INET6, IPPROTO_TCP, PIRP, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6,
    SOCK_STREAM, WSK_CLIENT, WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI, WSK_FLAG_LISTEN_SOCKET,
    WSK_PROVIDER_BASIC_DISPATCH, WSK_PROVIDER_CHARACTERISTICS, WSK_PROVIDER_DISPATCH,
    WSK_PROVIDER_LISTEN_DISPATCH, WSK_PROVIDER_NPI, WSK_REGISTRATION, WSK_SOCKET,
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
    sim: Mutex<Option<SimSocket>>,
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
    WskAccept: core::ptr::null(),
    WskInspectComplete: core::ptr::null(),
    WskGetLocalAddress: core::ptr::null(),
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

/// Address family and port (host order) of a socket address.
///
/// # Safety
///
/// `address` is `NULL` or points to a `SOCKADDR_IN` (family `AF_INET`) or `SOCKADDR_IN6`
/// (family `AF_INET6`).
unsafe fn family_and_port(address: *const SOCKADDR) -> Option<(u16, u16)> {
    if address.is_null() {
        return None;
    }
    // SAFETY: 1. Not `NULL`; every socket address starts with its family (contract).
    let family = unsafe { (*address).sa_family };
    match family {
        AF_INET => {
            // SAFETY: 1. An `AF_INET` address is a `SOCKADDR_IN` (contract).
            let port = unsafe { (*address.cast::<SOCKADDR_IN>()).sin_port };
            Some((family, u16::from_be(port)))
        }
        AF_INET6 => {
            // SAFETY: 1. An `AF_INET6` address is a `SOCKADDR_IN6` (contract).
            let port = unsafe { (*address.cast::<SOCKADDR_IN6>()).sin6_port };
            Some((family, u16::from_be(port)))
        }
        _ => None,
    }
}

/// The loopback address of `family` (the simulator tracks what was bound, not the exact
/// address this stand-in was given).
fn family_address(family: u16) -> crate::lifecycle::IpAddr {
    if family == AF_INET6 {
        crate::lifecycle::IpAddr::V6(crate::lifecycle::Ipv6Addr::LOCALHOST)
    } else {
        crate::lifecycle::IpAddr::V4(crate::lifecycle::Ipv4Addr::LOCALHOST)
    }
}

/// Carries pointers into the thread that completes an IRP later.
struct Pending {
    client: usize,
    irp: usize,
    family: u16,
}

/// Creates the socket and completes the IRP.
///
/// # Safety
///
/// `client` is a live client object; `irp` a live IRP passed to the provider.
unsafe fn create_socket(client: &ClientObject, family: u16, irp: PIRP) -> NTSTATUS {
    let params = ListenParams {
        address: family_address(family),
        port: 0,
    };
    let (status, information) = match client.wsk.socket_listen(&client.npi, &params) {
        Ok(sim) => {
            let socket = Box::into_raw(Box::new(SocketObject {
                header: WSK_SOCKET {
                    Dispatch: (&raw const LISTEN_DISPATCH.0).cast::<c_void>(),
                },
                wsk: client.wsk.clone(),
                family,
                sim: Mutex::new(Some(sim)),
            }));
            objects::with(|s| s.sockets_alive += 1);
            (STATUS_SUCCESS, socket as u64)
        }
        Err(status) => (status.0, 0),
    };
    // SAFETY: 1. `irp` is live and was passed to the provider (contract).
    unsafe { complete_irp(irp, status, information) };
    status
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
    if objects::with(|s| s.faults.complete_socket_async) {
        let pending = Pending {
            client: Client as usize,
            irp: Irp as usize,
            family: AddressFamily,
        };
        std::thread::spawn(move || {
            let pending = pending;
            std::thread::sleep(std::time::Duration::from_millis(2));
            // SAFETY: 1. The client object outlives the call: its NPI stays captured until
            //            the caller has waited for this IRP's completion.
            let client = unsafe { &*(pending.client as *const ClientObject) };
            // SAFETY: 1. The IRP stays live until it is completed here.
            let _ = unsafe { create_socket(client, pending.family, pending.irp as PIRP) };
        });
        return STATUS_PENDING;
    }
    // SAFETY: 1. `client` is live; `Irp` was passed to the provider (WSK contract).
    unsafe { create_socket(client, AddressFamily, Irp) }
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
/// `socket` is `NULL` or a socket created by [`wsk_socket`] and not yet closed.
unsafe fn socket_of<'a>(socket: *mut WSK_SOCKET, call: &str) -> Option<&'a SocketObject> {
    if socket.is_null() {
        violation(format!("{call}: NULL socket"));
        return None;
    }
    // SAFETY: 1. A socket of this provider is the `WSK_SOCKET` header of a `SocketObject`
    //            (`repr(C)`, header first), live until closed (contract).
    Some(unsafe { &*socket.cast::<SocketObject>() })
}

/// `PFN_WSK_BIND` `WskBind` (wsk.h).
unsafe extern "system" fn wsk_bind(
    Socket: *mut WSK_SOCKET,
    LocalAddress: *mut SOCKADDR,
    _Flags: u32,
    Irp: PIRP,
) -> NTSTATUS {
    // SAFETY: 1. `Socket` is an open socket of this provider (WSK contract).
    let Some(socket) = (unsafe { socket_of(Socket, "WskBind") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: 1. `LocalAddress` is a socket address of its family (WSK contract).
    let status = match unsafe { family_and_port(LocalAddress) } {
        Some((family, port)) if family == socket.family => {
            let sim = socket.sim.lock().unwrap_or_else(PoisonError::into_inner);
            match sim.as_ref() {
                Some(sim) => {
                    socket
                        .wsk
                        .bind(
                            sim,
                            &ListenParams {
                                address: family_address(family),
                                port,
                            },
                        )
                        .0
                }
                None => STATUS_INVALID_PARAMETER,
            }
        }
        _ => {
            violation(String::from(
                "WskBind: address family does not match the socket's",
            ));
            STATUS_INVALID_PARAMETER
        }
    };
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
    unsafe { complete_irp(Irp, status, 0) };
    status
}

/// `PFN_WSK_CLOSE_SOCKET` `WskCloseSocket` (wsk.h): closes and frees the socket.
unsafe extern "system" fn wsk_close_socket(Socket: *mut WSK_SOCKET, Irp: PIRP) -> NTSTATUS {
    // SAFETY: 1. `Socket` is an open socket of this provider (WSK contract).
    let Some(socket) = (unsafe { socket_of(Socket, "WskCloseSocket") }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let sim = socket
        .sim
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let status = match sim {
        Some(sim) => socket.wsk.close_socket(&sim).0,
        None => STATUS_INVALID_PARAMETER,
    };
    // SAFETY: 1. `Socket` is the `Box::into_raw` of a `SocketObject`; closing is its last use
    //            (WSK forbids any call on a socket after `WskCloseSocket`).
    drop(unsafe { Box::from_raw(Socket.cast::<SocketObject>()) });
    objects::with(|s| s.sockets_alive -= 1);
    // SAFETY: 1. `Irp` is a live IRP passed to the provider (WSK contract).
    unsafe { complete_irp(Irp, status, 0) };
    status
}
