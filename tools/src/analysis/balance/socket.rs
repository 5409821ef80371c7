//! One registration's sockets: which are open, which are closing or closed, and the events
//! kept for the socket rules' findings.
//!
//! Memory: an open socket costs one entry; a closed one is kept (for calls after its close)
//! among the last [`SocketTable::CLOSED_KEPT`] closed, so an accept loop's millions of
//! connections cost a bounded table. A call on a socket closed longer ago than that, or on
//! one whose creation the trace does not show, is not judged: never a false finding.

use std::collections::VecDeque;

use super::ids::IdMap;
use crate::analysis::TraceEvent;

/// One socket, from its `SocketCreated` on.
#[derive(Debug)]
pub(super) struct Socket {
    /// Its `SocketCreated` (ids and numbers only, no text: small).
    pub(super) created: TraceEvent,
    /// `CloseSocket` Start: from then on no call may be made on it.
    pub(super) close_start: Option<TraceEvent>,
    /// `CloseSocket` Stop: the close returned.
    pub(super) close_stop: Option<TraceEvent>,
}

impl Socket {
    /// The close's events seen so far (Start, Stop).
    pub(super) fn close_events(&self) -> impl Iterator<Item = &TraceEvent> {
        self.close_start.iter().chain(self.close_stop.iter())
    }
}

/// A registration's sockets.
#[derive(Debug, Default)]
pub(super) struct SocketTable {
    /// Created, and not yet closed (their close may have begun).
    open: IdMap<Socket>,
    /// Closed (close returned), oldest first; at most [`SocketTable::CLOSED_KEPT`].
    closed: VecDeque<(u32, Socket)>,
}

impl SocketTable {
    /// Closed sockets kept for late calls on them.
    pub(super) const CLOSED_KEPT: usize = 64;

    /// A socket created (an id the driver does not reuse within a load; if it does, the new
    /// socket replaces the old).
    pub(super) fn created(&mut self, id: u32, ev: &TraceEvent) {
        self.closed.retain(|(s, _)| *s != id);
        self.open.insert(
            id,
            Socket {
                created: ev.clone(),
                close_start: None,
                close_stop: None,
            },
        );
    }

    /// The socket with this id, open or recently closed.
    pub(super) fn get_mut(&mut self, id: u32) -> Option<&mut Socket> {
        if self.open.contains_key(&id) {
            return self.open.get_mut(&id);
        }
        self.closed
            .iter_mut()
            .rev()
            .find(|(s, _)| *s == id)
            .map(|(_, socket)| socket)
    }

    /// The close of `id` returned: it moves to the closed sockets.
    pub(super) fn close_returned(&mut self, id: u32, ev: &TraceEvent) {
        if let Some(mut socket) = self.open.remove(&id) {
            socket.close_stop = Some(ev.clone());
            self.closed.push_back((id, socket));
            if self.closed.len() > Self::CLOSED_KEPT {
                self.closed.pop_front();
            }
        } else if let Some(socket) = self.get_mut(id) {
            // A second close's Stop (the call itself was the finding).
            socket.close_stop.get_or_insert_with(|| ev.clone());
        }
    }

    /// Sockets created and not closed, nor closing: ids in order.
    pub(super) fn not_closing(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .open
            .iter()
            .filter(|(_, s)| s.close_start.is_none())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The open socket `id` (for a finding).
    pub(super) fn open_socket(&self, id: u32) -> Option<&Socket> {
        self.open.get(&id)
    }
}
