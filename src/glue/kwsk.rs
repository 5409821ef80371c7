//! The lifecycle core's [`WskApi`] over the NETIO WSK imports and the provider dispatch.
//!
//! Residency: `WskRegister` gets a `WSK_CLIENT_DISPATCH` and a `WSK_REGISTRATION` that live
//! side by side in one heap block ([`KernelRegistration`]), freed only after `WskDeregister`
//! has returned (by the core's deregister, or by the handle's `Drop` as a last resort), so
//! both stay valid and unmoved for as long as WSK requires.
//!
//! Socket calls (`WskSocket`, `WskBind`, `WskCloseSocket`) each get an IRP from
//! `IoAllocateIrp` with a completion routine in its next stack location (what `wdm.h`'s
//! inline `IoSetCompletionRoutine` does) that signals a `KEVENT` and returns
//! `STATUS_MORE_PROCESSING_REQUIRED`, so the IRP stays the driver's: if the call returns
//! `STATUS_PENDING` the glue waits for the event; then it reads `IoStatus` and frees the IRP.

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::wdk;
use wdk::ntddk::{IoAllocateIrp, IoFreeIrp, KeInitializeEvent, KeSetEvent, KeWaitForSingleObject};
use wdk::{
    _EVENT_TYPE, _KWAIT_REASON, _MODE, BOOLEAN, FALSE, IO_NO_INCREMENT, KEVENT, KPRIORITY,
    KPROCESSOR_MODE, NTSTATUS, PDEVICE_OBJECT, PIO_COMPLETION_ROUTINE, PVOID, SL_INVOKE_ON_CANCEL,
    SL_INVOKE_ON_ERROR, SL_INVOKE_ON_SUCCESS, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_MORE_PROCESSING_REQUIRED, STATUS_PENDING,
};

use crate::lifecycle::{ListenParams, ProviderCharacteristics, WskApi};
use crate::ntstatus::NtStatus;
use crate::wsk_abi::{
    self, AF_INET6, IPPROTO_TCP, PIRP, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCK_STREAM,
    WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI, WSK_FLAG_LISTEN_SOCKET, WSK_PROVIDER_CHARACTERISTICS,
    WSK_PROVIDER_LISTEN_DISPATCH, WSK_PROVIDER_NPI, WSK_REGISTRATION, WSK_SOCKET,
};

/// `STATUS_NOT_SUPPORTED` (ntstatus.h): a dispatch entry the provider left `NULL`.
const STATUS_NOT_SUPPORTED: NtStatus = NtStatus(0xC000_00BB_u32 as i32);

/// The WSK registration functions and provider dispatch of the running system.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelWsk;

/// The resident pair `WskRegister` is given.
struct RegistrationBlock {
    /// Written by NETIO through the pointer `WskRegister` and later calls get.
    registration: UnsafeCell<WSK_REGISTRATION>,
    /// The client dispatch (NPI version), read by NETIO until `WskDeregister` returns.
    dispatch: WSK_CLIENT_DISPATCH,
    /// `WskDeregister` has been called (it must be called exactly once).
    deregistered: AtomicBool,
}

/// A registration: owns its resident `WSK_REGISTRATION` + `WSK_CLIENT_DISPATCH` block on the
/// heap.
pub struct KernelRegistration {
    block: *mut RegistrationBlock,
}

// SAFETY: 1. The block is only read (`dispatch`), atomically updated (`deregistered`), or
//            passed by pointer to the WSK registration functions, which may be called from any
//            thread concurrently (WSK synchronises on the registration internally).
unsafe impl Send for KernelRegistration {}
// SAFETY: 1. As for `Send`: shared use is only through WSK's thread-safe functions.
unsafe impl Sync for KernelRegistration {}

impl KernelRegistration {
    fn block(&self) -> &RegistrationBlock {
        // SAFETY: 1. `block` is the `Box::into_raw` of a live block, freed only in `drop`.
        unsafe { &*self.block }
    }

    fn registration(&self) -> *mut WSK_REGISTRATION {
        self.block().registration.get()
    }
}

impl Drop for KernelRegistration {
    fn drop(&mut self) {
        if !self.block().deregistered.swap(true, Ordering::AcqRel) {
            // The core always deregisters; this keeps the block from being freed while WSK
            // still uses it should a registration ever be dropped without it.
            // SAFETY: 1. The registration was registered and not yet deregistered.
            //         2. PASSIVE_LEVEL: registrations are dropped by DriverEntry or unload.
            unsafe { wsk_abi::WskDeregister(self.registration()) };
        }
        // SAFETY: 1. `block` is the `Box::into_raw` from `register`; `WskDeregister` has
        //            returned, so NETIO no longer uses the block; freed once, here.
        drop(unsafe { Box::from_raw(self.block) });
    }
}

/// A captured `WSK_PROVIDER_NPI`.
#[derive(Debug)]
pub struct KernelNpi(WSK_PROVIDER_NPI);

// SAFETY: 1. The NPI's client object and dispatch table belong to the WSK subsystem and may be
//            used from any thread while captured.
unsafe impl Send for KernelNpi {}

/// A socket created through the provider dispatch.
#[derive(Debug)]
pub struct KernelSocket(*mut WSK_SOCKET);

// SAFETY: 1. A WSK socket may be used from any thread until `WskCloseSocket`.
unsafe impl Send for KernelSocket {}
// SAFETY: 1. The core never overlaps a close with another call on the socket (the WSK rule);
//            other calls may come from any thread.
unsafe impl Sync for KernelSocket {}

/// A connection a `WskAccept` returned.
#[derive(Debug)]
pub struct KernelConnection(*mut WSK_SOCKET);

// SAFETY: 1. A WSK socket may be used from any thread until `WskCloseSocket`.
unsafe impl Send for KernelConnection {}

/// The completion routine of every socket IRP: signals the caller's event and keeps the IRP.
///
/// # Safety
///
/// `context` is the `KEVENT` [`call_with_irp`] waits on, alive until that wait returns.
unsafe extern "C" fn signal_event(_device: PDEVICE_OBJECT, _irp: PIRP, context: PVOID) -> NTSTATUS {
    // SAFETY: 1. `context` is the caller's initialised `KEVENT` (contract).
    //         2. `KeSetEvent` with `Wait` FALSE may be called at `DISPATCH_LEVEL`, where
    //            completion routines can run.
    let _ = unsafe {
        KeSetEvent(
            context.cast(),
            IO_NO_INCREMENT as KPRIORITY,
            FALSE as BOOLEAN,
        )
    };
    STATUS_MORE_PROCESSING_REQUIRED
}

/// `IoSetCompletionRoutine(irp, routine, context, TRUE, TRUE, TRUE)` (an inline function in
/// `wdm.h`, so not in `wdk-sys`): fills the next stack location.
///
/// # Safety
///
/// `irp` is a live IRP the caller owns, with at least one stack location below the current
/// one (an `IoAllocateIrp(1, ...)` IRP before it is passed on).
unsafe fn set_completion_routine(irp: PIRP, routine: PIO_COMPLETION_ROUTINE, context: PVOID) {
    // SAFETY: 1. `irp` is live, owned by the caller and not queued, with a location below the
    //            current one (contract).
    let next = unsafe { wsk_abi::IoGetNextIrpStackLocation(irp) };
    // SAFETY: 1. `next` points into the IRP's stack array, which the caller owns; no other
    //            reference to it exists.
    let next = unsafe { &mut *next };
    next.CompletionRoutine = routine;
    next.Context = context;
    next.Control = (SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR | SL_INVOKE_ON_CANCEL) as u8;
}

/// Runs one WSK call that takes an IRP, waits for its completion, and returns the IRP's final
/// status and `Information`. The IRP is freed on every path.
fn call_with_irp(call: impl FnOnce(PIRP) -> NTSTATUS) -> (NtStatus, u64) {
    // SAFETY: 1. One stack location (WSK calls need one); no quota charge.
    //         2. PASSIVE_LEVEL.
    let irp = unsafe { IoAllocateIrp(1, FALSE as BOOLEAN) };
    if irp.is_null() {
        return (NtStatus(STATUS_INSUFFICIENT_RESOURCES), 0);
    }
    let mut event = KEVENT::default();
    // SAFETY: 1. `event` is writable `KEVENT` storage on this stack frame, which outlives every
    //            use of it (the wait below); nobody waits on it yet.
    unsafe { KeInitializeEvent(&mut event, _EVENT_TYPE::NotificationEvent, FALSE as BOOLEAN) };
    let context: PVOID = (&raw mut event).cast();
    // SAFETY: 1. `irp` was just allocated with one stack location and not passed on yet.
    //         2. `signal_event` gets `context`, the event that outlives the completion.
    unsafe { set_completion_routine(irp, Some(signal_event), context) };
    if call(irp) == STATUS_PENDING {
        // SAFETY: 1. `context` is the initialised `KEVENT` above, alive for the wait.
        //         2. PASSIVE_LEVEL, kernel-mode wait (the stack holding the event stays
        //            resident), no timeout: WSK always completes the IRP.
        let _ = unsafe {
            KeWaitForSingleObject(
                context,
                _KWAIT_REASON::Executive,
                _MODE::KernelMode as KPROCESSOR_MODE,
                FALSE as BOOLEAN,
                core::ptr::null_mut(),
            )
        };
    }
    // The completion routine has run (synchronously within the call, or before the event
    // was signalled); the IRP is the driver's again.
    // SAFETY: 1. `irp` is live and no longer used by the provider.
    let irp_ref = unsafe { &*irp };
    // SAFETY: 1. The provider completed the IRP with `IoStatus.Status` set.
    let status = unsafe { irp_ref.IoStatus.__bindgen_anon_1.Status };
    let information = irp_ref.IoStatus.Information as u64;
    // SAFETY: 1. `irp` came from `IoAllocateIrp`, is complete and not used again.
    unsafe { IoFreeIrp(irp) };
    (NtStatus(status), information)
}

impl WskApi for KernelWsk {
    type Registration = KernelRegistration;
    type ProviderNpi = KernelNpi;
    type Socket = KernelSocket;
    type Connection = KernelConnection;

    fn register(&self, version: u16) -> Result<KernelRegistration, NtStatus> {
        let block = Box::into_raw(Box::new(RegistrationBlock {
            registration: UnsafeCell::new(WSK_REGISTRATION::zeroed()),
            dispatch: WSK_CLIENT_DISPATCH {
                Version: version,
                Reserved: 0,
                WskClientEvent: None,
            },
            deregistered: AtomicBool::new(false),
        }));
        // SAFETY: 1. `block` is the `Box::into_raw` just above: valid, not yet shared.
        let block_ref = unsafe { &*block };
        let mut npi = WSK_CLIENT_NPI {
            ClientContext: core::ptr::null_mut(),
            Dispatch: &block_ref.dispatch,
        };
        // SAFETY: 1. `npi` is valid for the call; its `Dispatch` and the registration live in
        //            `block`, which stays allocated and unmoved until after `WskDeregister`.
        //         2. PASSIVE_LEVEL.
        let status = unsafe { wsk_abi::WskRegister(&mut npi, block_ref.registration.get()) };
        if status < 0 {
            // SAFETY: 1. Registration failed, so NETIO keeps no pointer into `block`; it is
            //            freed once, here.
            drop(unsafe { Box::from_raw(block) });
            return Err(NtStatus(status));
        }
        Ok(KernelRegistration { block })
    }

    fn capture(
        &self,
        registration: &KernelRegistration,
        wait_timeout_ms: u32,
    ) -> Result<KernelNpi, NtStatus> {
        let mut npi = WSK_PROVIDER_NPI::empty();
        // SAFETY: 1. The registration is registered and resident.
        //         2. `npi` is writable `WSK_PROVIDER_NPI` storage.
        //         3. PASSIVE_LEVEL; the core never waits infinitely on the DriverEntry thread.
        let status = unsafe {
            wsk_abi::WskCaptureProviderNPI(registration.registration(), wait_timeout_ms, &mut npi)
        };
        if status < 0 {
            return Err(NtStatus(status));
        }
        Ok(KernelNpi(npi))
    }

    fn release(&self, registration: &KernelRegistration) {
        // SAFETY: 1. The core releases once per successful capture, through the same
        //            registration, after its last dispatch call.
        unsafe { wsk_abi::WskReleaseProviderNPI(registration.registration()) };
    }

    fn query_characteristics(
        &self,
        registration: &KernelRegistration,
    ) -> Result<ProviderCharacteristics, NtStatus> {
        let mut range = WSK_PROVIDER_CHARACTERISTICS::default();
        // SAFETY: 1. The registration is registered; `range` is writable storage.
        let status = unsafe {
            wsk_abi::WskQueryProviderCharacteristics(registration.registration(), &mut range)
        };
        if status < 0 {
            return Err(NtStatus(status));
        }
        Ok(ProviderCharacteristics {
            highest_version: range.HighestVersion,
            lowest_version: range.LowestVersion,
        })
    }

    fn deregister(&self, registration: &KernelRegistration) {
        if registration
            .block()
            .deregistered
            .swap(true, Ordering::AcqRel)
        {
            return;
        }
        // SAFETY: 1. Registered and not yet deregistered (the flag above makes this once).
        //         2. PASSIVE_LEVEL; it blocks until every capture is released and every
        //            socket closed, which the core does on other paths or threads.
        unsafe { wsk_abi::WskDeregister(registration.registration()) };
    }

    fn socket_listen(
        &self,
        npi: &KernelNpi,
        params: &ListenParams,
    ) -> Result<KernelSocket, NtStatus> {
        // SAFETY: 1. A captured NPI's `Dispatch` points to the provider's dispatch table,
        //            valid while the NPI is captured (the core calls only then).
        let dispatch = unsafe { &*npi.0.Dispatch };
        let wsk_socket = dispatch.WskSocket.ok_or(STATUS_NOT_SUPPORTED)?;
        let client = npi.0.Client;
        let (status, information) = call_with_irp(|irp| {
            // SAFETY: 1. `client` is the captured NPI's client object.
            //         2. A listening TCP socket; no socket context, no listen callbacks
            //            (`Dispatch` NULL), no owning process/thread, default security.
            //         3. `irp` is ours, with the completion routine set.
            unsafe {
                wsk_socket(
                    client,
                    params.address_family(),
                    SOCK_STREAM,
                    IPPROTO_TCP,
                    WSK_FLAG_LISTEN_SOCKET,
                    core::ptr::null_mut(),
                    core::ptr::null(),
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                    irp,
                )
            }
        });
        if !status.is_success() {
            return Err(status);
        }
        let socket = information as usize as *mut WSK_SOCKET;
        if socket.is_null() {
            return Err(NtStatus::UNSUCCESSFUL);
        }
        Ok(KernelSocket(socket))
    }

    fn bind(&self, socket: &KernelSocket, params: &ListenParams) -> NtStatus {
        let Some(dispatch) = listen_dispatch(socket) else {
            return STATUS_NOT_SUPPORTED;
        };
        let Some(wsk_bind) = dispatch.WskBind else {
            return STATUS_NOT_SUPPORTED;
        };
        // Loopback, not the wildcard address: the socket only demonstrates the documented
        // sequence and must not be reachable from the network.
        let mut v4 = SOCKADDR_IN::loopback(params.port);
        let mut v6 = SOCKADDR_IN6::loopback(params.port);
        let address: *mut SOCKADDR = if params.address_family() == AF_INET6 {
            (&raw mut v6).cast()
        } else {
            (&raw mut v4).cast()
        };
        let (status, _) = call_with_irp(|irp| {
            // SAFETY: 1. `socket` is an open listening socket of this provider.
            //         2. `address` is a socket address of the socket's family, alive for the
            //            call (the IRP completes before `call_with_irp` returns); flags 0.
            unsafe { wsk_bind(socket.0, address, 0, irp) }
        });
        status
    }

    fn accept(
        &self,
        _socket: &KernelSocket,
        _issued: &dyn Fn(),
    ) -> Result<crate::lifecycle::Accepted<KernelConnection>, NtStatus> {
        // `WSK_PROVIDER_LISTEN_DISPATCH::WskAccept` is not bound in `wsk_abi` yet: the
        // accept loop records this status and stops.
        Err(STATUS_NOT_SUPPORTED)
    }

    fn close_connection(&self, connection: KernelConnection) -> NtStatus {
        self.close_raw(connection.0)
    }

    fn close_socket(&self, socket: &KernelSocket) -> NtStatus {
        self.close_raw(socket.0)
    }
}

impl KernelWsk {
    /// `WskCloseSocket` through the socket's basic dispatch (the first member of every
    /// socket category's dispatch table).
    fn close_raw(&self, socket: *mut WSK_SOCKET) -> NtStatus {
        let socket = KernelSocket(socket);
        let Some(dispatch) = listen_dispatch(&socket) else {
            return STATUS_NOT_SUPPORTED;
        };
        let Some(wsk_close_socket) = dispatch.Basic.WskCloseSocket else {
            return STATUS_NOT_SUPPORTED;
        };
        let (status, _) = call_with_irp(|irp| {
            // SAFETY: 1. `socket` is open and the core makes no call on it after this one.
            unsafe { wsk_close_socket(socket.0, irp) }
        });
        status
    }
}

/// The listening socket's dispatch table.
fn listen_dispatch(socket: &KernelSocket) -> Option<&WSK_PROVIDER_LISTEN_DISPATCH> {
    // SAFETY: 1. `socket.0` is an open socket: a `WSK_SOCKET` whose `Dispatch` is readable.
    let table = unsafe { (*socket.0).Dispatch };
    if table.is_null() {
        return None;
    }
    // SAFETY: 1. The socket was created with `WSK_FLAG_LISTEN_SOCKET`, so its dispatch table
    //            is a `WSK_PROVIDER_LISTEN_DISPATCH`, valid until the socket is closed.
    Some(unsafe { &*table.cast::<WSK_PROVIDER_LISTEN_DISPATCH>() })
}
