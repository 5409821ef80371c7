//! Registering the driver's ETW provider (the `tracelogging` provider of [`crate::schema`]).
//!
//! The glue registers it first thing in DriverEntry and unregisters it last in unload, through
//! [`ProviderRegistration`] on its event sink: [`EtwSink`] writes through the real provider;
//! on hosts the stand-in's sink (`wdk_standin::host::HostEtwSink`) also checks that the
//! registration is balanced. Neither the glue nor the stand-in defines the trait, so neither
//! depends on the other for it.

use crate::lifecycle::EtwSink;
use crate::schema;

/// Registers and unregisters the driver's ETW provider; implemented by each platform's event
/// sink.
pub trait ProviderRegistration {
    /// Registers the provider.
    ///
    /// # Safety
    ///
    /// Not registered already; unregistered ([`ProviderRegistration::unregister_provider`])
    /// before the driver image unloads.
    unsafe fn register_provider();
    /// Unregisters the provider.
    fn unregister_provider();
}

impl ProviderRegistration for EtwSink {
    unsafe fn register_provider() {
        // SAFETY: 1. Passed on from the caller: not registered yet, unregistered before the
        //            image unloads.
        let _ = unsafe { schema::etw_provider().register() };
    }
    fn unregister_provider() {
        let _ = schema::etw_provider().unregister();
    }
}
