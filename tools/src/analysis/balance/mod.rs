//! Capture/release balance: a verdict per registration (and so per client and per file).
//!
//! The rules (DESIGN.md, "What the tools answer"):
//!
//! | rule | kind |
//! |---|---|
//! | a successful capture is never released, and the registration's end (deregister began, or the driver unloaded) was reached | violation |
//! | a release without a successful capture | violation |
//! | a second release of the same capture | violation |
//! | a dispatch call after the capture's release | violation |
//! | a dispatch call through a capture that never succeeded | violation |
//! | a capture started after `WskDeregister` began (the captures it cancelled are fine) | violation |
//! | `WskDeregister` completed while captures were still held | violation |
//! | an infinite wait, or a timeout above the threshold, on the DriverEntry thread | warning |
//! | `STATUS_NOINTERFACE` with no later registration by the same client | warning |
//! | the driver unloaded with the registration never deregistered | warning |
//! | `WskDeregister` began while a socket of the registration was open (not closing) | violation |
//! | a socket call (bind, accept, close) after the socket's `WskCloseSocket` began | violation |
//! | an accept on a listening socket completed after that socket's close returned | violation |
//!
//! Never a false violation: when the trace lost events during a registration, that
//! registration's violations become *inconclusive* findings and its verdict inconclusive. A
//! registration whose `WskRegister` is not in the trace (the trace started later) or whose
//! `WskDeregister` is not (the trace ended first) is inconclusive unless one of its violations
//! does not depend on the missing part (a double release seen whole is a double release).
//!
//! Memory: state is kept per open registration (its captures, its open sockets and its
//! last closed ones), plus a short queue of recently
//! closed ones (late events of a deregistration race still find them); finished verdicts are
//! kept only when they are not plain "ok" (or when [`BalanceConfig::keep_ok`] asks for every
//! one, for JUnit's one test case per registration).
//!
//! The pieces: [`rules`](Rule) (ids, descriptions, severities), the per-capture state
//! (`capture`), the per-socket state (`socket`), one registration and its verdict (`registration`), what each lifecycle event
//! does (`transitions`: where a new rule goes), the checker that holds registrations and
//! clients and is the [`EventSink`](crate::analysis::EventSink) (`checker`), and what it
//! returns ([`BalanceReport`]).

mod capture;
mod checker;
pub(crate) mod ids;
mod registration;
mod rules;
mod socket;
mod transitions;
mod verdict;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod socket_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) use checker::RECENT_CLOSED;
pub use checker::{BalanceChecker, BalanceConfig};
pub use rules::{Rule, Severity};
pub use verdict::{
    BalanceReport, ClientVerdict, Finding, RegistrationVerdict, Verdict, VerdictCounts,
};
