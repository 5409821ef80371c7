//! The lifecycle core's [`WskApi`] over the NETIO WSK imports and the provider dispatch.
//!
//! Residency: `WskRegister` gets a `WSK_CLIENT_DISPATCH` and a `WSK_REGISTRATION` that live
//! side by side in one heap block ([`KernelRegistration`]), freed only after `WskDeregister`
//! has returned (by the core's deregister, or by the handle's `Drop` as a last resort), so
//! both stay valid and unmoved for as long as WSK requires.
//!
//! The registration block is allocated fallibly: when pool is short, `WskRegister` is not
//! called and the registration fails with `STATUS_INSUFFICIENT_RESOURCES`. The sockets and
//! their reserved IRPs are [`super::sockets`]'.

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::sockets::{KernelConnection, KernelSocket};
use crate::fallible::try_box;
use crate::lifecycle::{Accepted, ListenParams, ProviderCharacteristics, WskApi};
use crate::ntstatus::NtStatus;
use crate::wsk_abi::{
    self, WSK_CLIENT_DISPATCH, WSK_CLIENT_NPI, WSK_PROVIDER_CHARACTERISTICS, WSK_PROVIDER_NPI,
    WSK_REGISTRATION,
};

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
pub struct KernelNpi(pub(super) WSK_PROVIDER_NPI);

// SAFETY: 1. The NPI's client object and dispatch table belong to the WSK subsystem and may be
//            used from any thread while captured.
unsafe impl Send for KernelNpi {}

impl WskApi for KernelWsk {
    type Registration = KernelRegistration;
    type ProviderNpi = KernelNpi;
    type Socket = KernelSocket;
    type Connection = KernelConnection;

    fn register(&self, version: u16) -> Result<KernelRegistration, NtStatus> {
        let block = RegistrationBlock {
            registration: UnsafeCell::new(WSK_REGISTRATION::zeroed()),
            dispatch: WSK_CLIENT_DISPATCH {
                Version: version,
                Reserved: 0,
                WskClientEvent: None,
            },
            deregistered: AtomicBool::new(false),
        };
        let block = Box::into_raw(try_box(block, "WskRegistration")?);
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
        KernelSocket::create(npi.0.Client, dispatch.WskSocket, params)
    }

    fn bind(&self, socket: &KernelSocket, params: &ListenParams) -> NtStatus {
        socket.bind(params)
    }

    fn accept(
        &self,
        socket: &KernelSocket,
        issued: &dyn Fn(),
    ) -> Result<Accepted<KernelConnection>, NtStatus> {
        socket.accept(issued)
    }

    fn close_socket(&self, socket: &KernelSocket) -> NtStatus {
        socket.close()
    }

    fn close_connection(&self, connection: KernelConnection) -> NtStatus {
        connection.close()
    }
}
