//! The rules, their ids and severities.

use serde::Serialize;

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A successful capture never released before the registration's end.
    CaptureNotReleased,
    /// A release with no successful capture of that id.
    ReleaseWithoutCapture,
    /// A capture released twice.
    DoubleRelease,
    /// A dispatch call through a released capture.
    DispatchAfterRelease,
    /// A dispatch call through a capture that never succeeded.
    DispatchWithoutCapture,
    /// A capture started after `WskDeregister` began.
    CaptureAfterDeregister,
    /// `WskDeregister` returned while captures were held.
    DeregisterWithCapturesOutstanding,
    /// `WSK_INFINITE_WAIT` on the DriverEntry thread.
    InfiniteWaitOnDriverEntryThread,
    /// A timeout above the threshold on the DriverEntry thread.
    LongWaitOnDriverEntryThread,
    /// `STATUS_NOINTERFACE` and no registration with another version afterwards.
    NointerfaceWithoutFallback,
    /// The driver unloaded while the registration was never deregistered.
    UnloadWithoutDeregister,
    /// `WskDeregister` began while a socket of the registration was open (not closing).
    SocketOpenAtDeregister,
    /// A socket call (bind, accept, close) after the socket's `WskCloseSocket`.
    SocketCallAfterClose,
    /// An accept on a listening socket completed after that socket's close returned.
    AcceptAfterClose,
}

impl Rule {
    /// Every rule, in documentation order.
    pub const ALL: [Rule; 14] = [
        Rule::CaptureNotReleased,
        Rule::ReleaseWithoutCapture,
        Rule::DoubleRelease,
        Rule::DispatchAfterRelease,
        Rule::DispatchWithoutCapture,
        Rule::CaptureAfterDeregister,
        Rule::DeregisterWithCapturesOutstanding,
        Rule::InfiniteWaitOnDriverEntryThread,
        Rule::LongWaitOnDriverEntryThread,
        Rule::NointerfaceWithoutFallback,
        Rule::UnloadWithoutDeregister,
        Rule::SocketOpenAtDeregister,
        Rule::SocketCallAfterClose,
        Rule::AcceptAfterClose,
    ];

    /// The kebab-case id used in every output format.
    pub fn id(self) -> &'static str {
        match self {
            Rule::CaptureNotReleased => "capture-not-released",
            Rule::ReleaseWithoutCapture => "release-without-capture",
            Rule::DoubleRelease => "double-release",
            Rule::DispatchAfterRelease => "dispatch-after-release",
            Rule::DispatchWithoutCapture => "dispatch-without-capture",
            Rule::CaptureAfterDeregister => "capture-after-deregister",
            Rule::DeregisterWithCapturesOutstanding => "deregister-with-captures-outstanding",
            Rule::InfiniteWaitOnDriverEntryThread => "infinite-wait-on-driverentry-thread",
            Rule::LongWaitOnDriverEntryThread => "long-wait-on-driverentry-thread",
            Rule::NointerfaceWithoutFallback => "nointerface-without-fallback",
            Rule::UnloadWithoutDeregister => "unload-without-deregister",
            Rule::SocketOpenAtDeregister => "socket-open-at-deregister",
            Rule::SocketCallAfterClose => "socket-call-after-close",
            Rule::AcceptAfterClose => "accept-after-close",
        }
    }

    /// One sentence describing the rule (SARIF rule text, HTML legend).
    pub fn description(self) -> &'static str {
        match self {
            Rule::CaptureNotReleased => {
                "Every successful WskCaptureProviderNPI needs exactly one WskReleaseProviderNPI."
            }
            Rule::ReleaseWithoutCapture => {
                "WskReleaseProviderNPI may only release a successfully captured NPI."
            }
            Rule::DoubleRelease => "A captured NPI is released exactly once.",
            Rule::DispatchAfterRelease => {
                "Nothing in WSK_PROVIDER_DISPATCH may be called after the NPI's release."
            }
            Rule::DispatchWithoutCapture => {
                "Provider dispatch calls need a successfully captured NPI."
            }
            Rule::CaptureAfterDeregister => {
                "No WskCaptureProviderNPI after WskDeregister began (other than those it cancels)."
            }
            Rule::DeregisterWithCapturesOutstanding => {
                "WskDeregister returns only once every captured NPI has been released."
            }
            Rule::InfiniteWaitOnDriverEntryThread => {
                "DriverEntry must not call WskCaptureProviderNPI with WSK_INFINITE_WAIT."
            }
            Rule::LongWaitOnDriverEntryThread => {
                "DriverEntry must not wait long for the WSK subsystem; wait on a worker thread."
            }
            Rule::NointerfaceWithoutFallback => {
                "On STATUS_NOINTERFACE, query the supported versions and register again."
            }
            Rule::UnloadWithoutDeregister => "A WSK client deregisters before it unloads.",
            Rule::SocketOpenAtDeregister => {
                "Close every socket before WskDeregister, which otherwise waits for the close."
            }
            Rule::SocketCallAfterClose => {
                "No call on a socket once WskCloseSocket has been called on it."
            }
            Rule::AcceptAfterClose => {
                "WskCloseSocket completes a listening socket's pending accepts before it returns."
            }
        }
    }

    /// Violation or warning, when the evidence is complete.
    pub fn severity(self) -> Severity {
        match self {
            Rule::InfiniteWaitOnDriverEntryThread
            | Rule::LongWaitOnDriverEntryThread
            | Rule::NointerfaceWithoutFallback
            | Rule::UnloadWithoutDeregister => Severity::Warning,
            _ => Severity::Violation,
        }
    }
}

/// How sure a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A rule is broken, and the trace shows all of it.
    Violation,
    /// Would be a violation, but the trace misses something that could explain it.
    Inconclusive,
    /// Allowed, but not recommended.
    Warning,
}
