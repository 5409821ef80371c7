//! What the lifecycle core needs from its platform: the WSK registration functions and the
//! provider dispatch ([`WskApi`]), a clock ([`Clock`]) and a way to start the worker thread
//! ([`WorkerSpawner`]). On Windows the kernel glue implements them over NETIO's WSK imports,
//! `KeQueryPerformanceCounter` and `PsCreateSystemThread`; on other hosts the simulator in
//! [`crate::sim`] does.

use alloc::boxed::Box;

use crate::ntstatus::NtStatus;

// The WSK values of `wsk.h` that the core, the kernel glue (`crate::wsk_abi` re-exports them)
// and the tools share: defined here, once, because this module builds on every host.

/// `MAKE_WSK_VERSION(Mj, Mn)`: `((USHORT)((Mj) << 8) | (USHORT)((Mn) & 0xff))` (wsk.h).
pub const fn make_wsk_version(major: u8, minor: u8) -> u16 {
    ((major as u16) << 8) | minor as u16
}

/// `WSK_MAJOR_VERSION(V)`: `((UCHAR)((V) >> 8))` (wsk.h).
pub const fn wsk_major_version(version: u16) -> u8 {
    (version >> 8) as u8
}

/// `WSK_MINOR_VERSION(V)`: `((UCHAR)(V))` (wsk.h).
pub const fn wsk_minor_version(version: u16) -> u8 {
    version as u8
}

/// `WSK_NO_WAIT` (wsk.h): `WskCaptureProviderNPI` returns at once.
pub const WSK_NO_WAIT: u32 = 0;
/// `WSK_INFINITE_WAIT` (wsk.h): `WskCaptureProviderNPI` waits until the subsystem is ready.
pub const WSK_INFINITE_WAIT: u32 = 0xFFFF_FFFF;

/// `AF_INET` (ws2def.h).
pub const AF_INET: u16 = 2;
/// `AF_INET6` (ws2def.h).
pub const AF_INET6: u16 = 23;

/// The `WaitTimeout` argument of `WskCaptureProviderNPI`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitTimeout {
    /// `WSK_NO_WAIT`: return at once.
    NoWait,
    /// Wait at most this many milliseconds (never 0 or 0xFFFFFFFF: use [`WaitTimeout::from_ms`]).
    Millis(u32),
    /// `WSK_INFINITE_WAIT`: wait until the WSK subsystem is ready.
    Infinite,
}

impl WaitTimeout {
    /// The timeout whose `WaitTimeout` value is `ms`.
    pub const fn from_ms(ms: u32) -> WaitTimeout {
        match ms {
            WSK_NO_WAIT => WaitTimeout::NoWait,
            WSK_INFINITE_WAIT => WaitTimeout::Infinite,
            ms => WaitTimeout::Millis(ms),
        }
    }

    /// The `WaitTimeout` value passed to `WskCaptureProviderNPI`.
    pub const fn as_ms(self) -> u32 {
        match self {
            WaitTimeout::NoWait => WSK_NO_WAIT,
            WaitTimeout::Millis(ms) => ms,
            WaitTimeout::Infinite => WSK_INFINITE_WAIT,
        }
    }
}

/// `WSK_PROVIDER_CHARACTERISTICS`: the NPI versions the WSK subsystem supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderCharacteristics {
    /// `HighestVersion`.
    pub highest_version: u16,
    /// `LowestVersion`.
    pub lowest_version: u16,
}

impl ProviderCharacteristics {
    /// Whether `version` is in the supported range.
    pub const fn supports(&self, version: u16) -> bool {
        self.lowest_version <= version && version <= self.highest_version
    }
}

/// The listening socket the driver sets up with a captured NPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenParams {
    /// [`AF_INET`] or [`AF_INET6`].
    pub address_family: u16,
    /// Local port to bind (host order); 0 = any.
    pub port: u16,
}

impl Default for ListenParams {
    fn default() -> Self {
        ListenParams {
            address_family: AF_INET,
            port: 0,
        }
    }
}

/// The WSK registration functions and the provider dispatch calls the driver makes.
///
/// Implementors keep every WSK structure resident: the `WSK_CLIENT_DISPATCH` handed to
/// `WskRegister` (its version is whatever negotiation chose) and the `WSK_REGISTRATION` live
/// behind a heap pointer inside [`WskApi::Registration`] (e.g. one `Box` holding both), so
/// moving the handle never moves them, and they stay valid until [`WskApi::deregister`] has
/// returned. The core keeps the handle alive at least that long: it drops a registration only
/// after its deregistration.
pub trait WskApi: Send + Sync + 'static {
    /// A registration (owns the resident `WSK_REGISTRATION`).
    type Registration: Send + Sync;
    /// A captured `WSK_PROVIDER_NPI` (client object and provider dispatch).
    type ProviderNpi: Send;
    /// A socket created through the provider dispatch.
    type Socket: Send;

    /// `WskRegister` with a client dispatch of NPI version `version`.
    fn register(&self, version: u16) -> Result<Self::Registration, NtStatus>;

    /// `WskCaptureProviderNPI(registration, wait_timeout_ms, &npi)`. Blocks as documented;
    /// fails with `STATUS_DEVICE_NOT_READY` (not ready in time, or cancelled by a
    /// deregister on another thread) or `STATUS_NOINTERFACE` (version not supported).
    fn capture(
        &self,
        registration: &Self::Registration,
        wait_timeout_ms: u32,
    ) -> Result<Self::ProviderNpi, NtStatus>;

    /// `WskReleaseProviderNPI(registration)`: releases one captured NPI.
    fn release(&self, registration: &Self::Registration);

    /// `WskQueryProviderCharacteristics`.
    fn query_characteristics(
        &self,
        registration: &Self::Registration,
    ) -> Result<ProviderCharacteristics, NtStatus>;

    /// `WskDeregister`: cancels waiting captures and blocks until every captured NPI is
    /// released and every socket closed.
    fn deregister(&self, registration: &Self::Registration);

    /// `WskSocket` through the provider dispatch: a listening socket
    /// (`WSK_FLAG_LISTEN_SOCKET`) of the given family, the IRP completed.
    fn socket_listen(
        &self,
        npi: &Self::ProviderNpi,
        params: &ListenParams,
    ) -> Result<Self::Socket, NtStatus>;

    /// `WskBind` of the listening socket to the wildcard address and `params.port`.
    fn bind(&self, socket: &Self::Socket, params: &ListenParams) -> NtStatus;

    /// `WskCloseSocket`.
    fn close_socket(&self, socket: Self::Socket) -> NtStatus;
}

/// A monotonic clock in nanoseconds (QPC-based on Windows).
pub trait Clock: Send + Sync + 'static {
    /// Nanoseconds since an arbitrary fixed epoch.
    fn now_ns(&self) -> u64;
}

/// Starts and joins the driver's worker thread (`PsCreateSystemThread` and a wait on the
/// thread object on Windows, `std::thread` on hosts).
pub trait WorkerSpawner: Send + Sync + 'static {
    /// A started worker.
    type Handle: Send;
    /// Starts `work` on a new thread.
    fn spawn(&self, work: Box<dyn FnOnce() + Send + 'static>) -> Result<Self::Handle, NtStatus>;
    /// Waits until the worker has finished.
    fn join(&self, handle: Self::Handle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros() {
        assert_eq!(make_wsk_version(1, 0), 0x0100);
        assert_eq!(make_wsk_version(1, 2), 0x0102);
        assert_eq!(wsk_major_version(0x0102), 1);
        assert_eq!(wsk_minor_version(0x0102), 2);
        assert_eq!(WaitTimeout::from_ms(WSK_NO_WAIT), WaitTimeout::NoWait);
        assert_eq!(WaitTimeout::from_ms(u32::MAX), WaitTimeout::Infinite);
        assert_eq!(WaitTimeout::Millis(250).as_ms(), 250);
    }
}
