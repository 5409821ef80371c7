//! Hand-built event sequences for the analyses' unit tests.

use super::{PnpDriverInit, TraceEvent};
use wsktrace_driver::ntstatus::NtStatus;
use wsktrace_driver::schema::WskEvent;

pub const MS: u64 = 1_000_000;

/// A trace under construction; events are appended in timestamp order.
#[derive(Default)]
pub struct Seq {
    pub events: Vec<TraceEvent>,
    pub pnp: Vec<PnpDriverInit>,
    pub now: u64,
}

impl Seq {
    pub fn new() -> Seq {
        Seq::default()
    }
    /// Moves the clock forward.
    pub fn wait(&mut self, ns: u64) -> &mut Self {
        self.now += ns;
        self
    }
    pub fn push(&mut self, tid: u32, event: WskEvent) -> &mut Self {
        self.now += 1_000;
        self.events.push(TraceEvent {
            ts_ns: self.now,
            tid,
            activity: [0; 16],
            event,
        });
        self
    }
    pub fn pnp(&mut self, tid: u32, driver: &str, start: bool) -> &mut Self {
        self.now += 1_000;
        self.pnp.push(PnpDriverInit {
            ts_ns: self.now,
            tid,
            driver: driver.to_string(),
            start,
        });
        self
    }
    pub fn driver_entry(&mut self, tid: u32, name: &str) -> &mut Self {
        self.push(
            tid,
            WskEvent::DriverEntryStart {
                client_name: name.to_string(),
            },
        )
    }
    pub fn driver_entry_stop(&mut self, tid: u32, name: &str, duration_ns: u64) -> &mut Self {
        self.push(
            tid,
            WskEvent::DriverEntryStop {
                client_name: name.to_string(),
                status: NtStatus::SUCCESS,
                duration_ns,
            },
        )
    }
    pub fn register(&mut self, tid: u32, reg: u32) -> &mut Self {
        self.register_status(tid, reg, 0x100, NtStatus::SUCCESS)
    }
    pub fn register_status(
        &mut self,
        tid: u32,
        reg: u32,
        npi_version: u16,
        status: NtStatus,
    ) -> &mut Self {
        self.push(
            tid,
            WskEvent::WskRegister {
                registration_id: reg,
                npi_version,
                status,
                duration_ns: 1000,
            },
        )
    }
    pub fn cap_start(&mut self, tid: u32, reg: u32, cap: u32, timeout: u32, ctx: u8) -> &mut Self {
        self.push(
            tid,
            WskEvent::CaptureProviderNpiStart {
                registration_id: reg,
                capture_id: cap,
                wait_timeout_ms: timeout,
                calling_context: ctx,
            },
        )
    }
    pub fn cap_stop(
        &mut self,
        tid: u32,
        reg: u32,
        cap: u32,
        status: NtStatus,
        wait: u64,
    ) -> &mut Self {
        self.push(
            tid,
            WskEvent::CaptureProviderNpiStop {
                registration_id: reg,
                capture_id: cap,
                status,
                wait_ns: wait,
            },
        )
    }
    /// Capture start, `wait_ns` of waiting, capture stop with the wait in its field.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        &mut self,
        tid: u32,
        reg: u32,
        cap: u32,
        timeout: u32,
        ctx: u8,
        wait_ns: u64,
        status: NtStatus,
    ) -> &mut Self {
        self.cap_start(tid, reg, cap, timeout, ctx);
        // push() adds 1 µs: the stop event lands 1 µs after the wait ended.
        self.now += wait_ns;
        self.cap_stop(tid, reg, cap, status, wait_ns)
    }
    pub fn dispatch(&mut self, tid: u32, reg: u32, cap: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::DispatchCall {
                registration_id: reg,
                capture_id: cap,
                function: "WskSocket".to_string(),
                status: NtStatus::SUCCESS,
                duration_ns: 500,
            },
        )
    }
    pub fn release(&mut self, tid: u32, reg: u32, cap: u32, held_ns: u64) -> &mut Self {
        self.push(
            tid,
            WskEvent::ReleaseProviderNpi {
                registration_id: reg,
                capture_id: cap,
                held_ns,
                dispatch_calls: 1,
                implicit: false,
            },
        )
    }
    pub fn query(&mut self, tid: u32, reg: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::QueryProviderCharacteristics {
                registration_id: reg,
                status: NtStatus::SUCCESS,
                lowest_version: 0x100,
                highest_version: 0x100,
            },
        )
    }
    pub fn dereg_start(&mut self, tid: u32, reg: u32, outstanding: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::WskDeregisterStart {
                registration_id: reg,
                captures_outstanding: outstanding,
            },
        )
    }
    pub fn dereg_stop(&mut self, tid: u32, reg: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::WskDeregisterStop {
                registration_id: reg,
                wait_ns: 0,
            },
        )
    }
    pub fn unload(&mut self, tid: u32) -> &mut Self {
        self.push(tid, WskEvent::DriverUnloadStart {});
        self.push(tid, WskEvent::DriverUnloadStop { duration_ns: 2000 })
    }
    pub fn refused(&mut self, tid: u32, reg: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::CaptureRefused {
                registration_id: reg,
                wait_timeout_ms: 0,
                calling_context: 2,
                status: NtStatus::INVALID_DEVICE_STATE,
            },
        )
    }
    /// `SocketCreated` of socket `sock`: listening (`cap` its capture) or accepted (`cap` 0).
    pub fn socket(&mut self, tid: u32, reg: u32, cap: u32, sock: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::SocketCreated {
                registration_id: reg,
                capture_id: cap,
                socket_id: sock,
                socket_kind: u8::from(cap == 0),
                address_family: 2,
            },
        )
    }
    pub fn bind(&mut self, tid: u32, reg: u32, sock: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::SocketBind {
                registration_id: reg,
                socket_id: sock,
                address: "127.0.0.1".to_string(),
                port: 40123,
                status: NtStatus::SUCCESS,
                duration_ns: 300,
            },
        )
    }
    pub fn accept_start(&mut self, tid: u32, reg: u32, sock: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::AcceptStart {
                registration_id: reg,
                socket_id: sock,
            },
        )
    }
    /// `Accept` Stop on listening socket `sock`: `accepted` is the new socket's id (0: none,
    /// then `status` says why).
    pub fn accept_stop(
        &mut self,
        tid: u32,
        reg: u32,
        sock: u32,
        status: NtStatus,
        accepted: u32,
    ) -> &mut Self {
        let remote = if accepted == 0 { "" } else { "127.0.0.1" };
        self.push(
            tid,
            WskEvent::AcceptStop {
                registration_id: reg,
                socket_id: sock,
                status,
                accepted_socket_id: accepted,
                remote_address: remote.to_string(),
                remote_port: if accepted == 0 { 0 } else { 50001 },
                wait_ns: 700,
            },
        )
    }
    pub fn close_start(&mut self, tid: u32, reg: u32, sock: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::CloseSocketStart {
                registration_id: reg,
                socket_id: sock,
            },
        )
    }
    pub fn close_stop(&mut self, tid: u32, reg: u32, sock: u32) -> &mut Self {
        self.push(
            tid,
            WskEvent::CloseSocketStop {
                registration_id: reg,
                socket_id: sock,
                status: NtStatus::SUCCESS,
                duration_ns: 400,
            },
        )
    }
    /// `CloseSocket` Start and Stop of `sock`.
    pub fn close(&mut self, tid: u32, reg: u32, sock: u32) -> &mut Self {
        self.close_start(tid, reg, sock);
        self.close_stop(tid, reg, sock)
    }
    /// A listening socket's whole life, as the driver's accept loop records it: created
    /// through capture `cap` and bound; each of `connections` (socket ids) accepted and
    /// closed; the last accept armed, then cancelled by the socket's close.
    pub fn listener(
        &mut self,
        tid: u32,
        reg: u32,
        cap: u32,
        sock: u32,
        connections: &[u32],
    ) -> &mut Self {
        self.socket(tid, reg, cap, sock).bind(tid, reg, sock);
        for &c in connections {
            self.accept_start(tid, reg, sock)
                .accept_stop(tid, reg, sock, NtStatus::SUCCESS, c)
                .socket(tid, reg, 0, c)
                .close(tid, reg, c);
        }
        self.accept_start(tid, reg, sock);
        self.close_start(tid + 1, reg, sock)
            .accept_stop(tid, reg, sock, NtStatus::CANCELLED, 0)
            .close_stop(tid + 1, reg, sock)
    }
    /// A whole clean lifecycle: DriverEntry on `tid` that captures with a 100 ms timeout after
    /// `wait_ns`, creates a socket, releases, deregisters and unloads.
    pub fn clean(&mut self, tid: u32, reg: u32, cap: u32, wait_ns: u64) -> &mut Self {
        self.driver_entry(tid, "wskclient");
        self.register(tid, reg);
        self.capture(tid, reg, cap, 100, 0, wait_ns, NtStatus::SUCCESS);
        self.dispatch(tid, reg, cap);
        self.release(tid, reg, cap, 2000);
        self.driver_entry_stop(tid, "wskclient", wait_ns + 10_000);
        self.wait(MS);
        self.dereg_start(tid + 1, reg, 0);
        self.dereg_stop(tid + 1, reg);
        self.unload(tid + 1)
    }
}
