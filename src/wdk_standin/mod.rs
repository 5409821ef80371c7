//! Linux (any non-Windows host) stand-in for the few `wdk-sys` items the kernel glue
//! ([`crate::glue`]) uses, and for the NETIO WSK imports ([`netio`]).
//!
//! `wdk-sys` cannot be built off Windows (its build script runs bindgen over the WDK headers,
//! and `wdk-build` refuses non-Windows hosts). The glue selects this module instead with
//!
//! ```ignore
//! #[cfg(windows)]
//! use wdk_sys as wdk;
//! #[cfg(not(windows))]
//! use crate::wdk_standin as wdk;
//! ```
//!
//! and contains no other `cfg`: the DriverEntry / worker / unload code that the host tests run
//! is the code the Windows build compiles.
//!
//! What the stand-ins promise:
//!
//! - The same paths as `wdk-sys` (types and constants at the top level, functions in
//!   [`ntddk`]), the same names (including bindgen's, like `Tail.Overlay.__bindgen_anon_2`),
//!   the same signatures with the widths Windows gives them (LLP64: `ULONG` is `u32`, not
//!   Linux's `c_ulong`), the same `unsafe`-ness (unions stay unions, so a union read needs an
//!   `unsafe` block here as it does on Windows) and `#[must_use]` on `NTSTATUS` results, as
//!   bindgen's `must_use_type("NTSTATUS")` gives them. Each item cites the WDK declaration it
//!   mirrors. Structures have the WDK's size and every field they declare sits at the WDK's
//!   offset; parts the stand-in never looks into are storage of the right size
//!   (`storage!`), and structures only pointed to are declared without fields (`opaque!`).
//!   `tests/windows/bindings.rs` checks all of this, for every item the glue uses, against
//!   the wdk-sys bindings the Windows build (`tests/windows/build.sh`) compiles the glue
//!   against.
//! - Behaviour as documented for the real routine, for the arguments the glue passes:
//!   events and thread objects are waitable dispatcher objects; `PsCreateSystemThread` starts
//!   a real thread whose object is signalled when its start routine returns; IRPs have real
//!   stack locations, and the simulated WSK provider completes them through the completion
//!   routine the glue set in the next stack location; the registry is a map the tests fill.
//! - Accounting the tests read through [`host`]: open handles, object references, allocated
//!   IRPs, WSK client objects and sockets still alive, and rule violations (for example an
//!   IRP completed without `STATUS_MORE_PROCESSING_REQUIRED` from its completion routine, or
//!   a provider dispatch call through a released NPI).
//!
//! - IRQL, as far as the glue can change it: a spin lock raises its holder to
//!   `DISPATCH_LEVEL` ([`irql`]), and every routine documented for `PASSIVE_LEVEL` (or at most
//!   `APC_LEVEL`) reports a call at a higher IRQL as a violation, as the kernel's verifier
//!   would bug-check; re-acquiring a spin lock the thread holds (a deadlock in the kernel) is
//!   reported and panics instead of hanging.
//!
//! What they leave out on purpose: access checks, object types (only a `NULL` object type is
//! accepted by `ObReferenceObjectByHandle`), and every routine the glue does not call. They
//! are a faithful surface for this driver's glue, not a kernel.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use core::ffi::c_void;
use core::sync::atomic::AtomicI32;

pub mod host;
pub mod netio;
pub mod ntddk;

mod dispatcher;
pub(crate) mod irql;
mod objects;
#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------------------------
// Basic types (ntdef.h, minwindef.h, basetsd.h) with their Windows (LLP64) widths
// ---------------------------------------------------------------------------------------------

/// `typedef LONG NTSTATUS` (ntdef.h).
pub type NTSTATUS = i32;
/// `typedef unsigned long ULONG` (32-bit on Windows).
pub type ULONG = u32;
/// `typedef ULONG *PULONG`.
pub type PULONG = *mut ULONG;
/// `typedef long LONG` (32-bit on Windows).
pub type LONG = i32;
/// `typedef __int64 LONGLONG`.
pub type LONGLONG = i64;
/// `typedef unsigned short USHORT`.
pub type USHORT = u16;
/// `typedef short CSHORT` (ntdef.h).
pub type CSHORT = i16;
/// `typedef unsigned char UCHAR`.
pub type UCHAR = u8;
/// `typedef char CHAR`.
pub type CHAR = i8;
/// `typedef char CCHAR` (ntdef.h).
pub type CCHAR = i8;
/// `typedef UCHAR BOOLEAN` (ntdef.h).
pub type BOOLEAN = u8;
/// `typedef unsigned __int64 ULONG_PTR` (basetsd.h, 64-bit).
pub type ULONG_PTR = u64;
/// `typedef __int64 LONG_PTR` (basetsd.h, 64-bit).
pub type LONG_PTR = i64;
/// `typedef void *PVOID`.
pub type PVOID = *mut c_void;
/// `typedef PVOID HANDLE` (ntdef.h).
pub type HANDLE = *mut c_void;
/// `typedef HANDLE *PHANDLE`.
pub type PHANDLE = *mut HANDLE;
/// `typedef ULONG ACCESS_MASK` (ntdef.h).
pub type ACCESS_MASK = ULONG;
/// `typedef WCHAR *PWCH` (`WCHAR` is `wchar_t`, 16-bit on Windows).
pub type PWCH = *mut u16;
/// `typedef CCHAR KPROCESSOR_MODE` (wdm.h).
pub type KPROCESSOR_MODE = CCHAR;
/// `typedef LONG KPRIORITY` (wdm.h).
pub type KPRIORITY = LONG;
/// `typedef UCHAR KIRQL` (wdm.h).
pub type KIRQL = UCHAR;
/// `typedef CHAR *PCHAR`.
pub type PCHAR = *mut CHAR;
/// `typedef CLIENT_ID *PCLIENT_ID` (wdm.h; the glue passes `NULL`).
pub type PCLIENT_ID = *mut _CLIENT_ID;
/// `typedef struct _OBJECT_TYPE *POBJECT_TYPE` (wdm.h).
pub type POBJECT_TYPE = *mut _OBJECT_TYPE;
/// `typedef OBJECT_HANDLE_INFORMATION *POBJECT_HANDLE_INFORMATION` (wdm.h; the glue passes
/// `NULL`).
pub type POBJECT_HANDLE_INFORMATION = *mut _OBJECT_HANDLE_INFORMATION;
/// `typedef struct _ETHREAD *PETHREAD` (wdm.h).
pub type PETHREAD = *mut _ETHREAD;

/// Structures the glue reaches only through pointers it passes on or leaves `NULL`: declared
/// without fields (a single zero-sized `_opaque`), so only their names are compared with
/// wdk-sys (`tests/windows/bindings.rs`).
macro_rules! opaque {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[repr(C)]
        pub struct $name {
            _opaque: [u8; 0],
        }
    )*};
}

opaque! {
    /// `struct _OBJECT_TYPE` (opaque in the WDK too).
    _OBJECT_TYPE;
    /// `CLIENT_ID` (wdm.h).
    _CLIENT_ID;
    /// `OBJECT_HANDLE_INFORMATION` (wdm.h).
    _OBJECT_HANDLE_INFORMATION;
    /// `struct _ETHREAD` (opaque in the WDK too).
    _ETHREAD;
    /// `MDL` (wdm.h).
    _MDL;
    /// `FILE_OBJECT` (wdm.h).
    _FILE_OBJECT;
    /// `DRIVER_EXTENSION` (wdm.h).
    _DRIVER_EXTENSION;
    /// `FAST_IO_DISPATCH` (wdm.h).
    _FAST_IO_DISPATCH;
}

/// Storage the stand-in never looks into: `$words` pointer-sized words, so that the
/// structures holding it keep the WDK's size and offsets (compared by size and alignment only).
macro_rules! storage {
    ($($(#[$doc:meta])* $name:ident = $words:literal;)*) => {$(
        $(#[$doc])*
        #[repr(C)]
        #[derive(Clone, Copy)]
        pub struct $name {
            _opaque: [u64; $words],
        }

        impl Default for $name {
            fn default() -> Self {
                $name { _opaque: [0; $words] }
            }
        }
    )*};
}

storage! {
    /// `DEVICE_OBJECT` (wdm.h), 328 bytes on x64: what `IoCreateDevice` allocates. Drivers
    /// pass it by pointer (WSK IRPs of a client have none).
    _DEVICE_OBJECT = 41;
    /// `KAPC` (wdm.h), 88 bytes on x64: `Tail.Apc` of an IRP.
    _KAPC = 11;
    /// `Overlay` of an IRP (`AsynchronousParameters` / `AllocationSize`), 16 bytes.
    _IRP__bindgen_ty_3 = 2;
    /// `union { KDEVICE_QUEUE_ENTRY DeviceQueueEntry; PVOID DriverContext[4]; }` of
    /// `Tail.Overlay`, 32 bytes.
    _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1 = 4;
}

/// `Parameters` of an `IO_STACK_LOCATION` (wdm.h): a union of one structure per request, 32
/// bytes on x64. The stand-in declares the one a driver's `IRP_MJ_DEVICE_CONTROL` dispatch
/// reads (as large as the union).
#[repr(C)]
#[derive(Clone, Copy)]
pub union _IO_STACK_LOCATION__bindgen_ty_1 {
    /// `struct { ... } DeviceIoControl` (bindgen's numbering of the anonymous structure).
    pub DeviceIoControl: _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17,
}

impl Default for _IO_STACK_LOCATION__bindgen_ty_1 {
    fn default() -> Self {
        _IO_STACK_LOCATION__bindgen_ty_1 {
            DeviceIoControl: _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17::default(),
        }
    }
}

/// `Parameters.DeviceIoControl` (wdm.h): `ULONG OutputBufferLength; ULONG POINTER_ALIGNMENT
/// InputBufferLength; ULONG POINTER_ALIGNMENT IoControlCode; PVOID Type3InputBuffer;`, the
/// `POINTER_ALIGNMENT` (8 on x64) as bindgen's explicit padding.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17 {
    /// `ULONG OutputBufferLength`.
    pub OutputBufferLength: ULONG,
    /// Padding to the next `POINTER_ALIGNMENT` member.
    pub __bindgen_padding_0: [u8; 4],
    /// `ULONG InputBufferLength`.
    pub InputBufferLength: ULONG,
    /// Padding to the next `POINTER_ALIGNMENT` member.
    pub __bindgen_padding_1: [u8; 4],
    /// `ULONG IoControlCode`.
    pub IoControlCode: ULONG,
    /// `PVOID Type3InputBuffer`.
    pub Type3InputBuffer: PVOID,
}

impl Default for _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17 {
    fn default() -> Self {
        _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17 {
            OutputBufferLength: 0,
            __bindgen_padding_0: [0; 4],
            InputBufferLength: 0,
            __bindgen_padding_1: [0; 4],
            IoControlCode: 0,
            Type3InputBuffer: core::ptr::null_mut(),
        }
    }
}

/// `LIST_ENTRY` (ntdef.h): a doubly linked list link.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct _LIST_ENTRY {
    /// `struct _LIST_ENTRY *Flink`.
    pub Flink: *mut _LIST_ENTRY,
    /// `struct _LIST_ENTRY *Blink`.
    pub Blink: *mut _LIST_ENTRY,
}

impl Default for _LIST_ENTRY {
    fn default() -> Self {
        _LIST_ENTRY {
            Flink: core::ptr::null_mut(),
            Blink: core::ptr::null_mut(),
        }
    }
}

/// `typedef struct _LIST_ENTRY LIST_ENTRY`.
pub type LIST_ENTRY = _LIST_ENTRY;

/// `LARGE_INTEGER` (winnt.h): a union of `QuadPart` and its two halves. Reading a field is
/// `unsafe` (a union read), as with bindgen's `_LARGE_INTEGER`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union _LARGE_INTEGER {
    /// `struct { ULONG LowPart; LONG HighPart; } u`.
    pub u: _LARGE_INTEGER__bindgen_ty_2,
    /// `LONGLONG QuadPart`.
    pub QuadPart: LONGLONG,
}

/// The `u` member of [`_LARGE_INTEGER`].
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct _LARGE_INTEGER__bindgen_ty_2 {
    /// `ULONG LowPart`.
    pub LowPart: ULONG,
    /// `LONG HighPart`.
    pub HighPart: LONG,
}

impl Default for _LARGE_INTEGER {
    fn default() -> Self {
        _LARGE_INTEGER { QuadPart: 0 }
    }
}

/// `typedef union _LARGE_INTEGER LARGE_INTEGER`.
pub type LARGE_INTEGER = _LARGE_INTEGER;
/// `typedef LARGE_INTEGER *PLARGE_INTEGER`.
pub type PLARGE_INTEGER = *mut LARGE_INTEGER;

/// `UNICODE_STRING` (ntdef.h): counted UTF-16; `Length` and `MaximumLength` in bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct _UNICODE_STRING {
    /// `USHORT Length` (bytes, without a terminator).
    pub Length: USHORT,
    /// `USHORT MaximumLength` (bytes).
    pub MaximumLength: USHORT,
    /// `PWCH Buffer`.
    pub Buffer: PWCH,
}

impl Default for _UNICODE_STRING {
    fn default() -> Self {
        _UNICODE_STRING {
            Length: 0,
            MaximumLength: 0,
            Buffer: core::ptr::null_mut(),
        }
    }
}

/// `typedef struct _UNICODE_STRING UNICODE_STRING`.
pub type UNICODE_STRING = _UNICODE_STRING;
/// `typedef UNICODE_STRING *PUNICODE_STRING`.
pub type PUNICODE_STRING = *mut UNICODE_STRING;
/// `typedef const UNICODE_STRING *PCUNICODE_STRING`.
pub type PCUNICODE_STRING = *const UNICODE_STRING;

/// `OBJECT_ATTRIBUTES` (ntdef.h), what `InitializeObjectAttributes` fills in.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct _OBJECT_ATTRIBUTES {
    /// `ULONG Length`: `sizeof(OBJECT_ATTRIBUTES)`.
    pub Length: ULONG,
    /// `HANDLE RootDirectory`: `ObjectName` is relative to this key/directory when not `NULL`.
    pub RootDirectory: HANDLE,
    /// `PUNICODE_STRING ObjectName`.
    pub ObjectName: PUNICODE_STRING,
    /// `ULONG Attributes` (`OBJ_*`).
    pub Attributes: ULONG,
    /// `PVOID SecurityDescriptor`.
    pub SecurityDescriptor: PVOID,
    /// `PVOID SecurityQualityOfService`.
    pub SecurityQualityOfService: PVOID,
}

impl Default for _OBJECT_ATTRIBUTES {
    fn default() -> Self {
        _OBJECT_ATTRIBUTES {
            Length: 0,
            RootDirectory: core::ptr::null_mut(),
            ObjectName: core::ptr::null_mut(),
            Attributes: 0,
            SecurityDescriptor: core::ptr::null_mut(),
            SecurityQualityOfService: core::ptr::null_mut(),
        }
    }
}

/// `typedef struct _OBJECT_ATTRIBUTES OBJECT_ATTRIBUTES`.
pub type OBJECT_ATTRIBUTES = _OBJECT_ATTRIBUTES;
/// `typedef OBJECT_ATTRIBUTES *POBJECT_ATTRIBUTES`.
pub type POBJECT_ATTRIBUTES = *mut OBJECT_ATTRIBUTES;

// ---------------------------------------------------------------------------------------------
// Spin locks (wdm.h)
// ---------------------------------------------------------------------------------------------

/// `typedef ULONG_PTR KSPIN_LOCK` (wdm.h): 0 when free. The stand-in keeps its holder's
/// thread tag in it while held.
pub type KSPIN_LOCK = ULONG_PTR;
/// `typedef KSPIN_LOCK *PKSPIN_LOCK`.
pub type PKSPIN_LOCK = *mut ULONG_PTR;

/// `KSPIN_LOCK_QUEUE` (wdm.h): a queued spin lock's queue entry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct _KSPIN_LOCK_QUEUE {
    /// `struct _KSPIN_LOCK_QUEUE * volatile Next`.
    pub Next: *mut _KSPIN_LOCK_QUEUE,
    /// `PKSPIN_LOCK volatile Lock`.
    pub Lock: PKSPIN_LOCK,
}

impl Default for _KSPIN_LOCK_QUEUE {
    fn default() -> Self {
        _KSPIN_LOCK_QUEUE {
            Next: core::ptr::null_mut(),
            Lock: core::ptr::null_mut(),
        }
    }
}

/// `typedef struct _KSPIN_LOCK_QUEUE KSPIN_LOCK_QUEUE`.
pub type KSPIN_LOCK_QUEUE = _KSPIN_LOCK_QUEUE;

/// `KLOCK_QUEUE_HANDLE` (wdm.h): what `KeAcquireInStackQueuedSpinLock` fills in and
/// `KeReleaseInStackQueuedSpinLock` takes back.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct _KLOCK_QUEUE_HANDLE {
    /// `KSPIN_LOCK_QUEUE LockQueue`.
    pub LockQueue: KSPIN_LOCK_QUEUE,
    /// `KIRQL OldIrql`.
    pub OldIrql: KIRQL,
}

/// `typedef struct _KLOCK_QUEUE_HANDLE KLOCK_QUEUE_HANDLE`.
pub type KLOCK_QUEUE_HANDLE = _KLOCK_QUEUE_HANDLE;
/// `typedef KLOCK_QUEUE_HANDLE *PKLOCK_QUEUE_HANDLE`.
pub type PKLOCK_QUEUE_HANDLE = *mut KLOCK_QUEUE_HANDLE;

// ---------------------------------------------------------------------------------------------
// Dispatcher objects (wdm.h)
// ---------------------------------------------------------------------------------------------

/// `DISPATCHER_HEADER` (wdm.h), with the WDK's size and the fields waiting needs: the object
/// type (`EventNotificationObject` 0, `EventSynchronizationObject` 1, `ThreadObject` 6) and
/// `SignalState`. The glue never reads it; the stand-in wait routines do.
#[repr(C)]
#[derive(Debug, Default)]
pub struct _DISPATCHER_HEADER {
    /// `UCHAR Type`: the first byte of the header's anonymous union, as C names it (bindgen's
    /// `__bindgen_anon_1.__bindgen_anon_1.Type`).
    pub Type: UCHAR,
    /// `LONG SignalState` (atomic here: several host threads wait and signal).
    pub SignalState: AtomicI32,
    /// `LIST_ENTRY WaitListHead` (unused by the stand-in).
    pub WaitListHead: LIST_ENTRY,
}

/// `KEVENT` (wdm.h): `DISPATCHER_HEADER Header`. Initialise with `KeInitializeEvent`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct _KEVENT {
    /// `DISPATCHER_HEADER Header`.
    pub Header: _DISPATCHER_HEADER,
}

/// `typedef struct _KEVENT KEVENT`.
pub type KEVENT = _KEVENT;
/// `typedef KEVENT *PKEVENT`.
pub type PKEVENT = *mut KEVENT;
/// `typedef KEVENT *PRKEVENT`.
pub type PRKEVENT = *mut KEVENT;

/// `enum _EVENT_TYPE` (wdm.h), as bindgen's `ModuleConsts` style renders it.
pub mod _EVENT_TYPE {
    /// The enum's representation.
    pub type Type = i32;
    /// `NotificationEvent`: stays signalled until reset.
    pub const NotificationEvent: Type = 0;
    /// `SynchronizationEvent`: a satisfied wait resets it.
    pub const SynchronizationEvent: Type = 1;
}
/// `typedef enum _EVENT_TYPE EVENT_TYPE`.
pub type EVENT_TYPE = _EVENT_TYPE::Type;

/// `enum _KWAIT_REASON` (wdm.h), the values the glue uses.
pub mod _KWAIT_REASON {
    /// The enum's representation.
    pub type Type = i32;
    /// `Executive`.
    pub const Executive: Type = 0;
}
/// `typedef enum _KWAIT_REASON KWAIT_REASON`.
pub type KWAIT_REASON = _KWAIT_REASON::Type;

/// `enum _MODE` (wdm.h).
pub mod _MODE {
    /// The enum's representation.
    pub type Type = i32;
    /// `KernelMode`.
    pub const KernelMode: Type = 0;
    /// `UserMode`.
    pub const UserMode: Type = 1;
}

/// `enum _KEY_VALUE_INFORMATION_CLASS` (wdm.h), the values the glue uses.
pub mod _KEY_VALUE_INFORMATION_CLASS {
    /// The enum's representation.
    pub type Type = i32;
    /// `KeyValuePartialInformation`: a `KEY_VALUE_PARTIAL_INFORMATION`.
    pub const KeyValuePartialInformation: Type = 2;
}
/// `typedef enum _KEY_VALUE_INFORMATION_CLASS KEY_VALUE_INFORMATION_CLASS`.
pub type KEY_VALUE_INFORMATION_CLASS = _KEY_VALUE_INFORMATION_CLASS::Type;

/// `KEY_VALUE_PARTIAL_INFORMATION` (wdm.h): the value's data follows `DataLength`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct _KEY_VALUE_PARTIAL_INFORMATION {
    /// `ULONG TitleIndex`.
    pub TitleIndex: ULONG,
    /// `ULONG Type` (`REG_DWORD`, ...).
    pub Type: ULONG,
    /// `ULONG DataLength`.
    pub DataLength: ULONG,
    /// `UCHAR Data[1]` (variable length).
    pub Data: [UCHAR; 1],
}
/// `typedef struct _KEY_VALUE_PARTIAL_INFORMATION KEY_VALUE_PARTIAL_INFORMATION`.
pub type KEY_VALUE_PARTIAL_INFORMATION = _KEY_VALUE_PARTIAL_INFORMATION;

// ---------------------------------------------------------------------------------------------
// Driver object, IRPs (wdm.h)
// ---------------------------------------------------------------------------------------------

/// `DRIVER_UNLOAD` / `PDRIVER_UNLOAD` (wdm.h): `VOID DriverUnload(PDRIVER_OBJECT)`.
pub type PDRIVER_UNLOAD = Option<unsafe extern "C" fn(DriverObject: *mut _DRIVER_OBJECT)>;
/// `typedef PDRIVER_UNLOAD DRIVER_UNLOAD` (bindgen renders both as the pointer type).
pub type DRIVER_UNLOAD = PDRIVER_UNLOAD;

/// `PDRIVER_INITIALIZE` (wdm.h): `NTSTATUS DriverEntry(PDRIVER_OBJECT, PUNICODE_STRING)`.
pub type PDRIVER_INITIALIZE = Option<
    unsafe extern "C" fn(
        DriverObject: *mut _DRIVER_OBJECT,
        RegistryPath: PUNICODE_STRING,
    ) -> NTSTATUS,
>;
/// `PDRIVER_STARTIO` (wdm.h).
pub type PDRIVER_STARTIO =
    Option<unsafe extern "C" fn(DeviceObject: *mut _DEVICE_OBJECT, Irp: *mut _IRP)>;
/// `PDRIVER_DISPATCH` (wdm.h).
pub type PDRIVER_DISPATCH =
    Option<unsafe extern "C" fn(DeviceObject: *mut _DEVICE_OBJECT, Irp: *mut _IRP) -> NTSTATUS>;
/// `PDRIVER_CANCEL` (wdm.h).
pub type PDRIVER_CANCEL =
    Option<unsafe extern "C" fn(DeviceObject: *mut _DEVICE_OBJECT, Irp: *mut _IRP)>;

/// `DRIVER_OBJECT` (wdm.h). The glue sets `DriverUnload`; the stand-in's tests read
/// `DriverName`.
#[repr(C)]
#[derive(Debug)]
pub struct _DRIVER_OBJECT {
    /// `CSHORT Type` (`IO_TYPE_DRIVER`).
    pub Type: CSHORT,
    /// `CSHORT Size`.
    pub Size: CSHORT,
    /// `PDEVICE_OBJECT DeviceObject`.
    pub DeviceObject: PDEVICE_OBJECT,
    /// `ULONG Flags`.
    pub Flags: ULONG,
    /// `PVOID DriverStart`.
    pub DriverStart: PVOID,
    /// `ULONG DriverSize`.
    pub DriverSize: ULONG,
    /// `PVOID DriverSection`.
    pub DriverSection: PVOID,
    /// `PDRIVER_EXTENSION DriverExtension`.
    pub DriverExtension: *mut _DRIVER_EXTENSION,
    /// `UNICODE_STRING DriverName`.
    pub DriverName: UNICODE_STRING,
    /// `PUNICODE_STRING HardwareDatabase`.
    pub HardwareDatabase: PUNICODE_STRING,
    /// `PFAST_IO_DISPATCH FastIoDispatch`.
    pub FastIoDispatch: *mut _FAST_IO_DISPATCH,
    /// `PDRIVER_INITIALIZE DriverInit`.
    pub DriverInit: PDRIVER_INITIALIZE,
    /// `PDRIVER_STARTIO DriverStartIo`.
    pub DriverStartIo: PDRIVER_STARTIO,
    /// `PDRIVER_UNLOAD DriverUnload`.
    pub DriverUnload: PDRIVER_UNLOAD,
    /// `PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1]` (0x1b + 1 = 28).
    pub MajorFunction: [PDRIVER_DISPATCH; 28],
}

impl Default for _DRIVER_OBJECT {
    fn default() -> Self {
        _DRIVER_OBJECT {
            Type: 4, // IO_TYPE_DRIVER
            Size: core::mem::size_of::<_DRIVER_OBJECT>() as CSHORT,
            DeviceObject: core::ptr::null_mut(),
            Flags: 0,
            DriverStart: core::ptr::null_mut(),
            DriverSize: 0,
            DriverSection: core::ptr::null_mut(),
            DriverExtension: core::ptr::null_mut(),
            DriverName: UNICODE_STRING::default(),
            HardwareDatabase: core::ptr::null_mut(),
            FastIoDispatch: core::ptr::null_mut(),
            DriverInit: None,
            DriverStartIo: None,
            DriverUnload: None,
            MajorFunction: [None; 28],
        }
    }
}

/// `typedef struct _DRIVER_OBJECT DRIVER_OBJECT`.
pub type DRIVER_OBJECT = _DRIVER_OBJECT;
/// `typedef DRIVER_OBJECT *PDRIVER_OBJECT`.
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

/// `typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT`.
pub type PDEVICE_OBJECT = *mut _DEVICE_OBJECT;

/// `IO_COMPLETION_ROUTINE` / `PIO_COMPLETION_ROUTINE` (wdm.h).
pub type PIO_COMPLETION_ROUTINE = Option<
    unsafe extern "C" fn(DeviceObject: PDEVICE_OBJECT, Irp: *mut _IRP, Context: PVOID) -> NTSTATUS,
>;

/// `IO_STATUS_BLOCK` (wdm.h): `union { NTSTATUS Status; PVOID Pointer; }; ULONG_PTR
/// Information;`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct _IO_STATUS_BLOCK {
    /// The anonymous `Status`/`Pointer` union.
    pub __bindgen_anon_1: _IO_STATUS_BLOCK__bindgen_ty_1,
    /// `ULONG_PTR Information`.
    pub Information: ULONG_PTR,
}

/// The `Status`/`Pointer` union of [`_IO_STATUS_BLOCK`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union _IO_STATUS_BLOCK__bindgen_ty_1 {
    /// `NTSTATUS Status`.
    pub Status: NTSTATUS,
    /// `PVOID Pointer`.
    pub Pointer: PVOID,
}
/// `typedef struct _IO_STATUS_BLOCK IO_STATUS_BLOCK`.
pub type IO_STATUS_BLOCK = _IO_STATUS_BLOCK;

/// `IO_STACK_LOCATION` (wdm.h). The glue and the stand-in's completion use `Control`,
/// `CompletionRoutine` and `Context`; `Parameters` is storage only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct _IO_STACK_LOCATION {
    /// `UCHAR MajorFunction`.
    pub MajorFunction: UCHAR,
    /// `UCHAR MinorFunction`.
    pub MinorFunction: UCHAR,
    /// `UCHAR Flags`.
    pub Flags: UCHAR,
    /// `UCHAR Control` (`SL_INVOKE_ON_*`).
    pub Control: UCHAR,
    /// `union { ... } Parameters`.
    pub Parameters: _IO_STACK_LOCATION__bindgen_ty_1,
    /// `PDEVICE_OBJECT DeviceObject`.
    pub DeviceObject: PDEVICE_OBJECT,
    /// `PFILE_OBJECT FileObject`.
    pub FileObject: *mut _FILE_OBJECT,
    /// `PIO_COMPLETION_ROUTINE CompletionRoutine`.
    pub CompletionRoutine: PIO_COMPLETION_ROUTINE,
    /// `PVOID Context`.
    pub Context: PVOID,
}

impl Default for _IO_STACK_LOCATION {
    fn default() -> Self {
        _IO_STACK_LOCATION {
            MajorFunction: 0,
            MinorFunction: 0,
            Flags: 0,
            Control: 0,
            Parameters: _IO_STACK_LOCATION__bindgen_ty_1::default(),
            DeviceObject: core::ptr::null_mut(),
            FileObject: core::ptr::null_mut(),
            CompletionRoutine: None,
            Context: core::ptr::null_mut(),
        }
    }
}
/// `typedef struct _IO_STACK_LOCATION IO_STACK_LOCATION`.
pub type IO_STACK_LOCATION = _IO_STACK_LOCATION;
/// `typedef IO_STACK_LOCATION *PIO_STACK_LOCATION`.
pub type PIO_STACK_LOCATION = *mut IO_STACK_LOCATION;

/// `IRP` (wdm.h), every field at the WDK's offset, with bindgen's names for the anonymous
/// members: the current stack location is
/// `Tail.Overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation`. Allocation and
/// completion use `Type`, `Size`, `IoStatus`, the stack counters, `Cancel` and that location.
#[repr(C)]
pub struct _IRP {
    /// `CSHORT Type` (`IO_TYPE_IRP` = 6).
    pub Type: CSHORT,
    /// `USHORT Size`.
    pub Size: USHORT,
    /// `PMDL MdlAddress`.
    pub MdlAddress: *mut _MDL,
    /// `ULONG Flags`.
    pub Flags: ULONG,
    /// `union { PIRP MasterIrp; LONG IrpCount; PVOID SystemBuffer; } AssociatedIrp`.
    pub AssociatedIrp: _IRP__bindgen_ty_1,
    /// `LIST_ENTRY ThreadListEntry`.
    pub ThreadListEntry: LIST_ENTRY,
    /// `IO_STATUS_BLOCK IoStatus`.
    pub IoStatus: IO_STATUS_BLOCK,
    /// `KPROCESSOR_MODE RequestorMode`.
    pub RequestorMode: KPROCESSOR_MODE,
    /// `BOOLEAN PendingReturned`.
    pub PendingReturned: BOOLEAN,
    /// `CHAR StackCount`.
    pub StackCount: CHAR,
    /// `CHAR CurrentLocation`: `StackCount + 1` when no driver owns a location yet.
    pub CurrentLocation: CHAR,
    /// `BOOLEAN Cancel`.
    pub Cancel: BOOLEAN,
    /// `KIRQL CancelIrql`.
    pub CancelIrql: KIRQL,
    /// `CCHAR ApcEnvironment`.
    pub ApcEnvironment: CCHAR,
    /// `UCHAR AllocationFlags`.
    pub AllocationFlags: UCHAR,
    /// `PIO_STATUS_BLOCK UserIosb`.
    pub UserIosb: *mut IO_STATUS_BLOCK,
    /// `PKEVENT UserEvent`.
    pub UserEvent: PKEVENT,
    /// `union { ... } Overlay` (storage only).
    pub Overlay: _IRP__bindgen_ty_3,
    /// `PDRIVER_CANCEL CancelRoutine`.
    pub CancelRoutine: PDRIVER_CANCEL,
    /// `PVOID UserBuffer`.
    pub UserBuffer: PVOID,
    /// `union { struct { ... } Overlay; KAPC Apc; PVOID CompletionKey; } Tail`.
    pub Tail: _IRP__bindgen_ty_4,
}

/// `AssociatedIrp` of [`_IRP`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union _IRP__bindgen_ty_1 {
    /// `struct _IRP *MasterIrp`.
    pub MasterIrp: *mut _IRP,
    /// `LONG IrpCount`.
    pub IrpCount: LONG,
    /// `PVOID SystemBuffer`.
    pub SystemBuffer: PVOID,
}

/// The `Tail` union of [`_IRP`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union _IRP__bindgen_ty_4 {
    /// `struct { ... } Overlay`: what a driver-allocated IRP that is not queued uses.
    pub Overlay: _IRP__bindgen_ty_4__bindgen_ty_1,
    /// `KAPC Apc`.
    pub Apc: _KAPC,
    /// `PVOID CompletionKey`.
    pub CompletionKey: PVOID,
}

/// `Tail.Overlay` of [`_IRP`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct _IRP__bindgen_ty_4__bindgen_ty_1 {
    /// `union { KDEVICE_QUEUE_ENTRY DeviceQueueEntry; PVOID DriverContext[4]; }`.
    pub __bindgen_anon_1: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_1,
    /// `PETHREAD Thread` (`NULL` for a driver-allocated IRP).
    pub Thread: PETHREAD,
    /// `PCHAR AuxiliaryBuffer`.
    pub AuxiliaryBuffer: PCHAR,
    /// The anonymous `{ LIST_ENTRY ListEntry; union { ... }; }` struct.
    pub __bindgen_anon_2: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2,
    /// `struct _FILE_OBJECT *OriginalFileObject`.
    pub OriginalFileObject: *mut _FILE_OBJECT,
}

/// `Tail.Overlay.__bindgen_anon_2` of [`_IRP`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2 {
    /// `LIST_ENTRY ListEntry`.
    pub ListEntry: LIST_ENTRY,
    /// The anonymous `CurrentStackLocation`/`PacketType` union.
    pub __bindgen_anon_1: _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2__bindgen_ty_1,
}

/// `union { PIO_STACK_LOCATION CurrentStackLocation; ULONG PacketType; }` of [`_IRP`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union _IRP__bindgen_ty_4__bindgen_ty_1__bindgen_ty_2__bindgen_ty_1 {
    /// `struct _IO_STACK_LOCATION *CurrentStackLocation`.
    pub CurrentStackLocation: PIO_STACK_LOCATION,
    /// `ULONG PacketType`.
    pub PacketType: ULONG,
}

/// `typedef struct _IRP IRP`.
pub type IRP = _IRP;
/// `typedef IRP *PIRP`.
pub type PIRP = *mut IRP;

/// `KSTART_ROUTINE` / `PKSTART_ROUTINE` (wdm.h): `VOID StartRoutine(PVOID StartContext)`.
pub type PKSTART_ROUTINE = Option<unsafe extern "C" fn(StartContext: PVOID)>;

// ---------------------------------------------------------------------------------------------
// Constants (ntstatus.h, wdm.h, winnt.h), typed as bindgen types them
// ---------------------------------------------------------------------------------------------

/// `STATUS_SUCCESS` (ntstatus.h).
pub const STATUS_SUCCESS: NTSTATUS = 0;
/// `STATUS_TIMEOUT` (ntstatus.h).
pub const STATUS_TIMEOUT: NTSTATUS = 0x0000_0102;
/// `STATUS_PENDING` (ntstatus.h).
pub const STATUS_PENDING: NTSTATUS = 0x0000_0103;
/// `STATUS_BUFFER_OVERFLOW` (ntstatus.h).
pub const STATUS_BUFFER_OVERFLOW: NTSTATUS = 0x8000_0005_u32 as i32;
/// `STATUS_UNSUCCESSFUL` (ntstatus.h).
pub const STATUS_UNSUCCESSFUL: NTSTATUS = 0xC000_0001_u32 as i32;
/// `STATUS_INVALID_HANDLE` (ntstatus.h).
pub const STATUS_INVALID_HANDLE: NTSTATUS = 0xC000_0008_u32 as i32;
/// `STATUS_INVALID_PARAMETER` (ntstatus.h).
pub const STATUS_INVALID_PARAMETER: NTSTATUS = 0xC000_000D_u32 as i32;
/// `STATUS_MORE_PROCESSING_REQUIRED` (ntstatus.h).
pub const STATUS_MORE_PROCESSING_REQUIRED: NTSTATUS = 0xC000_0016_u32 as i32;
/// `STATUS_BUFFER_TOO_SMALL` (ntstatus.h).
pub const STATUS_BUFFER_TOO_SMALL: NTSTATUS = 0xC000_0023_u32 as i32;
/// `STATUS_OBJECT_TYPE_MISMATCH` (ntstatus.h).
pub const STATUS_OBJECT_TYPE_MISMATCH: NTSTATUS = 0xC000_0024_u32 as i32;
/// `STATUS_OBJECT_NAME_NOT_FOUND` (ntstatus.h).
pub const STATUS_OBJECT_NAME_NOT_FOUND: NTSTATUS = 0xC000_0034_u32 as i32;
/// `STATUS_INSUFFICIENT_RESOURCES` (ntstatus.h).
pub const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS = 0xC000_009A_u32 as i32;
/// `STATUS_CANCELLED` (ntstatus.h).
pub const STATUS_CANCELLED: NTSTATUS = 0xC000_0120_u32 as i32;

/// `STATUS_INVALID_DEVICE_REQUEST` (ntstatus.h).
pub const STATUS_INVALID_DEVICE_REQUEST: NTSTATUS = 0xC000_0010_u32 as i32;
/// `STATUS_OBJECT_NAME_COLLISION` (ntstatus.h).
pub const STATUS_OBJECT_NAME_COLLISION: NTSTATUS = 0xC000_0035_u32 as i32;

/// `IRP_MJ_CREATE` (wdm.h).
pub const IRP_MJ_CREATE: u32 = 0x00;
/// `IRP_MJ_CLOSE` (wdm.h).
pub const IRP_MJ_CLOSE: u32 = 0x02;
/// `IRP_MJ_DEVICE_CONTROL` (wdm.h).
pub const IRP_MJ_DEVICE_CONTROL: u32 = 0x0e;
/// `FILE_DEVICE_UNKNOWN` (devioctl.h).
pub const FILE_DEVICE_UNKNOWN: u32 = 0x22;
/// `FILE_DEVICE_SECURE_OPEN` (wdm.h): a device characteristic.
pub const FILE_DEVICE_SECURE_OPEN: u32 = 0x100;
/// `METHOD_BUFFERED` (devioctl.h).
pub const METHOD_BUFFERED: u32 = 0;
/// `FILE_ANY_ACCESS` (devioctl.h).
pub const FILE_ANY_ACCESS: u32 = 0;

/// `SL_INVOKE_ON_CANCEL` (wdm.h; bindgen renders `#define`s of plain numbers as `u32`).
pub const SL_INVOKE_ON_CANCEL: u32 = 0x20;
/// `SL_INVOKE_ON_SUCCESS` (wdm.h).
pub const SL_INVOKE_ON_SUCCESS: u32 = 0x40;
/// `SL_INVOKE_ON_ERROR` (wdm.h).
pub const SL_INVOKE_ON_ERROR: u32 = 0x80;
/// `IO_NO_INCREMENT` (wdm.h).
pub const IO_NO_INCREMENT: u32 = 0;
/// `OBJ_CASE_INSENSITIVE` (ntdef.h).
pub const OBJ_CASE_INSENSITIVE: u32 = 0x0000_0040;
/// `OBJ_KERNEL_HANDLE` (ntdef.h).
pub const OBJ_KERNEL_HANDLE: u32 = 0x0000_0200;
/// `KEY_READ` (wdm.h): `(STANDARD_RIGHTS_READ | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS |
/// KEY_NOTIFY) & ~SYNCHRONIZE`.
pub const KEY_READ: u32 = 0x0002_0019;
/// `SYNCHRONIZE` (winnt.h).
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// `THREAD_ALL_ACCESS` (wdm.h): `STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF`.
pub const THREAD_ALL_ACCESS: u32 = 0x001F_FFFF;
/// `REG_DWORD` (winnt.h).
pub const REG_DWORD: u32 = 4;
/// `REG_SZ` (winnt.h).
pub const REG_SZ: u32 = 1;
/// `FALSE` (ntdef.h).
pub const FALSE: u32 = 0;
/// `TRUE` (ntdef.h).
pub const TRUE: u32 = 1;
