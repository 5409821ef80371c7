//! Reading the service's `Parameters` key (`ZwOpenKey` / `ZwQueryValueKey` / `ZwClose`).
//! Anything that fails (no key, no value, a value of another type) leaves that value absent,
//! and absent values take their defaults ([`super::params`]). Nothing here allocates but the
//! client name, fallibly: names and values live in buffers on the stack.

use alloc::string::String;
use core::mem::{offset_of, size_of};

use super::params::{self, RawParameters, LISTEN_ADDRESS, PARAMETERS_KEY, VALUE_NAMES};
use super::wdk;
use crate::fallible::AllocError;
use wdk::ntddk::{ZwClose, ZwOpenKey, ZwQueryValueKey};
use wdk::{
    _KEY_VALUE_INFORMATION_CLASS, HANDLE, KEY_READ, KEY_VALUE_PARTIAL_INFORMATION,
    OBJECT_ATTRIBUTES, OBJ_CASE_INSENSITIVE, OBJ_KERNEL_HANDLE, PCUNICODE_STRING, UNICODE_STRING,
};

/// An open registry key, closed when dropped (so every return path closes it).
struct Key(HANDLE);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: 1. `self.0` is a key handle `ZwOpenKey` returned; it is closed once, here.
        let _ = unsafe { ZwClose(self.0) };
    }
}

/// A `UNICODE_STRING` over `units` (which must outlive its use).
fn unicode(units: &mut [u16]) -> UNICODE_STRING {
    let bytes = u16::try_from(units.len() * 2).unwrap_or(0xFFFE);
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: units.as_mut_ptr(),
    }
}

/// Opens `name` (absolute when `root` is `None`, else relative to `root`) for reading.
///
/// # Safety
///
/// `name` points to a valid `UNICODE_STRING`.
unsafe fn open_key(root: Option<&Key>, name: *mut UNICODE_STRING) -> Option<Key> {
    let mut attributes = OBJECT_ATTRIBUTES {
        Length: size_of::<OBJECT_ATTRIBUTES>() as u32,
        RootDirectory: root.map_or(core::ptr::null_mut(), |key| key.0),
        ObjectName: name,
        Attributes: OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
        SecurityDescriptor: core::ptr::null_mut(),
        SecurityQualityOfService: core::ptr::null_mut(),
    };
    let mut handle: HANDLE = core::ptr::null_mut();
    // SAFETY: 1. `handle` is writable storage for the key handle.
    //         2. `attributes` is fully initialised (as `InitializeObjectAttributes` would) and
    //            its `ObjectName` is valid (contract); `RootDirectory` is an open key or NULL.
    //         3. PASSIVE_LEVEL (DriverEntry).
    let status = unsafe { ZwOpenKey(&mut handle, KEY_READ, &mut attributes) };
    // Only a handle that was opened may be wrapped: `Key` closes it when dropped.
    (status >= 0).then(|| Key(handle))
}

/// A `KEY_VALUE_PARTIAL_INFORMATION` with room for the longest value the driver accepts (a
/// `REG_SZ` of [`params::ShortText::CAPACITY`] characters and its NUL); a longer value reports
/// `STATUS_BUFFER_OVERFLOW` and is treated as absent.
#[repr(C, align(8))]
struct ValueBuffer([u8; VALUE_BUFFER]);

const VALUE_BUFFER: usize = 16 + 2 * (params::ShortText::CAPACITY + 1);

/// The longest value name, in UTF-16 code units.
const MAX_NAME: usize = 32;

/// Reads `name` under `key` into `buffer`: the value's type and data.
fn query_value<'a>(key: &Key, name: &str, buffer: &'a mut ValueBuffer) -> Option<(u32, &'a [u8])> {
    let mut name_units = [0u16; MAX_NAME];
    let mut value_name = unicode(params::utf16(name, &mut name_units)?);
    let mut result_length: u32 = 0;
    const _: () = assert!(size_of::<ValueBuffer>() >= size_of::<KEY_VALUE_PARTIAL_INFORMATION>());
    // SAFETY: 1. `key.0` is an open key handle.
    //         2. `value_name` is a valid `UNICODE_STRING` over `name_units`, alive for the call.
    //         3. `buffer` has the bytes the length says, aligned for
    //            `KEY_VALUE_PARTIAL_INFORMATION` (align 8 >= its align 4).
    //         4. `result_length` is writable.
    let status = unsafe {
        ZwQueryValueKey(
            key.0,
            &mut value_name,
            _KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
            buffer.0.as_mut_ptr().cast(),
            VALUE_BUFFER as u32,
            &mut result_length,
        )
    };
    if status < 0 {
        return None;
    }
    // Parse the header from the bytes (no cast back to the struct needed).
    let field = |offset: usize| {
        let bytes = buffer.0.get(offset..offset + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    let kind = field(offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Type))?;
    let length = field(offset_of!(KEY_VALUE_PARTIAL_INFORMATION, DataLength))? as usize;
    let data_start = offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Data);
    let data = buffer.0.get(data_start..data_start.checked_add(length)?)?;
    Some((kind, data))
}

/// The values of `<registry_path>\Parameters`.
///
/// # Safety
///
/// `registry_path` points to a valid `UNICODE_STRING` (DriverEntry's `RegistryPath`).
pub(super) unsafe fn read_parameters(registry_path: PCUNICODE_STRING) -> RawParameters {
    let mut raw = RawParameters::default();
    if registry_path.is_null() {
        return raw;
    }
    // `ZwOpenKey` takes a mutable pointer but does not write the name: pass a copy.
    // SAFETY: 1. Not NULL, and points to a valid `UNICODE_STRING` (contract).
    let mut service_name = unsafe { *registry_path };
    // SAFETY: 1. `service_name` is a valid `UNICODE_STRING` (a copy of the caller's).
    let Some(service) = (unsafe { open_key(None, &mut service_name) }) else {
        return raw;
    };
    let mut subkey_units = [0u16; MAX_NAME];
    let Some(subkey_name) = params::utf16(PARAMETERS_KEY, &mut subkey_units) else {
        return raw;
    };
    let mut subkey = unicode(subkey_name);
    // SAFETY: 1. `subkey` is a valid `UNICODE_STRING` over `subkey_units`.
    let Some(parameters) = (unsafe { open_key(Some(&service), &mut subkey) }) else {
        return raw;
    };
    let mut buffer = ValueBuffer([0; VALUE_BUFFER]);
    for name in VALUE_NAMES {
        let value = query_value(&parameters, name, &mut buffer);
        if name == LISTEN_ADDRESS {
            raw.set_text(
                name,
                value.and_then(|(kind, data)| params::text(kind, data)),
            );
        } else {
            raw.set(
                name,
                value.and_then(|(kind, data)| params::dword(kind, data)),
            );
        }
    }
    raw
}

/// The client name (last component of the registry path); its memory is reserved fallibly.
///
/// # Safety
///
/// `registry_path` is NULL or points to a valid `UNICODE_STRING`.
pub(super) unsafe fn client_name(registry_path: PCUNICODE_STRING) -> Result<String, AllocError> {
    if registry_path.is_null() {
        return params::client_name(&[]);
    }
    // SAFETY: 1. Not NULL, and points to a valid `UNICODE_STRING` (contract).
    let path = unsafe { &*registry_path };
    let units = usize::from(path.Length) / 2;
    if units == 0 || path.Buffer.is_null() {
        return params::client_name(&[]);
    }
    // SAFETY: 1. `Buffer` is not NULL and holds `Length` bytes of UTF-16 (contract), aligned
    //            for `u16`; `units * 2 <= u16::MAX` bytes, far below `isize::MAX`.
    //         2. The I/O manager does not change the path during DriverEntry.
    let path = unsafe { core::slice::from_raw_parts(path.Buffer, units) };
    params::client_name(path)
}
