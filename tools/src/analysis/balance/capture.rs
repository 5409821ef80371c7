//! One capture's state and the events kept for its findings, and a registration's table of
//! captures.

use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;

use super::ids::IdMap;
use crate::analysis::{EventRef, TraceEvent};

/// Where a capture is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CapState {
    /// Start seen, stop not yet.
    Waiting,
    /// Succeeded, not yet released.
    Held,
    /// Returned an error.
    Failed(NtStatus),
    /// Released.
    Released,
}

/// A capture's Start, Stop or release event, kept compactly (24 bytes instead of a whole
/// event): its time, thread and the fields that are not the capture's ids; the event is
/// rebuilt only when a finding names it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    ts_ns: u64,
    tid: u32,
    /// `WaitNs` (Stop) or `HeldNs` (release).
    a: u64,
    /// `WaitTimeoutMs` (Start), `Status` (Stop) or `DispatchCalls` (release).
    b: u32,
    /// `CallingContext` (Start) or `Implicit` (release).
    c: u8,
}

impl Seen {
    fn of(ev: &TraceEvent) -> Seen {
        let (a, b, c) = match &ev.event {
            WskEvent::CaptureProviderNpiStart {
                wait_timeout_ms,
                calling_context,
                ..
            } => (0, *wait_timeout_ms, *calling_context),
            WskEvent::CaptureProviderNpiStop {
                status, wait_ns, ..
            } => (*wait_ns, status.to_u32(), 0),
            WskEvent::ReleaseProviderNpi {
                held_ns,
                dispatch_calls,
                implicit,
                ..
            } => (*held_ns, *dispatch_calls, u8::from(*implicit)),
            _ => (0, 0, 0),
        };
        Seen {
            ts_ns: ev.ts_ns,
            tid: ev.tid,
            a,
            b,
            c,
        }
    }

    fn event(self, event: WskEvent) -> TraceEvent {
        TraceEvent {
            ts_ns: self.ts_ns,
            tid: self.tid,
            activity: [0; 16],
            event,
        }
    }
}

/// One capture (by its id within a registration) and the events kept for its findings.
#[derive(Debug)]
pub(super) struct Capture {
    pub(super) state: CapState,
    pub(super) registration: u32,
    pub(super) capture: u32,
    start: Option<Seen>,
    stop: Option<Seen>,
    release: Option<Seen>,
    /// Reported already (never released): no second finding.
    pub(super) reported: bool,
    /// Still held when `WskDeregister` returned (that Stop event).
    pub(super) held_at_dereg_stop: Option<Box<TraceEvent>>,
}

impl Capture {
    pub(super) fn new(
        state: CapState,
        ev: &TraceEvent,
        registration: u32,
        capture: u32,
    ) -> Capture {
        let mut c = Capture {
            state,
            registration,
            capture,
            start: None,
            stop: None,
            release: None,
            reported: false,
            held_at_dereg_stop: None,
        };
        c.record(ev);
        c
    }

    /// Keeps `ev` in its slot.
    pub(super) fn record(&mut self, ev: &TraceEvent) {
        let seen = Some(Seen::of(ev));
        match ev.event {
            WskEvent::CaptureProviderNpiStart { .. } => self.start = seen,
            WskEvent::CaptureProviderNpiStop { .. } => self.stop = seen,
            WskEvent::ReleaseProviderNpi { .. } => self.release = seen,
            _ => {}
        }
    }

    pub(super) fn start_event(&self) -> Option<TraceEvent> {
        self.start.map(|s| {
            s.event(WskEvent::CaptureProviderNpiStart {
                registration_id: self.registration,
                capture_id: self.capture,
                wait_timeout_ms: s.b,
                calling_context: s.c,
            })
        })
    }

    pub(super) fn stop_event(&self) -> Option<TraceEvent> {
        self.stop.map(|s| {
            s.event(WskEvent::CaptureProviderNpiStop {
                registration_id: self.registration,
                capture_id: self.capture,
                status: NtStatus::from_u32(s.b),
                wait_ns: s.a,
            })
        })
    }

    pub(super) fn release_event(&self) -> Option<TraceEvent> {
        self.release.map(|s| {
            s.event(WskEvent::ReleaseProviderNpi {
                registration_id: self.registration,
                capture_id: self.capture,
                held_ns: s.a,
                dispatch_calls: s.b,
                implicit: s.c != 0,
            })
        })
    }

    pub(super) fn events(&self) -> Vec<EventRef> {
        [self.start_event(), self.stop_event(), self.release_event()]
            .iter()
            .flatten()
            .map(EventRef::of)
            .collect()
    }
}

/// The captures of one registration: a short list (most registrations capture once or
/// twice), turned into a map once it grows past [`CaptureTable::LIST_MAX`].
#[derive(Debug, Default)]
pub(super) struct CaptureTable {
    list: Vec<Capture>,
    map: IdMap<Capture>,
}

impl CaptureTable {
    const LIST_MAX: usize = 16;

    pub(super) fn get(&self, id: &u32) -> Option<&Capture> {
        if self.map.is_empty() {
            self.list.iter().find(|c| c.capture == *id)
        } else {
            self.map.get(id)
        }
    }

    pub(super) fn get_mut(&mut self, id: &u32) -> Option<&mut Capture> {
        if self.map.is_empty() {
            self.list.iter_mut().find(|c| c.capture == *id)
        } else {
            self.map.get_mut(id)
        }
    }

    pub(super) fn insert(&mut self, id: u32, c: Capture) {
        if self.map.is_empty() {
            if let Some(x) = self.list.iter_mut().find(|x| x.capture == id) {
                *x = c;
                return;
            }
            if self.list.len() < Self::LIST_MAX {
                self.list.push(c);
                return;
            }
            self.map.extend(self.list.drain(..).map(|c| (c.capture, c)));
        }
        self.map.insert(id, c);
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&u32, &Capture)> {
        self.list
            .iter()
            .map(|c| (&c.capture, c))
            .chain(self.map.iter())
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Capture> {
        self.list.iter_mut().chain(self.map.values_mut())
    }
}
