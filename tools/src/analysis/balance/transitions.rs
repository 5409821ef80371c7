//! What each lifecycle event does to its registration: the [`EventSink`] dispatches each
//! event to its transition, where the rules are checked (a new rule or event kind goes
//! here).

use std::sync::Arc;

use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::{CallingContext, WskEvent};

use super::capture::{CapState, Capture};
use super::checker::{header_loss, BalanceChecker};
use super::registration::{held_at_end, Registration};
use super::rules::Rule;
use wsktrace_driver::lifecycle::WSK_INFINITE_WAIT;

use crate::analysis::{EventRef, TraceEvent};
use crate::analysis::{EventSink, LostEvents, TraceContext};

impl BalanceChecker {
    fn on_register(&mut self, ev: &TraceEvent, id: u32, status: NtStatus) {
        if !status.is_success() {
            return;
        }
        let client = self.client_for(ev.tid);
        self.fallback_seen(&client);
        if self.open.contains_key(&id) {
            // The id is reused while we still think it open: the trace missed the
            // deregistration (lost events) or the driver reused ids.
            self.close(id);
        }
        let instance = self.new_instance();
        let mut reg = Registration::new(id, instance, client, ev.ts_ns, true);
        if self.ctx.lossy() {
            reg.lost.push(header_loss(&self.ctx));
        }
        self.open.insert(id, reg);
    }

    fn on_capture_start(&mut self, ev: &TraceEvent, id: u32, cap: u32, timeout: u32, ctx: u8) {
        let long_wait_ms = self.config.long_wait_ms;
        let reg = self.lookup(id, ev);
        reg.attempts += 1;
        if let Some(dereg) = &reg.dereg_start {
            let events = vec![EventRef::of(dereg), EventRef::of(ev)];
            let closed = reg.dereg_stop.is_some();
            reg.finding(
                Rule::CaptureAfterDeregister,
                ev,
                Some(cap),
                format!(
                    "capture {cap} started after WskDeregister {} on registration {id}",
                    if closed { "completed" } else { "began" }
                ),
                events,
                None,
            );
        }
        if CallingContext::from_u8(ctx) == CallingContext::DriverEntry {
            if timeout == WSK_INFINITE_WAIT {
                reg.finding(
                    Rule::InfiniteWaitOnDriverEntryThread,
                    ev,
                    Some(cap),
                    format!("capture {cap} waits with WSK_INFINITE_WAIT on the DriverEntry thread"),
                    vec![EventRef::of(ev)],
                    None,
                );
            } else if timeout > long_wait_ms {
                reg.finding(
                    Rule::LongWaitOnDriverEntryThread,
                    ev,
                    Some(cap),
                    format!(
                        "capture {cap} waits up to {timeout} ms on the DriverEntry thread (threshold {long_wait_ms} ms)"
                    ),
                    vec![EventRef::of(ev)],
                    None,
                );
            }
        }
        reg.captures
            .insert(cap, Capture::new(CapState::Waiting, ev, id, cap));
    }

    fn on_capture_stop(&mut self, ev: &TraceEvent, id: u32, cap: u32, status: NtStatus) {
        let reg = self.lookup(id, ev);
        let state = if status.is_success() {
            CapState::Held
        } else {
            CapState::Failed(status)
        };
        match reg.captures.get_mut(&cap) {
            Some(c) => {
                c.state = state;
                c.record(ev);
            }
            None => {
                reg.attempts += 1;
                reg.captures.insert(cap, Capture::new(state, ev, id, cap));
            }
        }
        let nointerface = status == NtStatus::NOINTERFACE;
        if nointerface {
            reg.nointerface = Some((ev.clone(), None));
        }
        self.nointerface_seen |= nointerface;
    }

    fn on_query(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        if let Some((_, query)) = &mut reg.nointerface {
            *query = Some(ev.clone());
        }
    }

    fn on_dispatch(&mut self, ev: &TraceEvent, id: u32, cap: u32, function: &str) {
        let reg = self.lookup(id, ev);
        let gap = reg.history_gap();
        let (rule, message, mut events) = match reg.captures.get(&cap) {
            Some(c) if c.state == CapState::Held => return,
            Some(c) if c.state == CapState::Released => (
                Rule::DispatchAfterRelease,
                format!("{function} called through capture {cap} after its release"),
                c.events(),
            ),
            Some(c) => (
                Rule::DispatchWithoutCapture,
                format!(
                    "{function} called through capture {cap}, which {}",
                    match c.state {
                        CapState::Waiting => "has not returned yet".to_string(),
                        CapState::Failed(s) => format!("failed ({s:?})"),
                        _ => unreachable!("held and released handled above"),
                    }
                ),
                c.events(),
            ),
            None => (
                Rule::DispatchWithoutCapture,
                format!("{function} called through capture {cap}, which was never captured"),
                Vec::new(),
            ),
        };
        let uncertain = match rule {
            Rule::DispatchWithoutCapture => gap,
            _ => None,
        };
        events.push(EventRef::of(ev));
        reg.finding(rule, ev, Some(cap), message, events, uncertain);
    }

    fn on_release(&mut self, ev: &TraceEvent, id: u32, cap: u32) {
        let reg = self.lookup(id, ev);
        let gap = reg.history_gap();
        let Some(c) = reg.captures.get_mut(&cap) else {
            reg.finding(
                Rule::ReleaseWithoutCapture,
                ev,
                Some(cap),
                format!("release of capture {cap}, which was never captured"),
                vec![EventRef::of(ev)],
                gap,
            );
            let mut c = Capture::new(CapState::Released, ev, id, cap);
            c.reported = true;
            reg.captures.insert(cap, c);
            return;
        };
        match c.state {
            CapState::Held => {
                c.state = CapState::Released;
                c.record(ev);
                if let Some(stop) = c.held_at_dereg_stop.take() {
                    let mut events = c.events();
                    let dereg_start = reg.dereg_start.clone();
                    events.extend(dereg_start.iter().map(EventRef::of));
                    events.push(EventRef::of(&stop));
                    events.sort_by_key(|e| e.ts_ns);
                    reg.finding(
                        Rule::DeregisterWithCapturesOutstanding,
                        &stop,
                        Some(cap),
                        format!(
                            "WskDeregister of registration {id} returned while capture {cap} was still held (released only afterwards)"
                        ),
                        events,
                        None,
                    );
                }
            }
            CapState::Released => {
                let mut events = c.events();
                events.push(EventRef::of(ev));
                reg.finding(
                    Rule::DoubleRelease,
                    ev,
                    Some(cap),
                    format!("capture {cap} released a second time"),
                    events,
                    None,
                );
            }
            CapState::Waiting | CapState::Failed(_) => {
                let what = match c.state {
                    CapState::Failed(s) => format!("failed ({s:?})"),
                    _ => "has not returned yet".to_string(),
                };
                let mut events = c.events();
                events.push(EventRef::of(ev));
                c.state = CapState::Released;
                c.record(ev);
                reg.finding(
                    Rule::ReleaseWithoutCapture,
                    ev,
                    Some(cap),
                    format!("release of capture {cap}, which {what}"),
                    events,
                    None,
                );
            }
        }
    }

    fn on_dereg_start(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        if reg.dereg_start.is_some() {
            return;
        }
        reg.dereg_start = Some(ev.clone());
        for sock in reg.sockets.not_closing() {
            let created = reg
                .sockets
                .open_socket(sock)
                .map(|s| EventRef::of(&s.created));
            let mut events: Vec<EventRef> = created.into_iter().collect();
            events.push(EventRef::of(ev));
            reg.socket_finding(
                Rule::SocketOpenAtDeregister,
                ev,
                sock,
                format!(
                    "WskDeregister of registration {id} began with socket {sock} open (it waits for that socket's close)"
                ),
                events,
            );
        }
    }

    fn on_socket_created(&mut self, ev: &TraceEvent, id: u32, sock: u32) {
        self.lookup(id, ev).sockets.created(sock, ev);
    }

    /// A call on a socket (`call` as the trace names it): a violation once its close began.
    /// Returns whether the socket is known and its close had not begun.
    fn on_socket_call(&mut self, ev: &TraceEvent, id: u32, sock: u32, call: &str) -> bool {
        let reg = self.lookup(id, ev);
        let Some(socket) = reg.sockets.get_mut(sock) else {
            return false;
        };
        if socket.close_start.is_none() {
            return true;
        }
        let mut events: Vec<EventRef> = socket.close_events().map(EventRef::of).collect();
        events.push(EventRef::of(ev));
        reg.socket_finding(
            Rule::SocketCallAfterClose,
            ev,
            sock,
            format!("{call} on socket {sock} after its WskCloseSocket"),
            events,
        );
        false
    }

    fn on_close_start(&mut self, ev: &TraceEvent, id: u32, sock: u32) {
        if self.on_socket_call(ev, id, sock, "WskCloseSocket") {
            let reg = self.lookup(id, ev);
            if let Some(socket) = reg.sockets.get_mut(sock) {
                socket.close_start = Some(ev.clone());
            }
        }
    }

    fn on_close_stop(&mut self, ev: &TraceEvent, id: u32, sock: u32) {
        self.lookup(id, ev).sockets.close_returned(sock, ev);
    }

    fn on_accept_stop(&mut self, ev: &TraceEvent, id: u32, sock: u32) {
        let reg = self.lookup(id, ev);
        let Some(socket) = reg.sockets.get_mut(sock) else {
            return;
        };
        if socket.close_stop.is_none() {
            return;
        }
        let mut events: Vec<EventRef> = socket.close_events().map(EventRef::of).collect();
        events.push(EventRef::of(ev));
        reg.socket_finding(
            Rule::AcceptAfterClose,
            ev,
            sock,
            format!("an accept on socket {sock} completed after the socket's close returned"),
            events,
        );
    }

    fn on_dereg_stop(&mut self, ev: &TraceEvent, id: u32) {
        let reg = self.lookup(id, ev);
        reg.dereg_stop = Some(ev.clone());
        // Captures still held: a release may still follow (then the deregister returned too
        // early), or never (then the capture was never released); decided later.
        for c in reg.captures.values_mut() {
            if c.state == CapState::Held && !c.reported {
                c.held_at_dereg_stop = Some(Box::new(ev.clone()));
            }
        }
        if self.open.get(&id).is_some_and(|r| r.dereg_stop.is_some()) {
            self.close(id);
        }
    }

    fn on_unload(&mut self, ev: &TraceEvent) {
        // The unloading driver is the client of the last DriverEntry (one provider instance
        // per driver): every open registration of that client ends here. The event does not
        // name its driver: with several clients in the trace it is not attributed at all
        // (their registrations stay open, so inconclusive, rather than wrongly ended).
        if self.clients_seen.len() > 1 {
            return;
        }
        let client = self.last_client.clone();
        let ids: Vec<u32> = self
            .open
            .values()
            .filter(|r| r.client == client || client.is_none())
            .map(|r| r.id)
            .collect();
        for id in ids {
            let reg = self.open.get_mut(&id).expect("listed");
            reg.unload = Some(ev.clone());
            reg.last_ts = ev.ts_ns;
            held_at_end(reg, ev, false);
            if reg.dereg_start.is_none() {
                reg.finding(
                    Rule::UnloadWithoutDeregister,
                    ev,
                    None,
                    format!("driver unloaded while registration {id} was never deregistered"),
                    vec![EventRef::of(ev)],
                    None,
                );
            }
            self.close(id);
        }
    }
}

impl EventSink for BalanceChecker {
    fn begin(&mut self, ctx: &TraceContext) {
        self.ctx = ctx.clone();
        if ctx.lossy() {
            self.lost.push(header_loss(ctx));
        }
    }

    fn event(&mut self, ev: &TraceEvent) {
        self.events += 1;
        match &ev.event {
            WskEvent::DriverEntryStart { client_name } => {
                let name: Arc<str> = Arc::from(client_name.as_str());
                self.driver_entry.insert(ev.tid, name.clone());
                if !self.clients_seen.contains(&name) {
                    self.clients_seen.push(name.clone());
                }
                self.last_client = Some(name);
            }
            WskEvent::DriverEntryStop { .. } => {
                self.driver_entry.remove(&ev.tid);
            }
            WskEvent::WskRegister {
                registration_id,
                status,
                ..
            } => self.on_register(ev, *registration_id, *status),
            WskEvent::CaptureProviderNpiStart {
                registration_id,
                capture_id,
                wait_timeout_ms,
                calling_context,
            } => self.on_capture_start(
                ev,
                *registration_id,
                *capture_id,
                *wait_timeout_ms,
                *calling_context,
            ),
            WskEvent::CaptureProviderNpiStop {
                registration_id,
                capture_id,
                status,
                ..
            } => self.on_capture_stop(ev, *registration_id, *capture_id, *status),
            WskEvent::QueryProviderCharacteristics {
                registration_id, ..
            } => self.on_query(ev, *registration_id),
            WskEvent::DispatchCall {
                registration_id,
                capture_id,
                function,
                ..
            } => self.on_dispatch(ev, *registration_id, *capture_id, function),
            WskEvent::ReleaseProviderNpi {
                registration_id,
                capture_id,
                ..
            } => self.on_release(ev, *registration_id, *capture_id),
            WskEvent::WskDeregisterStart {
                registration_id, ..
            } => self.on_dereg_start(ev, *registration_id),
            WskEvent::WskDeregisterStop {
                registration_id, ..
            } => self.on_dereg_stop(ev, *registration_id),
            WskEvent::DriverUnloadStart {} => {}
            WskEvent::DriverUnloadStop { .. } => self.on_unload(ev),
            WskEvent::SocketCreated {
                registration_id,
                socket_id,
                ..
            } => self.on_socket_created(ev, *registration_id, *socket_id),
            WskEvent::SocketBind {
                registration_id,
                socket_id,
                ..
            } => {
                self.on_socket_call(ev, *registration_id, *socket_id, "WskBind");
            }
            WskEvent::AcceptStart {
                registration_id,
                socket_id,
            } => {
                self.on_socket_call(ev, *registration_id, *socket_id, "WskAccept");
            }
            WskEvent::AcceptStop {
                registration_id,
                socket_id,
                ..
            } => self.on_accept_stop(ev, *registration_id, *socket_id),
            WskEvent::CloseSocketStart {
                registration_id,
                socket_id,
            } => self.on_close_start(ev, *registration_id, *socket_id),
            WskEvent::CloseSocketStop {
                registration_id,
                socket_id,
                ..
            } => self.on_close_stop(ev, *registration_id, *socket_id),
            // A refused capture calls nothing: no rule to check.
            WskEvent::CaptureRefused { .. } => {}
        }
    }

    fn lost(&mut self, lost: &LostEvents) {
        let what = if lost.count > 0 {
            format!("{} event(s) lost ({})", lost.count, lost.what)
        } else {
            format!("events lost ({})", lost.what)
        };
        if !self.lost.contains(&what) {
            self.lost.push(what.clone());
        }
        for reg in self.open.values_mut() {
            if !reg.lost.contains(&what) {
                reg.lost.push(what.clone());
            }
        }
    }

    fn finish(&mut self, end_ns: u64) {
        self.end_ns = end_ns;
        // Registrations still open: the trace ended first.
        let mut ids: Vec<u32> = self.open.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let mut reg = self.open.remove(&id).expect("listed");
            if reg.dereg_stop.is_none() {
                if let Some(dereg) = reg.dereg_start.clone() {
                    held_at_end(&mut reg, &dereg, true);
                }
            }
            self.recent.push_back(reg);
        }
        while let Some(reg) = self.recent.pop_front() {
            self.retire(reg);
        }
        for reg in std::mem::take(&mut self.awaiting_fallback) {
            self.finalize(Box::new(reg));
        }
    }
}
