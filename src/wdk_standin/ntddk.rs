//! Stand-ins for the `wdk_sys::ntddk` functions (and the one exported variable) the kernel
//! glue calls. Each mirrors the `wdm.h`/`ntddk.h` declaration it cites; all are
//! `unsafe extern "C"` like bindgen's declarations (on x64 `NTAPI`/`__stdcall` is the C ABI),
//! and every one that returns `NTSTATUS` is `#[must_use]`.
//!
//! # Safety
//!
//! Each function's contract is the WDK routine's: pointers must be valid as documented for
//! it. The stand-ins check what they cheaply can (unknown handles, IRPs and object pointers
//! are reported as violations, see [`super::host`], rather than dereferenced).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Instant;

use super::dispatcher::{self, EVENT_NOTIFICATION_OBJECT, EVENT_SYNCHRONIZATION_OBJECT};
use super::objects::{self, HandleTarget, ThreadObject};
use super::*;

/// Deepest IRP stack the stand-in allocates (WSK clients use 1).
const MAX_IRP_STACK: usize = 8;

/// An IRP and its stack locations in one allocation, as `IoAllocateIrp` lays them out.
#[repr(C)]
struct IrpBlock {
    irp: IRP,
    stack: [IO_STACK_LOCATION; MAX_IRP_STACK],
}

// ---------------------------------------------------------------------------------------------
// Events and waits
// ---------------------------------------------------------------------------------------------

/// `VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)` (wdm.h).
///
/// # Safety
///
/// `Event` points to writable storage for a `KEVENT` that no thread is waiting on.
pub unsafe extern "C" fn KeInitializeEvent(Event: PRKEVENT, Type: EVENT_TYPE, State: BOOLEAN) {
    // SAFETY: 1. The caller passes writable, aligned storage for a `KEVENT` (contract above).
    let event = unsafe { &mut *Event };
    event.Header.Type = if Type == _EVENT_TYPE::SynchronizationEvent {
        EVENT_SYNCHRONIZATION_OBJECT
    } else {
        EVENT_NOTIFICATION_OBJECT
    };
    event
        .Header
        .SignalState
        .store(i32::from(State != 0), Ordering::SeqCst);
}

/// `LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)` (wdm.h): signals the
/// event, returns its previous state.
///
/// # Safety
///
/// `Event` points to an initialised `KEVENT`.
pub unsafe extern "C" fn KeSetEvent(
    Event: PRKEVENT,
    _Increment: KPRIORITY,
    _Wait: BOOLEAN,
) -> LONG {
    // SAFETY: 1. The caller passes an initialised `KEVENT`; only its atomic state is touched.
    let event = unsafe { &*Event };
    dispatcher::set_state(&event.Header, 1)
}

/// `NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE
/// WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout)` (wdm.h): waits on an event or a
/// thread object; `STATUS_SUCCESS` or `STATUS_TIMEOUT`.
///
/// # Safety
///
/// `Object` points to a dispatcher object (an initialised `KEVENT`, or a thread object from
/// `ObReferenceObjectByHandle`) that stays valid during the wait; `Timeout` is `NULL` or
/// points to a `LARGE_INTEGER`.
#[must_use]
pub unsafe extern "C" fn KeWaitForSingleObject(
    Object: PVOID,
    _WaitReason: KWAIT_REASON,
    _WaitMode: KPROCESSOR_MODE,
    _Alertable: BOOLEAN,
    Timeout: PLARGE_INTEGER,
) -> NTSTATUS {
    let timeout = if Timeout.is_null() {
        None
    } else {
        // SAFETY: 1. `Timeout` is not `NULL` and points to a `LARGE_INTEGER` (contract).
        let timeout = unsafe { &*Timeout };
        // SAFETY: 1. Every bit pattern of the union is a valid `i64`.
        Some(unsafe { timeout.QuadPart })
    };
    if timeout != Some(0) {
        // Only a zero timeout may be waited for at DISPATCH_LEVEL.
        super::irql::require(super::irql::APC_LEVEL, "KeWaitForSingleObject");
    }
    // SAFETY: 1. Every dispatcher object begins with its `DISPATCHER_HEADER` (`KEVENT` and
    //            the stand-in thread object are `repr(C)` with the header first).
    //         2. The caller keeps the object valid for the wait (contract).
    let header = unsafe { &*Object.cast::<_DISPATCHER_HEADER>() };
    dispatcher::wait(header, dispatcher::timeout_from_100ns(timeout))
}

/// `NTSTATUS ZwWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout)`
/// (ntifs.h / wdm.h): waits on the object a handle refers to.
///
/// # Safety
///
/// `Timeout` is `NULL` or points to a `LARGE_INTEGER`.
#[must_use]
pub unsafe extern "C" fn ZwWaitForSingleObject(
    Handle: HANDLE,
    _Alertable: BOOLEAN,
    Timeout: PLARGE_INTEGER,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "ZwWaitForSingleObject");
    let target = objects::with(|s| s.handles.get(&(Handle as usize)).cloned());
    let Some(HandleTarget::Thread(thread)) = target else {
        objects::with(|s| s.violation(format!("ZwWaitForSingleObject on bad handle {Handle:p}")));
        return STATUS_INVALID_HANDLE;
    };
    let timeout = if Timeout.is_null() {
        None
    } else {
        // SAFETY: 1. `Timeout` is not `NULL` and points to a `LARGE_INTEGER` (contract).
        let timeout = unsafe { &*Timeout };
        // SAFETY: 1. Every bit pattern of the union is a valid `i64`.
        Some(unsafe { timeout.QuadPart })
    };
    dispatcher::wait(&thread.header, dispatcher::timeout_from_100ns(timeout))
}

// ---------------------------------------------------------------------------------------------
// Queued spin locks
// ---------------------------------------------------------------------------------------------

/// This thread's tag in a held `KSPIN_LOCK` (never 0, unique per thread).
fn thread_tag() -> u64 {
    use core::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    std::thread_local! {
        static TAG: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TAG.with(|t| *t)
}

/// `VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE
/// LockHandle)` (wdm.h; `FASTCALL`, the C ABI on x64): spins until the lock is free, takes it
/// and raises the thread to `DISPATCH_LEVEL`, saving the old IRQL in `LockHandle`. Callable at
/// IRQL <= `DISPATCH_LEVEL`. Taking a lock the thread already holds deadlocks in the kernel:
/// here it is reported and panics.
///
/// # Safety
///
/// `SpinLock` points to an initialised `KSPIN_LOCK` (0 when free) that stays valid while
/// held, used only through these two routines; `LockHandle` to writable storage that the
/// release gets back.
pub unsafe extern "C" fn KeAcquireInStackQueuedSpinLock(
    SpinLock: PKSPIN_LOCK,
    LockHandle: PKLOCK_QUEUE_HANDLE,
) {
    use core::sync::atomic::AtomicU64;
    super::irql::require(
        super::irql::DISPATCH_LEVEL,
        "KeAcquireInStackQueuedSpinLock",
    );
    // SAFETY: 1. `SpinLock` points to an aligned `u64` used only through these routines
    //            (contract), so treating it as an atomic for the lock's lifetime is sound.
    let word = unsafe { AtomicU64::from_ptr(SpinLock) };
    let me = thread_tag();
    if word.load(Ordering::Relaxed) == me {
        objects::with(|s| {
            s.violation(String::from(
                "KeAcquireInStackQueuedSpinLock of a spin lock this thread holds (deadlock)",
            ))
        });
        panic!("recursive spin lock acquisition");
    }
    while word
        .compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
        std::thread::yield_now();
    }
    let old = super::irql::raise_to_dispatch();
    // SAFETY: 1. `LockHandle` is writable `KLOCK_QUEUE_HANDLE` storage (contract).
    unsafe {
        LockHandle.write(KLOCK_QUEUE_HANDLE {
            LockQueue: KSPIN_LOCK_QUEUE {
                Next: core::ptr::null_mut(),
                Lock: SpinLock,
            },
            OldIrql: old,
        })
    };
}

/// `VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)` (wdm.h): releases
/// the lock `LockHandle` was acquired with and restores the IRQL saved there.
///
/// # Safety
///
/// `LockHandle` is the handle a `KeAcquireInStackQueuedSpinLock` on this thread filled in,
/// not yet released.
pub unsafe extern "C" fn KeReleaseInStackQueuedSpinLock(LockHandle: PKLOCK_QUEUE_HANDLE) {
    use core::sync::atomic::AtomicU64;
    // SAFETY: 1. `LockHandle` was filled in by the acquisition (contract).
    let handle = unsafe { *LockHandle };
    // SAFETY: 1. `Lock` is the spin lock that acquisition took, still valid (contract).
    let word = unsafe { AtomicU64::from_ptr(handle.LockQueue.Lock) };
    if word
        .compare_exchange(thread_tag(), 0, Ordering::Release, Ordering::Relaxed)
        .is_err()
    {
        objects::with(|s| {
            s.violation(String::from(
                "KeReleaseInStackQueuedSpinLock of a spin lock this thread does not hold",
            ))
        });
    }
    super::irql::lower(handle.OldIrql);
}

// ---------------------------------------------------------------------------------------------
// Performance counter
// ---------------------------------------------------------------------------------------------

/// The stand-in performance counter runs at 10 MHz, a common QPC frequency on Windows.
const QPC_FREQUENCY: i64 = 10_000_000;

/// `LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)` (wdm.h).
///
/// # Safety
///
/// `PerformanceFrequency` is `NULL` or points to writable storage for a `LARGE_INTEGER`.
pub unsafe extern "C" fn KeQueryPerformanceCounter(
    PerformanceFrequency: PLARGE_INTEGER,
) -> LARGE_INTEGER {
    static START: OnceLock<Instant> = OnceLock::new();
    if !PerformanceFrequency.is_null() {
        // SAFETY: 1. Not `NULL`, and the caller passes writable `LARGE_INTEGER` storage.
        unsafe {
            PerformanceFrequency.write(LARGE_INTEGER {
                QuadPart: QPC_FREQUENCY,
            })
        };
    }
    let elapsed = START.get_or_init(Instant::now).elapsed();
    let ticks = elapsed.as_nanos() / 100;
    LARGE_INTEGER {
        QuadPart: i64::try_from(ticks).unwrap_or(i64::MAX),
    }
}

// ---------------------------------------------------------------------------------------------
// Threads and object references
// ---------------------------------------------------------------------------------------------

/// Carries a raw pointer value into the thread the stand-in starts.
struct SendPtr(usize);

/// `NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
/// POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle, PCLIENT_ID ClientId,
/// PKSTART_ROUTINE StartRoutine, PVOID StartContext)` (wdm.h): starts a thread running
/// `StartRoutine(StartContext)`; its thread object is signalled when the routine returns.
///
/// # Safety
///
/// `ThreadHandle` points to writable storage for a `HANDLE`; `StartRoutine` may be called
/// with `StartContext` on another thread.
#[must_use]
pub unsafe extern "C" fn PsCreateSystemThread(
    ThreadHandle: PHANDLE,
    _DesiredAccess: ULONG,
    _ObjectAttributes: POBJECT_ATTRIBUTES,
    _ProcessHandle: HANDLE,
    _ClientId: PCLIENT_ID,
    StartRoutine: PKSTART_ROUTINE,
    StartContext: PVOID,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "PsCreateSystemThread");
    let Some(routine) = StartRoutine else {
        return STATUS_INVALID_PARAMETER;
    };
    if objects::with(|s| s.faults.fail_thread_creation) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let thread = ThreadObject::new();
    let handle = objects::with(|s| {
        s.threads_running += 1;
        s.insert_handle(HandleTarget::Thread(Arc::clone(&thread)))
    });
    let context = SendPtr(StartContext as usize);
    // The thread inherits the test's allocation-fault plan, as the driver's threads do on the
    // simulator.
    let plan = crate::sim::alloc_faults::current();
    let spawned = std::thread::Builder::new()
        .name(String::from("wsktrace-system-thread"))
        .spawn(move || {
            let context = context;
            crate::sim::alloc_faults::inherit(plan, || {
                // SAFETY: 1. The caller handed `StartRoutine` and `StartContext` over to be
                //            run on a new thread (contract); this is that thread.
                unsafe { routine(context.0 as PVOID) }
            });
            objects::with(|s| s.threads_running -= 1);
            dispatcher::set_state(&thread.header, 1);
        });
    if spawned.is_err() {
        objects::with(|s| {
            s.threads_running -= 1;
            s.handles.remove(&handle);
        });
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // SAFETY: 1. The caller passes writable storage for a `HANDLE` (contract).
    unsafe { ThreadHandle.write(handle as HANDLE) };
    STATUS_SUCCESS
}

/// `NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE
/// ObjectType, KPROCESSOR_MODE AccessMode, PVOID *Object, POBJECT_HANDLE_INFORMATION
/// HandleInformation)` (wdm.h): a counted reference to a thread object. With a `NULL`
/// `ObjectType` the type is not checked (what the glue passes); the stand-in has no object
/// types to check against, so any other value is reported as a violation.
///
/// # Safety
///
/// `Object` points to writable storage for a `PVOID`.
#[must_use]
pub unsafe extern "C" fn ObReferenceObjectByHandle(
    Handle: HANDLE,
    _DesiredAccess: ACCESS_MASK,
    ObjectType: POBJECT_TYPE,
    _AccessMode: KPROCESSOR_MODE,
    Object: *mut PVOID,
    _HandleInformation: POBJECT_HANDLE_INFORMATION,
) -> NTSTATUS {
    super::irql::require(super::irql::APC_LEVEL, "ObReferenceObjectByHandle");
    let referenced = objects::with(|s| {
        if s.faults.fail_object_reference {
            return Err(STATUS_OBJECT_TYPE_MISMATCH);
        }
        if !ObjectType.is_null() {
            s.violation(format!(
                "ObReferenceObjectByHandle with object type {ObjectType:p}: not modelled"
            ));
            return Err(STATUS_OBJECT_TYPE_MISMATCH);
        }
        match s.handles.get(&(Handle as usize)) {
            Some(HandleTarget::Thread(thread)) => {
                let pointer = Arc::into_raw(Arc::clone(thread)) as usize;
                s.references.push(pointer);
                Ok(pointer)
            }
            Some(_) => Err(STATUS_OBJECT_TYPE_MISMATCH),
            None => Err(STATUS_INVALID_HANDLE),
        }
    });
    match referenced {
        Ok(pointer) => {
            // SAFETY: 1. The caller passes writable storage for a `PVOID` (contract).
            unsafe { Object.write(pointer as PVOID) };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// `LONG_PTR ObfDereferenceObject(PVOID Object)` (wdm.h; `ObDereferenceObject` is a macro
/// for it): drops one reference taken by `ObReferenceObjectByHandle`.
///
/// # Safety
///
/// `Object` came from `ObReferenceObjectByHandle` and is dereferenced once.
pub unsafe extern "C" fn ObfDereferenceObject(Object: PVOID) -> LONG_PTR {
    let pointer = Object as usize;
    let known = objects::with(|s| match s.references.iter().position(|&p| p == pointer) {
        Some(index) => {
            s.references.swap_remove(index);
            true
        }
        None => {
            s.violation(format!(
                "ObfDereferenceObject of unreferenced object {Object:p}"
            ));
            false
        }
    });
    if known {
        // SAFETY: 1. `pointer` was produced by `Arc::into_raw` in `ObReferenceObjectByHandle`
        //            and its entry was just removed, so this reference is released once.
        drop(unsafe { Arc::from_raw(pointer as *const ThreadObject) });
    }
    0
}

/// `NTSTATUS ZwClose(HANDLE Handle)` (wdm.h).
///
/// # Safety
///
/// None beyond the WDK's: the handle is closed once.
#[must_use]
pub unsafe extern "C" fn ZwClose(Handle: HANDLE) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "ZwClose");
    objects::with(|s| match s.handles.remove(&(Handle as usize)) {
        Some(_) => STATUS_SUCCESS,
        None => {
            s.violation(format!("ZwClose of unknown handle {Handle:p}"));
            STATUS_INVALID_HANDLE
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

/// The text of a `UNICODE_STRING`.
///
/// # Safety
///
/// `string` is `NULL` or points to a `UNICODE_STRING` whose `Buffer` holds `Length` bytes.
unsafe fn unicode_to_string(string: PCUNICODE_STRING) -> Option<String> {
    if string.is_null() {
        return None;
    }
    // SAFETY: 1. Not `NULL`, and points to a `UNICODE_STRING` (contract).
    let string = unsafe { &*string };
    let units = usize::from(string.Length / 2);
    if units == 0 {
        return Some(String::new());
    }
    if string.Buffer.is_null() {
        return None;
    }
    // SAFETY: 1. `Buffer` is not `NULL` and holds `Length` bytes, `units` UTF-16 code units
    //            (contract); `u16` needs 2-byte alignment, which a `PWCH` has.
    let units = unsafe { core::slice::from_raw_parts(string.Buffer, units) };
    Some(String::from_utf16_lossy(units))
}

/// `NTSTATUS ZwOpenKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES
/// ObjectAttributes)` (wdm.h): opens a key of the stand-in registry (absolute, or relative to
/// `ObjectAttributes->RootDirectory`); a key exists if it or a subkey holds a value.
///
/// # Safety
///
/// `KeyHandle` points to writable storage for a `HANDLE`; `ObjectAttributes` to an
/// initialised `OBJECT_ATTRIBUTES` whose `ObjectName` is a valid `UNICODE_STRING`.
#[must_use]
pub unsafe extern "C" fn ZwOpenKey(
    KeyHandle: PHANDLE,
    _DesiredAccess: ACCESS_MASK,
    ObjectAttributes: POBJECT_ATTRIBUTES,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "ZwOpenKey");
    if ObjectAttributes.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. Not `NULL`, and points to an initialised `OBJECT_ATTRIBUTES` (contract).
    let attributes = unsafe { &*ObjectAttributes };
    if attributes.Length as usize != core::mem::size_of::<OBJECT_ATTRIBUTES>() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. `ObjectName` is a valid `UNICODE_STRING` (contract).
    let Some(name) = (unsafe { unicode_to_string(attributes.ObjectName) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let opened = objects::with(|s| {
        let path = if attributes.RootDirectory.is_null() {
            name
        } else {
            match s.handles.get(&(attributes.RootDirectory as usize)) {
                Some(HandleTarget::Key(root)) => format!("{root}\\{name}"),
                _ => return Err(STATUS_INVALID_HANDLE),
            }
        };
        let key = objects::key_name(&path);
        let prefix = format!("{key}\\");
        let exists = s
            .registry
            .keys()
            .any(|k| *k == key || k.starts_with(&prefix));
        if !exists {
            return Err(STATUS_OBJECT_NAME_NOT_FOUND);
        }
        Ok(s.insert_handle(HandleTarget::Key(key)))
    });
    match opened {
        Ok(handle) => {
            // SAFETY: 1. The caller passes writable storage for a `HANDLE` (contract).
            unsafe { KeyHandle.write(handle as HANDLE) };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// `NTSTATUS ZwQueryValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName,
/// KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, PVOID KeyValueInformation, ULONG
/// Length, PULONG ResultLength)` (wdm.h), for `KeyValuePartialInformation`: `ResultLength`
/// gets the size needed; a buffer too small for the header fails with
/// `STATUS_BUFFER_TOO_SMALL`, one too small for the data gets the header and
/// `STATUS_BUFFER_OVERFLOW`.
///
/// # Safety
///
/// `ValueName` is a valid `UNICODE_STRING`; `KeyValueInformation` points to `Length` writable
/// bytes aligned for `KEY_VALUE_PARTIAL_INFORMATION`; `ResultLength` to a writable `ULONG`.
#[must_use]
pub unsafe extern "C" fn ZwQueryValueKey(
    KeyHandle: HANDLE,
    ValueName: PUNICODE_STRING,
    KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
    KeyValueInformation: PVOID,
    Length: ULONG,
    ResultLength: PULONG,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "ZwQueryValueKey");
    if KeyValueInformationClass != _KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. `ValueName` is a valid `UNICODE_STRING` (contract).
    let Some(name) = (unsafe { unicode_to_string(ValueName) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let value = objects::with(|s| match s.handles.get(&(KeyHandle as usize)) {
        Some(HandleTarget::Key(key)) => Ok(s
            .registry
            .get(key)
            .and_then(|values| values.get(&name.to_lowercase()))
            .cloned()),
        _ => Err(()),
    });
    let value = match value {
        Ok(Some(value)) => value,
        Ok(None) => return STATUS_OBJECT_NAME_NOT_FOUND,
        Err(()) => {
            objects::with(|s| s.violation(format!("ZwQueryValueKey on bad handle {KeyHandle:p}")));
            return STATUS_INVALID_HANDLE;
        }
    };
    let header = core::mem::offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Data);
    let needed = header + value.data.len();
    let Ok(needed_ulong) = ULONG::try_from(needed) else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: 1. `ResultLength` points to a writable `ULONG` (contract).
    unsafe { ResultLength.write(needed_ulong) };
    if (Length as usize) < header {
        return STATUS_BUFFER_TOO_SMALL;
    }
    let info = KeyValueInformation.cast::<KEY_VALUE_PARTIAL_INFORMATION>();
    let fits = Length as usize >= needed;
    let data_length = if fits { value.data.len() } else { 0 };
    // SAFETY: 1. The buffer holds at least `header` bytes (checked above) and is aligned for
    //            `KEY_VALUE_PARTIAL_INFORMATION` (contract); these three fields lie within it.
    unsafe {
        info.write(KEY_VALUE_PARTIAL_INFORMATION {
            TitleIndex: 0,
            Type: value.kind,
            DataLength: needed_ulong - header as ULONG,
            Data: [0],
        })
    };
    if !fits {
        return STATUS_BUFFER_OVERFLOW;
    }
    // SAFETY: 1. `header` is within the caller's `Length` bytes (checked above).
    let data = unsafe { KeyValueInformation.cast::<u8>().add(header) };
    // SAFETY: 1. `data` has `Length - header >= value.data.len()` writable bytes (`fits`).
    //         2. The source is a live `Vec` that does not overlap the caller's buffer.
    unsafe { core::ptr::copy_nonoverlapping(value.data.as_ptr(), data, data_length) };
    STATUS_SUCCESS
}

// ---------------------------------------------------------------------------------------------
// IRPs
// ---------------------------------------------------------------------------------------------

/// Resets the IRP header and stack as `IoInitializeIrp` does.
fn initialize_irp(block: &mut IrpBlock, stack_size: usize, status: NTSTATUS) {
    block.irp.Type = 6; // IO_TYPE_IRP
    block.irp.Size = core::mem::size_of::<IrpBlock>() as USHORT;
    block.irp.IoStatus = IO_STATUS_BLOCK {
        __bindgen_anon_1: _IO_STATUS_BLOCK__bindgen_ty_1 { Status: status },
        Information: 0,
    };
    block.irp.PendingReturned = 0;
    block.irp.Cancel = 0;
    block.irp.StackCount = stack_size as CHAR;
    block.irp.CurrentLocation = stack_size as CHAR + 1;
    block.stack = [IO_STACK_LOCATION::default(); MAX_IRP_STACK];
    let past_end = block.stack.as_mut_ptr().wrapping_add(stack_size);
    // All of `Tail` zeroed (its largest member, `Apc`, spans it), then the stack pointer.
    let mut tail = _IRP__bindgen_ty_4 {
        Apc: _KAPC::default(),
    };
    tail.Overlay
        .__bindgen_anon_2
        .__bindgen_anon_1
        .CurrentStackLocation = past_end;
    block.irp.Tail = tail;
}

/// `PIRP IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)` (wdm.h): an IRP with
/// `StackSize` stack locations, no location current yet; `NULL` on failure.
///
/// # Safety
///
/// None beyond the WDK's: free the IRP with `IoFreeIrp`.
pub unsafe extern "C" fn IoAllocateIrp(StackSize: CCHAR, _ChargeQuota: BOOLEAN) -> PIRP {
    super::irql::require(super::irql::DISPATCH_LEVEL, "IoAllocateIrp");
    let Ok(stack_size) = usize::try_from(StackSize) else {
        return core::ptr::null_mut();
    };
    if stack_size == 0 || stack_size > MAX_IRP_STACK {
        return core::ptr::null_mut();
    }
    let refused = objects::with(|s| match &mut s.faults.irp_allocations_left {
        Some(0) => true,
        Some(left) => {
            *left -= 1;
            false
        }
        None => false,
    });
    if refused {
        return core::ptr::null_mut();
    }
    // SAFETY: 1. `IrpBlock` is plain data (integers, raw pointers, `Option<fn>`, unions of
    //            those): all-zero bytes are a valid value of every field.
    let block = Box::into_raw(Box::new(unsafe { core::mem::zeroed::<IrpBlock>() }));
    // SAFETY: 1. `block` comes from `Box::into_raw` just above: valid, aligned, unaliased.
    initialize_irp(unsafe { &mut *block }, stack_size, STATUS_SUCCESS);
    objects::with(|s| {
        s.irps.insert(block as usize);
        s.irps_allocated += 1;
    });
    block.cast::<IRP>()
}

/// `VOID IoFreeIrp(PIRP Irp)` (wdm.h).
///
/// # Safety
///
/// `Irp` came from `IoAllocateIrp` and no driver still owns it.
pub unsafe extern "C" fn IoFreeIrp(Irp: PIRP) {
    super::irql::require(super::irql::DISPATCH_LEVEL, "IoFreeIrp");
    if !objects::with(|s| s.irps.remove(&(Irp as usize))) {
        objects::with(|s| s.violation(format!("IoFreeIrp of unknown IRP {Irp:p}")));
        return;
    }
    // SAFETY: 1. `Irp` is the `Box::into_raw` pointer of an `IrpBlock` (`irp` is its first
    //            field, `repr(C)`) whose entry was just removed, so it is freed once.
    drop(unsafe { Box::from_raw(Irp.cast::<IrpBlock>()) });
}

/// `VOID IoReuseIrp(PIRP Irp, NTSTATUS Iostatus)` (wdm.h): reinitialises a completed IRP for
/// another request.
///
/// # Safety
///
/// `Irp` came from `IoAllocateIrp` and no driver owns it.
pub unsafe extern "C" fn IoReuseIrp(Irp: PIRP, Iostatus: NTSTATUS) {
    super::irql::require(super::irql::DISPATCH_LEVEL, "IoReuseIrp");
    if !objects::with(|s| s.irps.contains(&(Irp as usize))) {
        objects::with(|s| s.violation(format!("IoReuseIrp of unknown IRP {Irp:p}")));
        return;
    }
    // SAFETY: 1. `Irp` is a live `IrpBlock` from `IoAllocateIrp` (checked above) that no one
    //            else uses now (contract).
    let block = unsafe { &mut *Irp.cast::<IrpBlock>() };
    let stack_size = usize::try_from(block.irp.StackCount).unwrap_or(1);
    initialize_irp(block, stack_size, Iostatus);
}

/// Completes `irp` the way a WSK provider does (not a WDK routine): the provider owns the
/// stack location below the caller's current one (where the caller put its completion
/// routine); completing it steps back up and calls that routine when its `SL_INVOKE_ON_*`
/// flags match. A client-allocated IRP must end there with
/// `STATUS_MORE_PROCESSING_REQUIRED`; anything else is recorded as a violation.
///
/// # Safety
///
/// `irp` is a live IRP from `IoAllocateIrp` that was passed to the provider.
pub(crate) unsafe fn complete_irp(irp: PIRP, status: NTSTATUS, information: ULONG_PTR) {
    if !objects::with(|s| s.irps.contains(&(irp as usize))) {
        objects::with(|s| s.violation(format!("completion of unknown IRP {irp:p}")));
        return;
    }
    // SAFETY: 1. `irp` is a live IRP (checked above) owned by the provider until completion.
    let irp_ref = unsafe { &mut *irp };
    irp_ref.IoStatus = IO_STATUS_BLOCK {
        __bindgen_anon_1: _IO_STATUS_BLOCK__bindgen_ty_1 { Status: status },
        Information: information,
    };
    if irp_ref.CurrentLocation <= 1 {
        objects::with(|s| {
            s.violation(String::from(
                "IRP passed to the provider with no stack location left",
            ))
        });
        return;
    }
    let cancel = irp_ref.Cancel != 0;
    // SAFETY: 1. The stand-in keeps `Tail.Overlay` as the active union member of every IRP it
    //            allocates (`initialize_irp`), and `CurrentLocation > 1` leaves a location
    //            below the caller's current one: the provider's.
    let location = unsafe { crate::wsk_abi::IoGetNextIrpStackLocation(irp) };
    // SAFETY: 1. `location` points into the live IRP's stack array, owned by the provider now.
    let location = unsafe { &mut *location };
    let flag = if cancel {
        SL_INVOKE_ON_CANCEL
    } else if status >= 0 {
        SL_INVOKE_ON_SUCCESS
    } else {
        SL_INVOKE_ON_ERROR
    };
    let routine = location.CompletionRoutine;
    let context = location.Context;
    let invoke = u32::from(location.Control) & flag != 0;
    match routine {
        Some(routine) if invoke => {
            // Completion routines may run at DISPATCH_LEVEL: hold them to it.
            let old = super::irql::raise_to_dispatch();
            // SAFETY: 1. The routine and its context were set by the IRP's owner for exactly
            //            this call; the IRP is live until the routine returns.
            let result = unsafe { routine(core::ptr::null_mut(), irp, context) };
            super::irql::lower(old);
            if result != STATUS_MORE_PROCESSING_REQUIRED {
                objects::with(|s| {
                    s.violation(format!(
                        "completion routine of a client-allocated IRP returned {result:#x}, not STATUS_MORE_PROCESSING_REQUIRED"
                    ))
                });
            }
            // The routine may have freed the IRP: do not touch it again.
        }
        _ => objects::with(|s| {
            s.violation(String::from(
                "client IRP completed without a completion routine to stop it",
            ))
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Device objects, symbolic links and the completion of dispatched IRPs
// ---------------------------------------------------------------------------------------------

/// `NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
/// PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType, ULONG DeviceCharacteristics, BOOLEAN
/// Exclusive, PDEVICE_OBJECT *DeviceObject)` (wdm.h): a named device of the driver; a name in
/// use fails with `STATUS_OBJECT_NAME_COLLISION`. Device extensions are not modelled (0 only).
///
/// # Safety
///
/// `DriverObject` is the caller's driver object; `DeviceName` a valid `UNICODE_STRING`;
/// `DeviceObject` writable storage for a `PDEVICE_OBJECT`.
#[must_use]
pub unsafe extern "C" fn IoCreateDevice(
    DriverObject: PDRIVER_OBJECT,
    DeviceExtensionSize: ULONG,
    DeviceName: PUNICODE_STRING,
    _DeviceType: ULONG,
    _DeviceCharacteristics: ULONG,
    _Exclusive: BOOLEAN,
    DeviceObject: *mut PDEVICE_OBJECT,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "IoCreateDevice");
    if DeviceExtensionSize != 0 {
        objects::with(|s| s.violation(String::from("IoCreateDevice: a device extension")));
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: 1. `DeviceName` is a valid `UNICODE_STRING` (contract).
    let Some(name) = (unsafe { unicode_to_string(DeviceName) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let name = name.to_lowercase();
    let created = objects::with(|s| {
        if s.devices.values().any(|(n, _)| *n == name) {
            return Err(STATUS_OBJECT_NAME_COLLISION);
        }
        let device = Box::into_raw(Box::new(_DEVICE_OBJECT::default())) as usize;
        s.devices.insert(device, (name, DriverObject as usize));
        Ok(device)
    });
    match created {
        Ok(device) => {
            // SAFETY: 1. Writable storage for a `PDEVICE_OBJECT` (contract).
            unsafe { DeviceObject.write(device as PDEVICE_OBJECT) };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// `VOID IoDeleteDevice(PDEVICE_OBJECT DeviceObject)` (wdm.h).
///
/// # Safety
///
/// `DeviceObject` came from `IoCreateDevice` and is deleted once.
pub unsafe extern "C" fn IoDeleteDevice(DeviceObject: PDEVICE_OBJECT) {
    super::irql::require(super::irql::PASSIVE_LEVEL, "IoDeleteDevice");
    let device = DeviceObject as usize;
    if objects::with(|s| s.devices.remove(&device)).is_none() {
        objects::with(|s| s.violation(format!("IoDeleteDevice of unknown device {device:#x}")));
        return;
    }
    // SAFETY: 1. `device` is the `Box::into_raw` of `IoCreateDevice`, whose entry was just
    //            removed, so it is freed once.
    drop(unsafe { Box::from_raw(device as *mut _DEVICE_OBJECT) });
}

/// `NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING
/// DeviceName)` (wdm.h).
///
/// # Safety
///
/// Both are valid `UNICODE_STRING`s.
#[must_use]
pub unsafe extern "C" fn IoCreateSymbolicLink(
    SymbolicLinkName: PUNICODE_STRING,
    DeviceName: PUNICODE_STRING,
) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "IoCreateSymbolicLink");
    // SAFETY: 1. A valid `UNICODE_STRING` (contract).
    let link = unsafe { unicode_to_string(SymbolicLinkName) };
    // SAFETY: 1. A valid `UNICODE_STRING` (contract).
    let device = unsafe { unicode_to_string(DeviceName) };
    let (Some(link), Some(device)) = (link, device) else {
        return STATUS_INVALID_PARAMETER;
    };
    objects::with(|s| {
        let link = link.to_lowercase();
        if s.symbolic_links.contains_key(&link) {
            return STATUS_OBJECT_NAME_COLLISION;
        }
        s.symbolic_links.insert(link, device.to_lowercase());
        STATUS_SUCCESS
    })
}

/// `NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)` (wdm.h).
///
/// # Safety
///
/// `SymbolicLinkName` is a valid `UNICODE_STRING`.
#[must_use]
pub unsafe extern "C" fn IoDeleteSymbolicLink(SymbolicLinkName: PUNICODE_STRING) -> NTSTATUS {
    super::irql::require(super::irql::PASSIVE_LEVEL, "IoDeleteSymbolicLink");
    // SAFETY: 1. A valid `UNICODE_STRING` (contract).
    let Some(link) = (unsafe { unicode_to_string(SymbolicLinkName) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    objects::with(|s| match s.symbolic_links.remove(&link.to_lowercase()) {
        Some(_) => STATUS_SUCCESS,
        None => STATUS_OBJECT_NAME_NOT_FOUND,
    })
}

/// `VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)` (wdm.h; `IoCompleteRequest` is a
/// macro for it): a driver completes an IRP the I/O manager dispatched to it. The stand-in
/// records the status for the dispatching side ([`super::host::dispatch`]).
///
/// # Safety
///
/// `Irp` is an IRP dispatched to the caller, completed once.
pub unsafe extern "C" fn IofCompleteRequest(Irp: PIRP, _PriorityBoost: CCHAR) {
    super::irql::require(super::irql::DISPATCH_LEVEL, "IofCompleteRequest");
    // SAFETY: 1. `Irp` is a live IRP dispatched to the caller (contract).
    let irp_ref = unsafe { &*Irp };
    // SAFETY: 1. The driver set `Status` before completing (every bit pattern is an `i32`).
    let status = unsafe { irp_ref.IoStatus.__bindgen_anon_1.Status };
    let irp = Irp as usize;
    objects::with(|s| {
        if s.completed.insert(irp, status).is_some() {
            s.violation(format!("IofCompleteRequest of IRP {irp:#x} twice"));
        }
    });
}
