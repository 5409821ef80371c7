//! The accept loop: `WskAccept` on the listening socket, re-armed after each completion; each
//! accepted connection recorded (remote address and port, status) and closed at once. A
//! probe that proves the captured NPI works end to end, not a server.
//!
//! Shutdown ([`Listener::close`]) follows the WSK rules: it never closes the socket while a
//! `WskAccept` call is in progress on another thread (only while its IRP is pending), the
//! close cancels that IRP, and it returns only once the cancelled accept has been recorded
//! and the loop has closed its last connection, so the registration can then be deregistered
//! with no socket open.

use crate::fallible::TryArc;
use crate::lifecycle::api::{Clock, Event, Lock, Locking, WskApi};
use crate::lifecycle::sink::EventSink;
use crate::lifecycle::socket::ListenSocket;
use crate::ntstatus::NtStatus;

/// Consecutive failed accepts (other than cancellation) after which the loop stops; the
/// socket stays open until the listener is closed.
pub const MAX_ACCEPT_FAILURES: u32 = 8;

/// Where the loop's `WskAccept` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AcceptState {
    /// No accept outstanding.
    Idle,
    /// Inside the `WskAccept` call: the socket must not be closed now.
    Calling,
    /// The call returned; its IRP is pending (closing the socket cancels it).
    Pending,
}

#[derive(Debug)]
struct State {
    closing: bool,
    running: bool,
    accept: AcceptState,
}

/// A listening socket and its accept loop. Shared between the thread running the loop
/// ([`Listener::run`]) and the one that closes it ([`Listener::close`]).
pub struct Listener<A: WskApi, S: EventSink, C: Clock, L: Locking> {
    socket: ListenSocket<A, S, C>,
    state: L::Lock<State>,
    changed: L::Event,
}

impl<A: WskApi, S: EventSink, C: Clock, L: Locking> Listener<A, S, C, L> {
    /// A listener for `socket`. On failure (no memory for it) the socket is closed and the
    /// status returned: no socket is left behind.
    pub fn new(socket: ListenSocket<A, S, C>, locking: &L) -> Result<TryArc<Self>, NtStatus> {
        let changed = match locking.event() {
            Ok(event) => event,
            Err(status) => {
                let _ = socket.close();
                return Err(status);
            }
        };
        let memory = match crate::fallible::Reserved::new("Listener") {
            Ok(memory) => memory,
            Err(e) => {
                let _ = socket.close();
                return Err(e.into());
            }
        };
        Ok(memory.arc(Listener {
            socket,
            state: L::Lock::new(State {
                closing: false,
                running: false,
                accept: AcceptState::Idle,
            }),
            changed,
        }))
    }

    /// The listening socket.
    pub fn socket(&self) -> &ListenSocket<A, S, C> {
        &self.socket
    }

    /// Runs the accept loop until the listener is closed (or accepting failed
    /// [`MAX_ACCEPT_FAILURES`] times in a row). Each connection is closed before the next
    /// accept is armed. Returns at once if the listener is already closing.
    pub fn run(&self) {
        if !self.state.with(|s| {
            s.running = !s.closing;
            s.running
        }) {
            return;
        }
        let mut failures = 0;
        while self.arm() {
            let result = self
                .socket
                .accept(&|| self.set_accept(AcceptState::Pending));
            self.set_accept(AcceptState::Idle);
            match result {
                Ok(connection) => {
                    failures = 0;
                    let _ = connection.close();
                }
                // Cancelled by the close, or a provider without `WskAccept`.
                Err(NtStatus::CANCELLED | NtStatus::NOT_SUPPORTED) => break,
                Err(_) => {
                    failures += 1;
                    if failures >= MAX_ACCEPT_FAILURES {
                        break;
                    }
                }
            }
        }
        self.state.with(|s| s.running = false);
        self.changed.set();
    }

    /// Marks an accept as being issued, unless the listener is closing.
    fn arm(&self) -> bool {
        self.state.with(|s| {
            if s.closing {
                false
            } else {
                s.accept = AcceptState::Calling;
                true
            }
        })
    }

    fn set_accept(&self, accept: AcceptState) {
        let closing = self.state.with(|s| {
            s.accept = accept;
            s.closing
        });
        if closing {
            self.changed.set();
        }
    }

    fn wait_until(&self, done: impl Fn(&State) -> bool) {
        while !self.state.with(|s| done(s)) {
            self.changed.wait();
        }
    }

    /// Closes the listening socket (recorded as `CloseSocket`): no new accept is armed, a
    /// `WskAccept` call in progress is let return first, the close cancels its IRP, and the
    /// `CloseSocket` Stop is written once that accept's completion has been recorded. Returns
    /// when the loop has ended (its last connection closed). Only the first call closes.
    pub fn close(&self) {
        let first = self
            .state
            .with(|s| !core::mem::replace(&mut s.closing, true));
        if !first {
            return;
        }
        self.wait_until(|s| s.accept != AcceptState::Calling);
        self.socket.close_in_place(|| {
            self.wait_until(|s| s.accept == AcceptState::Idle);
        });
        self.wait_until(|s| !s.running);
    }
}
