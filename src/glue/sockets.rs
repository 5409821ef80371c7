//! The listening socket and the connections it accepts, through the provider dispatch, each
//! with the IRPs its calls need reserved before the call that creates it.
//!
//! - A listening socket ([`KernelSocket`]) reserves, before `WskSocket`, one IRP for its calls
//!   (`WskSocket`, `WskBind`, each `WskAccept`: the core makes them one at a time) and one for
//!   its `WskCloseSocket` (which runs while an accept is pending), and the buffer `WskAccept`
//!   writes the remote address into; all in one fallibly allocated block.
//! - Each `WskAccept` first reserves the IRP its connection ([`KernelConnection`]) will be
//!   closed with; if it cannot, the accept fails with `STATUS_INSUFFICIENT_RESOURCES` without
//!   calling WSK.
//!
//! So no close can fail for want of memory, and `WskDeregister` (which waits for every
//! socket's close) cannot hang on a socket the driver failed to close.

use alloc::boxed::Box;
use core::cell::UnsafeCell;

use super::irp::ReservedIrp;
use crate::fallible::try_box;
use crate::lifecycle::{Accepted, IpAddr, Ipv4Addr, ListenParams, SocketAddr};
use crate::ntstatus::NtStatus;
use crate::wsk_abi::{
    IPPROTO_TCP, PFN_WSK_SOCKET, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_INET, SOCK_STREAM,
    WSK_CLIENT, WSK_FLAG_LISTEN_SOCKET, WSK_PROVIDER_BASIC_DISPATCH, WSK_PROVIDER_LISTEN_DISPATCH,
    WSK_SOCKET,
};

/// What a listening socket owns: its socket, its reserved IRPs, the accept's address buffer.
struct ListenBlock {
    socket: *mut WSK_SOCKET,
    /// `WskSocket`, `WskBind`, `WskAccept` (one at a time: the core never overlaps them).
    calls: ReservedIrp,
    /// `WskCloseSocket` (once; it may run while `calls` has an accept pending).
    close: ReservedIrp,
    /// Where `WskAccept` writes the connection's remote address (read after it completed).
    remote: UnsafeCell<SOCKADDR_INET>,
}

/// A listening socket created through the provider dispatch.
pub struct KernelSocket(Box<ListenBlock>);

// SAFETY: 1. A WSK socket may be used from any thread until `WskCloseSocket`; the block's IRPs
//            are `Send`, and the address buffer is only touched by the accepting thread.
unsafe impl Send for KernelSocket {}
// SAFETY: 1. Shared use is the core's: calls (`calls`, `remote`) on one thread at a time, and
//            the close (`close`) on another, never overlapping another call's start (the WSK
//            rule the core keeps).
unsafe impl Sync for KernelSocket {}

/// A connection a `WskAccept` returned, with the IRP its close needs.
pub struct KernelConnection {
    socket: *mut WSK_SOCKET,
    close: ReservedIrp,
}

// SAFETY: 1. A WSK socket may be used from any thread until `WskCloseSocket`.
unsafe impl Send for KernelConnection {}

impl core::fmt::Debug for KernelSocket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("KernelSocket").field(&self.0.socket).finish()
    }
}

impl core::fmt::Debug for KernelConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("KernelConnection")
            .field(&self.socket)
            .finish()
    }
}

/// A socket address for `params`, as `WskBind` takes it.
fn local_address(params: &ListenParams) -> SOCKADDR_INET {
    match params.address {
        IpAddr::V4(a) => SOCKADDR_INET {
            Ipv4: SOCKADDR_IN::new(a.octets(), params.port),
        },
        IpAddr::V6(a) => SOCKADDR_INET {
            Ipv6: SOCKADDR_IN6::new(a.octets(), params.port),
        },
    }
}

/// The basic dispatch of an open socket (the first member of every category's table).
///
/// # Safety
///
/// `socket` is an open socket of the provider.
unsafe fn basic_dispatch<'a>(socket: *mut WSK_SOCKET) -> Option<&'a WSK_PROVIDER_BASIC_DISPATCH> {
    // SAFETY: 1. An open socket is a readable `WSK_SOCKET` (contract).
    let table = unsafe { (*socket).Dispatch };
    // SAFETY: 1. Every socket dispatch table begins with `WSK_PROVIDER_BASIC_DISPATCH`, valid
    //            until the socket is closed.
    (!table.is_null()).then(|| unsafe { &*table.cast::<WSK_PROVIDER_BASIC_DISPATCH>() })
}

/// `WskCloseSocket` of `socket` with its reserved `irp`.
///
/// # Safety
///
/// `socket` is open and no call on it runs or follows; `irp` is not used by another call.
unsafe fn close(socket: *mut WSK_SOCKET, irp: &ReservedIrp) -> NtStatus {
    // SAFETY: 1. `socket` is open (contract).
    let Some(close) = (unsafe { basic_dispatch(socket) }).and_then(|d| d.WskCloseSocket) else {
        return NtStatus::NOT_SUPPORTED;
    };
    let start = |irp| {
        // SAFETY: 1. `socket` is open and the core makes no call on it after this one.
        unsafe { close(socket, irp) }
    };
    // SAFETY: 1. `irp` runs this call only (contract); `close` completes it.
    unsafe { irp.call(start, || {}) }.0
}

impl KernelSocket {
    /// Reserves the socket's IRPs and block, then `WskSocket`: a listening TCP socket of
    /// `params`' address family, no socket context or callbacks.
    pub(super) fn create(
        client: *mut WSK_CLIENT,
        wsk_socket: PFN_WSK_SOCKET,
        params: &ListenParams,
    ) -> Result<KernelSocket, NtStatus> {
        let wsk_socket = wsk_socket.ok_or(NtStatus::NOT_SUPPORTED)?;
        let block = ListenBlock {
            socket: core::ptr::null_mut(),
            calls: ReservedIrp::allocate()?,
            close: ReservedIrp::allocate()?,
            remote: UnsafeCell::new(SOCKADDR_INET::zeroed()),
        };
        let mut block = try_box(block, "ListenSocket")?;
        let family = params.address_family();
        let start = |irp| {
            // SAFETY: 1. `client` is the captured NPI's client object.
            //         2. A listening TCP socket; no socket context, no listen callbacks
            //            (`Dispatch` NULL), no owning process or thread, default security.
            //         3. `irp` is reserved, with the completion routine set.
            unsafe {
                wsk_socket(
                    client,
                    family,
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
        };
        // SAFETY: 1. The socket is not created yet: no other call uses `calls`.
        let (status, information) = unsafe { block.calls.call(start, || {}) };
        if !status.is_success() {
            return Err(status);
        }
        block.socket = information as usize as *mut WSK_SOCKET;
        if block.socket.is_null() {
            return Err(NtStatus::UNSUCCESSFUL);
        }
        Ok(KernelSocket(block))
    }

    /// The listening socket's dispatch table.
    fn dispatch(&self) -> Option<&WSK_PROVIDER_LISTEN_DISPATCH> {
        // SAFETY: 1. `socket` is an open socket: a `WSK_SOCKET` whose `Dispatch` is readable.
        let table = unsafe { (*self.0.socket).Dispatch };
        // SAFETY: 1. The socket was created with `WSK_FLAG_LISTEN_SOCKET`, so its dispatch
        //            table is a `WSK_PROVIDER_LISTEN_DISPATCH`, valid until it is closed.
        (!table.is_null()).then(|| unsafe { &*table.cast::<WSK_PROVIDER_LISTEN_DISPATCH>() })
    }

    /// `WskBind` to `params.address:params.port`.
    pub(super) fn bind(&self, params: &ListenParams) -> NtStatus {
        let Some(wsk_bind) = self.dispatch().and_then(|d| d.WskBind) else {
            return NtStatus::NOT_SUPPORTED;
        };
        let mut address = local_address(params);
        let socket = self.0.socket;
        let start = |irp| {
            // SAFETY: 1. `socket` is an open listening socket of this provider.
            //         2. `address` is a socket address of the socket's family, alive for the
            //            call (its IRP completes before `call` returns); flags 0 (reserved).
            unsafe { wsk_bind(socket, (&raw mut address).cast::<SOCKADDR>(), 0, irp) }
        };
        // SAFETY: 1. The core makes one call on the socket at a time: `calls` is free.
        unsafe { self.0.calls.call(start, || {}) }.0
    }

    /// `WskAccept`, its connection's close IRP reserved first; `issued` runs once the call
    /// has returned (the IRP may be pending until a client connects or the socket closes).
    pub(super) fn accept(&self, issued: &dyn Fn()) -> Result<Accepted<KernelConnection>, NtStatus> {
        let Some(wsk_accept) = self.dispatch().and_then(|d| d.WskAccept) else {
            return Err(NtStatus::NOT_SUPPORTED);
        };
        let close = ReservedIrp::allocate()?;
        let socket = self.0.socket;
        let remote = self.0.remote.get();
        // SAFETY: 1. Only the accepting thread touches the buffer, and no accept is pending.
        unsafe { remote.write(SOCKADDR_INET::zeroed()) };
        let start = |irp| {
            // SAFETY: 1. `socket` is an open listening socket of this provider.
            //         2. No accept socket context or client dispatch (NULL), no local address
            //            wanted; `remote` is a `SOCKADDR_INET`, large enough for either
            //            family, alive until the IRP completes (it lives in the socket's
            //            block, which outlives the call).
            unsafe {
                wsk_accept(
                    socket,
                    0,
                    core::ptr::null_mut(),
                    core::ptr::null(),
                    core::ptr::null_mut(),
                    remote.cast::<SOCKADDR>(),
                    irp,
                )
            }
        };
        // SAFETY: 1. The core makes one call on the socket at a time: `calls` is free.
        let (status, information) = unsafe { self.0.calls.call(start, issued) };
        if !status.is_success() {
            return Err(status);
        }
        let accepted = information as usize as *mut WSK_SOCKET;
        if accepted.is_null() {
            return Err(NtStatus::UNSUCCESSFUL);
        }
        // SAFETY: 1. The accept completed: the provider no longer writes the buffer.
        let remote = unsafe { (*remote).to_socket_addr() };
        Ok(Accepted {
            connection: KernelConnection {
                socket: accepted,
                close,
            },
            // A provider that wrote no address (or one of another family) leaves it unknown.
            remote: remote.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)),
        })
    }

    /// `WskCloseSocket`, with the IRP reserved for it; cancels a pending accept.
    pub(super) fn close(&self) -> NtStatus {
        // SAFETY: 1. The core closes once, with no call on the socket in progress or after
        //            (an accept's IRP may be pending: the close cancels it).
        //         2. `close` serves this one call.
        unsafe { close(self.0.socket, &self.0.close) }
    }
}

impl KernelConnection {
    /// `WskCloseSocket` through the connection's dispatch, with its reserved IRP.
    pub(super) fn close(self) -> NtStatus {
        // SAFETY: 1. The connection is open, closed once (this consumes it), nothing follows.
        //         2. Its IRP serves this one call.
        unsafe { close(self.socket, &self.close) }
    }
}
