//! Sockets and their traced calls: the listening socket ([`ListenSocket`]: bind, accept,
//! close) and the connections it accepts ([`Connection`]). Each socket has an id (the
//! `SocketId` of its events) and keeps its registration alive until it is closed, so a
//! registration cannot be dropped (and so deregistered) under an open socket.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::lifecycle::api::{
    Accepted, Clock, IpAddr, ListenParams, SocketAddr, WskApi, AF_INET, AF_INET6,
};
use crate::lifecycle::client::{SharedRegistration, KW_SOCKET};
use crate::lifecycle::sink::{ActivityId, EventSink};
use crate::ntstatus::NtStatus;
use crate::schema::{socket_kind, WskEventRef};

/// An IP address as text, formatted on the stack (no allocation on the event path).
pub(crate) struct AddressText {
    bytes: [u8; 48],
    len: usize,
}

impl AddressText {
    /// `address` as `Display` writes it (`127.0.0.1`, `::1`).
    pub(crate) fn of(address: &IpAddr) -> AddressText {
        let mut text = AddressText {
            bytes: [0; 48],
            len: 0,
        };
        // The longest IPv6 text (45 bytes) fits, so the write cannot fail.
        let _ = write!(text, "{address}");
        text
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl Write for AddressText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A listening socket, created through a captured NPI ([`super::CapturedNpi::create_listening_socket`]).
/// Close it with [`ListenSocket::close`] before deregistering; it may outlive the capture it
/// was created through (socket calls are not provider dispatch calls).
pub struct ListenSocket<A: WskApi, S: EventSink, C: Clock> {
    registration: SharedRegistration<A, S, C>,
    raw: A::Socket,
    id: u32,
    closed: AtomicBool,
}

/// A connection a `WskAccept` returned. Close it with [`Connection::close`].
pub struct Connection<A: WskApi, S: EventSink, C: Clock> {
    registration: SharedRegistration<A, S, C>,
    raw: Option<A::Connection>,
    id: u32,
    remote: SocketAddr,
}

impl<A: WskApi, S: EventSink, C: Clock> ListenSocket<A, S, C> {
    pub(crate) fn new(registration: SharedRegistration<A, S, C>, raw: A::Socket, id: u32) -> Self {
        ListenSocket {
            registration,
            raw,
            id,
            closed: AtomicBool::new(false),
        }
    }

    /// Socket id, as recorded.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The registration it was created under.
    pub fn registration(&self) -> &SharedRegistration<A, S, C> {
        &self.registration
    }

    /// `WskBind` to `params`, recorded as `SocketBind`.
    pub(crate) fn bind(&self, params: &ListenParams) -> NtStatus {
        let client = &self.registration.client;
        let t0 = client.time_if(KW_SOCKET);
        let status = client.api.bind(&self.raw, params);
        let address = AddressText::of(&params.address);
        client.finish(t0, &ActivityId::NONE, |duration_ns| {
            WskEventRef::SocketBind {
                registration_id: self.registration.id,
                socket_id: self.id,
                address: address.as_str(),
                port: u32::from(params.port),
                status,
                duration_ns,
            }
        });
        status
    }

    /// One `WskAccept`, recorded as an `Accept` Start/Stop pair; `issued` as for
    /// [`WskApi::accept`]. A connection gets its socket id here.
    pub fn accept(&self, issued: &dyn Fn()) -> Result<Connection<A, S, C>, NtStatus> {
        self.accept_then(issued, || {})
    }

    /// [`ListenSocket::accept`], with `before_stop` run between the accept's completion and
    /// its `Accept` Stop.
    pub(crate) fn accept_then(
        &self,
        issued: &dyn Fn(),
        before_stop: impl FnOnce(),
    ) -> Result<Connection<A, S, C>, NtStatus> {
        let client = &self.registration.client;
        let registration_id = self.registration.id;
        let span = client.start(KW_SOCKET, || WskEventRef::AcceptStart {
            registration_id,
            socket_id: self.id,
        });
        let result = client.api.accept(&self.raw, issued);
        let (status, accepted) = match result {
            Ok(Accepted { connection, remote }) => (
                NtStatus::SUCCESS,
                Some(Connection {
                    registration: self.registration.clone(),
                    raw: Some(connection),
                    id: client.next_socket_id(),
                    remote,
                }),
            ),
            Err(status) => (status, None),
        };
        let (accepted_socket_id, remote) = match &accepted {
            Some(c) => (c.id, Some(c.remote)),
            None => (0, None),
        };
        let address = remote.map(|r| AddressText::of(&r.ip()));
        before_stop();
        client.stop(KW_SOCKET, &span, |wait_ns| WskEventRef::AcceptStop {
            registration_id,
            socket_id: self.id,
            status,
            accepted_socket_id,
            remote_address: address.as_ref().map_or("", AddressText::as_str),
            remote_port: remote.map_or(0, |r| u32::from(r.port())),
            wait_ns,
        });
        if let Some(c) = &accepted {
            record_created(
                &self.registration,
                0,
                c.id,
                socket_kind::ACCEPTED,
                &c.remote.ip(),
            );
        }
        accepted.ok_or(status)
    }

    /// `WskCloseSocket`, recorded as a `CloseSocket` Start/Stop pair. A pending accept is
    /// cancelled. The socket is gone afterwards, whatever the status.
    pub fn close(self) -> NtStatus {
        self.close_in_place(|| {})
    }

    /// Closes the socket once (later calls return `STATUS_SUCCESS` and do nothing);
    /// `before_stop` runs between the close's return and its `CloseSocket` Stop. The caller
    /// makes no other call on the socket from then on.
    pub(crate) fn close_in_place(&self, before_stop: impl FnOnce()) -> NtStatus {
        if self.closed.swap(true, Ordering::AcqRel) {
            return NtStatus::SUCCESS;
        }
        close_traced(&self.registration, self.id, || {
            let status = self.registration.client.api.close_socket(&self.raw);
            before_stop();
            status
        })
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Drop for ListenSocket<A, S, C> {
    /// A socket is never dropped open (its registration's deregister would wait on it).
    fn drop(&mut self) {
        let _ = self.close_in_place(|| {});
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Connection<A, S, C> {
    /// Socket id, as recorded.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The remote transport address.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// `WskCloseSocket` through the connection's dispatch, recorded as `CloseSocket`.
    pub fn close(mut self) -> NtStatus {
        self.close_once()
    }

    fn close_once(&mut self) -> NtStatus {
        let Some(raw) = self.raw.take() else {
            return NtStatus::SUCCESS;
        };
        let api = &self.registration.client.api;
        close_traced(&self.registration, self.id, || api.close_connection(raw))
    }
}

impl<A: WskApi, S: EventSink, C: Clock> Drop for Connection<A, S, C> {
    /// A connection is never dropped open.
    fn drop(&mut self) {
        let _ = self.close_once();
    }
}

/// Runs a socket's close between its `CloseSocket` Start and Stop.
fn close_traced<A: WskApi, S: EventSink, C: Clock>(
    registration: &SharedRegistration<A, S, C>,
    socket_id: u32,
    close: impl FnOnce() -> NtStatus,
) -> NtStatus {
    let client = &registration.client;
    let registration_id = registration.id;
    let span = client.start(KW_SOCKET, || WskEventRef::CloseSocketStart {
        registration_id,
        socket_id,
    });
    let status = close();
    client.stop(KW_SOCKET, &span, |duration_ns| {
        WskEventRef::CloseSocketStop {
            registration_id,
            socket_id,
            status,
            duration_ns,
        }
    });
    status
}

/// Records a socket's creation: a listening socket after its `WskSocket` `DispatchCall`
/// (`capture_id` of the NPI it went through), a connection after its `AcceptStop` (capture
/// id 0: accepting is a socket call, not a provider dispatch call).
pub(crate) fn record_created<A: WskApi, S: EventSink, C: Clock>(
    registration: &SharedRegistration<A, S, C>,
    capture_id: u32,
    socket_id: u32,
    kind: u8,
    address: &IpAddr,
) {
    let address_family = match address {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    };
    registration.client.info(KW_SOCKET, &ActivityId::NONE, || {
        WskEventRef::SocketCreated {
            registration_id: registration.id,
            capture_id,
            socket_id,
            socket_kind: kind,
            address_family: u32::from(address_family),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::api::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn addresses_as_text_on_the_stack() {
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(AddressText::of(&v4).as_str(), "127.0.0.1");
        let v6 = IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ));
        let longest = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff));
        assert_eq!(AddressText::of(&v6).as_str().len(), 39);
        assert_eq!(AddressText::of(&longest).as_str(), "::ffff:255.255.255.255");
    }
}
