//! The stand-in's object manager: handles, referenced objects, the registry, allocated IRPs
//! and the rule violations the tests check for.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::dispatcher::THREAD_OBJECT;
use super::_DISPATCHER_HEADER;

/// A thread object (`ETHREAD`): its dispatcher header is signalled when the thread ends.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct ThreadObject {
    pub(crate) header: _DISPATCHER_HEADER,
}

// SAFETY: 1. Threads share the object only through its header's atomic `SignalState` and the
//            dispatcher lock; `Type` is written once, before the object is shared, and the
//            header's `WaitListHead` pointers stay `NULL` and unused.
unsafe impl Send for ThreadObject {}
// SAFETY: 1. As for `Send`.
unsafe impl Sync for ThreadObject {}

impl ThreadObject {
    pub(crate) fn new() -> Arc<ThreadObject> {
        Arc::new(ThreadObject {
            header: _DISPATCHER_HEADER {
                Type: THREAD_OBJECT,
                ..Default::default()
            },
        })
    }
}

/// What a handle refers to.
#[derive(Debug, Clone)]
pub(crate) enum HandleTarget {
    /// An open registry key (its full path, as opened).
    Key(String),
    /// A thread.
    Thread(Arc<ThreadObject>),
}

/// A registry value: its `REG_*` type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegValue {
    pub(crate) kind: u32,
    pub(crate) data: Vec<u8>,
}

/// All of the stand-in's global state but the dispatcher lock.
#[derive(Default)]
pub(crate) struct State {
    next_handle: usize,
    pub(crate) handles: BTreeMap<usize, HandleTarget>,
    /// Object pointers handed out by `ObReferenceObjectByHandle`, one entry per reference.
    pub(crate) references: Vec<usize>,
    /// Registry: lower-cased key path -> lower-cased value name -> value.
    pub(crate) registry: BTreeMap<String, BTreeMap<String, RegValue>>,
    /// IRPs allocated and not freed.
    pub(crate) irps: HashSet<usize>,
    /// IRPs allocated since the state was created (never decreases).
    pub(crate) irps_allocated: u64,
    /// Rule violations seen (a test asserts there are none).
    pub(crate) violations: Vec<String>,
    /// Fault knobs.
    pub(crate) faults: Faults,
    /// Threads started by `PsCreateSystemThread` and not yet finished.
    pub(crate) threads_running: usize,
    /// WSK registrations registered and not deregistered.
    pub(crate) registrations_alive: usize,
    /// WSK sockets created and not closed.
    pub(crate) sockets_alive: usize,
    /// Device objects `IoCreateDevice` made and `IoDeleteDevice` has not deleted: the address
    /// of each, with its name and its driver object's address.
    pub(crate) devices: BTreeMap<usize, (String, usize)>,
    /// Symbolic links: link name (lower case) -> device name.
    pub(crate) symbolic_links: BTreeMap<String, String>,
    /// IRPs completed with `IofCompleteRequest`, and their status, until the I/O manager's
    /// side (the test) looks.
    pub(crate) completed: BTreeMap<usize, i32>,
}

/// Fault injection for the error-path tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct Faults {
    /// `PsCreateSystemThread` fails with `STATUS_INSUFFICIENT_RESOURCES`.
    pub fail_thread_creation: bool,
    /// `ObReferenceObjectByHandle` fails with `STATUS_OBJECT_TYPE_MISMATCH`.
    pub fail_object_reference: bool,
    /// `IoAllocateIrp` returns `NULL` once this many IRPs have been allocated (counting
    /// from when it was set).
    pub irp_allocations_left: Option<u32>,
    /// The simulated provider completes `WskSocket`, `WskBind` and `WskCloseSocket` on the
    /// calling thread instead of returning `STATUS_PENDING` and completing them on another
    /// (which it does by default, as a provider may).
    pub complete_inline: bool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Runs `f` on the global state.
pub(crate) fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut guard: MutexGuard<'_, Option<State>> =
        STATE.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(State::default))
}

impl State {
    /// A new handle for `target` (values 4, 8, 12, ... like kernel handles; never `NULL`).
    pub(crate) fn insert_handle(&mut self, target: HandleTarget) -> usize {
        self.next_handle += 4;
        let handle = self.next_handle;
        self.handles.insert(handle, target);
        handle
    }

    pub(crate) fn violation(&mut self, what: String) {
        self.violations.push(what);
    }
}

/// Registry paths compare case-insensitively, like the configuration manager's.
pub(crate) fn key_name(path: &str) -> String {
    path.trim_end_matches('\\').to_lowercase()
}
