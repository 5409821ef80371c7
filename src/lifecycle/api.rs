//! What the lifecycle core needs from its platform: the WSK registration functions, the
//! provider dispatch and the socket calls ([`WskApi`]), a clock ([`Clock`]), a way to start
//! the worker thread ([`WorkerSpawner`]) and a lock and an event ([`Locking`]). On Windows
//! the kernel glue implements them over NETIO's WSK imports, `KeQueryPerformanceCounter`,
//! `PsCreateSystemThread` and kernel locks; on other hosts the simulator in [`crate::sim`]
//! does.

use alloc::boxed::Box;
pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

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

/// The listening socket the driver sets up with a captured NPI: the local address and port
/// `WskBind` binds it to. Read from the `ListenAddress` / `ListenPort` parameters
/// ([`ListenParams::from_config`]); by default the IPv4 loopback address and
/// [`ListenParams::DEFAULT_PORT`]: a kernel listener on every interface is an attack surface,
/// so the wildcard address is used only when configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenParams {
    /// The local address (`127.0.0.1` by default).
    pub address: IpAddr,
    /// The local port, host order (never 0: 0 in the configuration means "do not listen").
    pub port: u16,
}

impl ListenParams {
    /// The port listened on when `ListenPort` is absent.
    pub const DEFAULT_PORT: u16 = 40123;
    /// The address bound when `ListenAddress` is absent or not an IP address.
    pub const DEFAULT_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    /// The default listener: `127.0.0.1:40123`.
    pub const DEFAULT: ListenParams = ListenParams {
        address: ListenParams::DEFAULT_ADDRESS,
        port: ListenParams::DEFAULT_PORT,
    };

    /// The listener the configuration asks for: `address` is `ListenAddress` (an IPv4 or IPv6
    /// literal; absent or unparsable: [`ListenParams::DEFAULT_ADDRESS`]), `port` is
    /// `ListenPort` (absent or above 65535: [`ListenParams::DEFAULT_PORT`]; 0: no listener,
    /// `None`).
    pub fn from_config(address: Option<&str>, port: Option<u32>) -> Option<ListenParams> {
        let port = match port {
            None => ListenParams::DEFAULT_PORT,
            Some(0) => return None,
            Some(p) => u16::try_from(p).unwrap_or(ListenParams::DEFAULT_PORT),
        };
        let address = address
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
            .unwrap_or(ListenParams::DEFAULT_ADDRESS);
        Some(ListenParams { address, port })
    }

    /// The address family of [`ListenParams::address`] ([`AF_INET`] or [`AF_INET6`]).
    pub const fn address_family(&self) -> u16 {
        match self.address {
            IpAddr::V4(_) => AF_INET,
            IpAddr::V6(_) => AF_INET6,
        }
    }
}

impl Default for ListenParams {
    fn default() -> Self {
        ListenParams::DEFAULT
    }
}

/// What a completed `WskAccept` gives: the connection socket and its remote address.
#[derive(Debug)]
pub struct Accepted<C> {
    /// The accepted connection (close it with [`WskApi::close_connection`]).
    pub connection: C,
    /// The remote transport address.
    pub remote: SocketAddr,
}

/// The WSK registration functions and the provider dispatch calls the driver makes.
///
/// Implementors keep every WSK structure resident: the `WSK_CLIENT_DISPATCH` handed to
/// `WskRegister` (its version is whatever negotiation chose) and the `WSK_REGISTRATION` live
/// behind a heap pointer inside [`WskApi::Registration`] (e.g. one `Box` holding both), so
/// moving the handle never moves them, and they stay valid until [`WskApi::deregister`] has
/// returned. The core keeps the handle alive at least that long: it drops a registration only
/// after its deregistration.
///
/// Socket calls block the calling thread (at `PASSIVE_LEVEL`) until their IRP completes,
/// whether the provider completes it at once or later on another thread. A socket owns what
/// its calls need (its IRPs, reserved before the call that creates it: `WskSocket` for the
/// listening socket, `WskAccept` for a connection), so closing a socket can never fail for
/// want of memory.
pub trait WskApi: Send + Sync + 'static {
    /// A registration (owns the resident `WSK_REGISTRATION`).
    type Registration: Send + Sync;
    /// A captured `WSK_PROVIDER_NPI` (client object and provider dispatch).
    type ProviderNpi: Send;
    /// A listening socket created through the provider dispatch.
    type Socket: Send + Sync;
    /// A connection socket a `WskAccept` returned.
    type Connection: Send;

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

    /// `WskSocket` through the provider dispatch: a listening TCP socket
    /// (`WSK_FLAG_LISTEN_SOCKET`) of `params`' address family, with the IRPs its later calls
    /// need reserved first (`STATUS_INSUFFICIENT_RESOURCES`, and no socket, when they cannot
    /// be).
    fn socket_listen(
        &self,
        npi: &Self::ProviderNpi,
        params: &ListenParams,
    ) -> Result<Self::Socket, NtStatus>;

    /// `WskBind` of the listening socket to `params.address` and `params.port`.
    fn bind(&self, socket: &Self::Socket, params: &ListenParams) -> NtStatus;

    /// `WskAccept` on the listening socket, the connection's close IRP reserved first
    /// (`STATUS_INSUFFICIENT_RESOURCES`, and no call, when it cannot be): waits for its IRP,
    /// which completes with a connection, with `STATUS_CANCELLED` once
    /// [`WskApi::close_socket`] of the listening socket has begun on another thread, or with
    /// another failure. `issued` is called once
    /// the `WskAccept` call itself has returned (its IRP may still be pending), before the
    /// wait: from then on the listening socket may be closed.
    fn accept(
        &self,
        socket: &Self::Socket,
        issued: &dyn Fn(),
    ) -> Result<Accepted<Self::Connection>, NtStatus>;

    /// `WskCloseSocket` of the listening socket (called once; no call on the socket follows,
    /// and the handle is dropped after). A pending `WskAccept` is cancelled and completed
    /// before the close completes.
    fn close_socket(&self, socket: &Self::Socket) -> NtStatus;

    /// `WskCloseSocket` of an accepted connection, through the connection's dispatch.
    fn close_connection(&self, connection: Self::Connection) -> NtStatus;
}

/// A lock for a small piece of state, held only inside [`Lock::with`] (so never across a
/// WSK call or a wait). The kernel implements it with a spin lock that raises IRQL, so a
/// holder is never preempted while others spin.
pub trait Lock<T>: Send + Sync {
    /// A lock around `value`.
    fn new(value: T) -> Self;
    /// Runs `f` with the value, holding the lock.
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

/// An auto-reset event (a synchronization `KEVENT` in the kernel): [`Event::set`] wakes one
/// [`Event::wait`], or the next one if nobody waits yet.
pub trait Event: Send + Sync {
    /// Signals the event.
    fn set(&self);
    /// Waits until the event is signalled, and resets it.
    fn wait(&self);
}

/// The kernel synchronisation the driver's orchestration needs.
pub trait Locking: Send + Sync + 'static {
    /// The lock type.
    type Lock<T: Send>: Lock<T>;
    /// The event type.
    type Event: Event;
    /// A new, unsignalled event (it may need memory that stays put: fallible).
    fn event(&self) -> Result<Self::Event, NtStatus>;
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
