/*
 * wsktap.sys: the kernel ETW stand-in of the Wine run (tests/windows/wine-run.sh).
 *
 * Wine's ntoskrnl.exe has no kernel ETW: no EtwRegister, EtwWriteTransfer, EtwSetInformation
 * or EtwActivityIdControl, and no ExAllocatePool2 (which wdk-alloc calls). The driver image's
 * imports of exactly those functions are pointed at this module (tests/windows/wine_imports.rs
 * rewrites the import directory; no byte of code or data changes), which implements them:
 *
 * - EtwRegister enables the provider at once through its enable callback, as an ETW session
 *   with every keyword at level 5 (verbose) would;
 * - every call is appended to C:\wsktrace-tap.bin (wsktap.h: the format), with the thread,
 *   process, processor and a KeQueryPerformanceCounter timestamp. EtwWriteTransfer records
 *   its EVENT_DESCRIPTOR, activity ids and every EVENT_DATA_DESCRIPTOR with its bytes: the
 *   TraceLogging provider traits (type 2), event metadata (type 1) and the payload (type 0).
 *   `wsktrace tap-to-etl` turns that into the ETL file ETW would have written.
 *
 * Built with mingw-w64's gcc against its DDK headers, which is independent from the driver's
 * toolchain and from the `tracelogging` crate's own declarations of these functions.
 * Records are written with ZwWriteFile at offsets reserved atomically, so concurrent writers
 * never interleave; the file is flushed by the time the driver's unload returns because
 * every write is synchronous.
 */
#include <ntifs.h>

#include "wsktap.h"

/* wdm.h reads KUSER_SHARED_DATA for this on amd64, which Wine emulates by trapping; Wine's
 * ntoskrnl.exe exports the function, so call that. */
#undef KeQuerySystemTime
__declspec(dllimport) VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
/* wdm.h inlines this as a read of the processor block through gs, which Wine does not have;
 * call Wine's export through its import slot (KeGetCurrentProcessorNumberEx would log a
 * "semi-stub" FIXME on every event). */
extern ULONG(NTAPI *__imp_KeGetCurrentProcessorNumber)(VOID);

/* evntrace.h (user-mode; its values are those of the kernel's ETW). */
#define EVENT_CONTROL_CODE_ENABLE_PROVIDER 1
#define TRACE_LEVEL_VERBOSE 5
/* POOL_FLAGS (wdm.h of the Windows 10 2004 WDK; not in mingw-w64's DDK). */
#define POOL_FLAG_UNINITIALIZED 0x2ULL
#define POOL_FLAG_PAGED 0x100ULL

/* The layouts tools/src/etw_tap/format.rs reads. */
_Static_assert(sizeof(struct tap_file_header) == 56, "tap_file_header");
_Static_assert(sizeof(struct tap_record_header) == 40, "tap_record_header");
_Static_assert(sizeof(struct tap_register_body) == 40, "tap_register_body");
_Static_assert(sizeof(struct tap_set_information_body) == 8, "tap_set_information_body");
_Static_assert(sizeof(struct tap_write_body) == 56, "tap_write_body");
_Static_assert(sizeof(struct tap_data) == 8, "tap_data");
_Static_assert(sizeof(struct tap_unregister_body) == 8, "tap_unregister_body");
_Static_assert(sizeof(struct tap_thread) == 8, "tap_thread");
_Static_assert(sizeof(struct tap_activity_id_body) == 40, "tap_activity_id_body");
_Static_assert(sizeof(EVENT_DESCRIPTOR) == 16 && sizeof(EVENT_DATA_DESCRIPTOR) == 16,
               "evntprov.h layouts");

#define TAP_POOL_TAG 0x70617457u /* "Wtap" in memory */
#define MAX_PROVIDERS 16
#define MAX_THREADS 64
#define MAX_ACTIVITY_THREADS 64
#define MAX_RECORD_SIZE (16u << 20)

static const WCHAR record_path[] = L"\\??\\C:\\wsktrace-tap.bin";

struct provider {
    GUID id;
    PETWENABLECALLBACK callback;
    PVOID context;
    int in_use;
    /* The threads that wrote its events (the first MAX_THREADS of them). */
    ULONG threads[MAX_THREADS];
    unsigned int thread_count;
};

/* Registrations; a REGHANDLE is the slot index + 1. */
static struct provider providers[MAX_PROVIDERS];
static int registered;
/* The record file: open while any provider is registered. */
static HANDLE file;
static long long file_end;
/* Guards `providers`, `registered` and opening/closing `file` (held briefly, never across a
 * callback into the driver; the driver calls register and unregister at PASSIVE_LEVEL). */
static volatile long table_lock;

/* Per-thread activity ids of EtwActivityIdControl, and the counter CREATE_ID draws from. */
static struct {
    ULONG thread_id;
    GUID id;
} activity_ids[MAX_ACTIVITY_THREADS];
static volatile long activity_lock;
static volatile long long activity_counter;

static void lock(volatile long *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
}

static void unlock(volatile long *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static unsigned int pad8(unsigned int n)
{
    return (n + 7u) & ~7u;
}

static long long qpc(long long *frequency)
{
    LARGE_INTEGER f, now = KeQueryPerformanceCounter(&f);
    if (frequency)
        *frequency = f.QuadPart;
    return now.QuadPart;
}

static NTSTATUS write_at(const void *data, unsigned int size, long long offset)
{
    IO_STATUS_BLOCK io;
    LARGE_INTEGER at;
    at.QuadPart = offset;
    return ZwWriteFile(file, NULL, NULL, NULL, &io, (PVOID)data, size, &at, NULL);
}

/* The `~MHz` value of the first processor's registry key (where Windows and Wine keep the
 * processor speed); 0 when it cannot be read. */
static unsigned int cpu_mhz(void)
{
    static const WCHAR key_path[] =
        L"\\Registry\\Machine\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0";
    static const WCHAR value_name[] = L"~MHz";
    union {
        KEY_VALUE_PARTIAL_INFORMATION info;
        unsigned char bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + sizeof(ULONG)];
    } value;
    UNICODE_STRING key_name, name;
    OBJECT_ATTRIBUTES attributes;
    unsigned int mhz = 0;
    ULONG length;
    HANDLE key;

    RtlInitUnicodeString(&key_name, key_path);
    RtlInitUnicodeString(&name, value_name);
    InitializeObjectAttributes(&attributes, &key_name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &attributes)))
        return 0;
    if (NT_SUCCESS(ZwQueryValueKey(key, &name, KeyValuePartialInformation, &value, sizeof(value),
                                   &length)) &&
        value.info.Type == REG_DWORD && value.info.DataLength == sizeof(ULONG))
        RtlCopyMemory(&mhz, value.info.Data, sizeof(mhz));
    ZwClose(key);
    return mhz;
}

/* Creates the record file and writes its header; called with table_lock held. */
static NTSTATUS open_record_file(void)
{
    struct tap_file_header header;
    RTL_OSVERSIONINFOW version;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK io;
    LARGE_INTEGER now;
    NTSTATUS status;

    RtlInitUnicodeString(&name, record_path);
    InitializeObjectAttributes(&attributes, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               NULL, NULL);
    /* A later registration in the same load appends to what the earlier ones wrote. */
    status = ZwCreateFile(&file, GENERIC_WRITE | SYNCHRONIZE, &attributes, &io, NULL,
                          FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ,
                          file_end ? FILE_OPEN : FILE_OVERWRITE_IF,
                          FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE, NULL, 0);
    if (!NT_SUCCESS(status)) {
        file = NULL;
        return status;
    }
    if (file_end)
        return STATUS_SUCCESS;
    RtlZeroMemory(&header, sizeof(header));
    RtlCopyMemory(header.magic, TAP_MAGIC, sizeof(header.magic));
    header.version = TAP_VERSION;
    header.processors = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    header.start_qpc = qpc(&header.qpc_frequency);
    KeQuerySystemTime(&now);
    header.start_system_time = now.QuadPart;
    RtlZeroMemory(&version, sizeof(version));
    version.dwOSVersionInfoSize = sizeof(version);
    if (NT_SUCCESS(RtlGetVersion(&version))) {
        header.os_major = version.dwMajorVersion;
        header.os_minor = version.dwMinorVersion;
        header.os_build = version.dwBuildNumber;
    }
    header.cpu_mhz = cpu_mhz();
    status = write_at(&header, sizeof(header), 0);
    if (NT_SUCCESS(status))
        file_end = sizeof(header);
    return status;
}

/* A record of `kind` with room for `body` bytes after its header; NULL when out of memory. */
static struct tap_record_header *new_record(unsigned int kind, unsigned long long body,
                                            ULONGLONG handle, NTSTATUS status)
{
    unsigned long long size = sizeof(struct tap_record_header) + body;
    struct tap_record_header *record;

    if (size > MAX_RECORD_SIZE)
        return NULL;
    size = pad8((unsigned int)size);
    record = ExAllocatePoolWithTag(NonPagedPool, size, TAP_POOL_TAG);
    if (!record)
        return NULL;
    RtlZeroMemory(record, size);
    record->size = (unsigned int)size;
    record->kind = kind;
    record->qpc = qpc(NULL);
    record->thread_id = (unsigned int)(ULONG_PTR)PsGetCurrentThreadId();
    record->process_id = (unsigned int)(ULONG_PTR)PsGetCurrentProcessId();
    record->processor = __imp_KeGetCurrentProcessorNumber();
    record->status = status;
    record->handle = handle;
    return record;
}

/* Appends the record (at an offset no other writer gets) and frees it. */
static void commit(struct tap_record_header *record)
{
    long long at;

    if (file) {
        at = __atomic_fetch_add(&file_end, (long long)record->size, __ATOMIC_RELAXED);
        write_at(record, record->size, at);
    }
    ExFreePoolWithTag(record, TAP_POOL_TAG);
}

static void *body_of(struct tap_record_header *record)
{
    return record + 1;
}

static struct provider *provider_of(REGHANDLE handle)
{
    if (handle == 0 || handle > MAX_PROVIDERS || !providers[handle - 1].in_use)
        return NULL;
    return &providers[handle - 1];
}

NTSTATUS NTAPI tap_EtwRegister(LPCGUID ProviderId, PETWENABLECALLBACK EnableCallback,
                               PVOID CallbackContext, PREGHANDLE RegHandle)
{
    struct tap_record_header *record;
    struct tap_register_body *body;
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;
    REGHANDLE handle = 0;
    unsigned int i;

    if (!ProviderId || !RegHandle)
        return STATUS_INVALID_PARAMETER;
    lock(&table_lock);
    for (i = 0; i < MAX_PROVIDERS && !handle; i++) {
        if (!providers[i].in_use) {
            providers[i].id = *ProviderId;
            providers[i].callback = EnableCallback;
            providers[i].context = CallbackContext;
            providers[i].in_use = 1;
            handle = i + 1;
        }
    }
    if (handle && !file && !NT_SUCCESS(status = open_record_file())) {
        providers[handle - 1].in_use = 0;
        handle = 0;
    }
    if (handle) {
        registered++;
        status = STATUS_SUCCESS;
    }
    unlock(&table_lock);
    *RegHandle = handle;
    if (!handle)
        return status;

    record = new_record(TAP_REGISTER, sizeof(*body), handle, status);
    if (record) {
        body = body_of(record);
        RtlCopyMemory(body->provider_id, ProviderId, sizeof(body->provider_id));
        if (EnableCallback) {
            body->match_any_keyword = ~0ULL;
            body->match_all_keyword = 0;
            body->level = TRACE_LEVEL_VERBOSE;
            body->control_code = EVENT_CONTROL_CODE_ENABLE_PROVIDER;
        }
        commit(record);
    }
    /* As ETW does when a session already enables the provider: the callback runs before
     * EtwRegister returns. */
    if (EnableCallback)
        EnableCallback(ProviderId, EVENT_CONTROL_CODE_ENABLE_PROVIDER, TRACE_LEVEL_VERBOSE,
                       ~0ULL, 0, NULL, CallbackContext);
    return STATUS_SUCCESS;
}

/* TAP_THREAD_RUNNING if thread `id` still runs, else TAP_THREAD_ENDED. */
static unsigned int thread_state(ULONG id)
{
    LARGE_INTEGER no_wait;
    PETHREAD thread;
    NTSTATUS status;

    if (!NT_SUCCESS(PsLookupThreadByThreadId((HANDLE)(ULONG_PTR)id, &thread)))
        return TAP_THREAD_ENDED; /* no such thread any more */
    no_wait.QuadPart = 0;
    status = KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, &no_wait);
    ObDereferenceObject(thread);
    return status == STATUS_TIMEOUT ? TAP_THREAD_RUNNING : TAP_THREAD_ENDED;
}

NTSTATUS NTAPI tap_EtwUnregister(REGHANDLE RegHandle)
{
    ULONG caller = (ULONG)(ULONG_PTR)PsGetCurrentThreadId();
    struct tap_record_header *record;
    struct tap_unregister_body *body;
    struct tap_thread *threads;
    struct provider *provider;
    unsigned int i, count;

    lock(&table_lock);
    provider = provider_of(RegHandle);
    count = provider ? provider->thread_count : 0;
    unlock(&table_lock);
    if (!provider)
        return STATUS_INVALID_HANDLE;
    record = new_record(TAP_UNREGISTER, sizeof(*body) + count * sizeof(*threads), RegHandle,
                        STATUS_SUCCESS);
    if (record) {
        body = body_of(record);
        body->count = count;
        threads = (struct tap_thread *)(body + 1);
        for (i = 0; i < count; i++) {
            threads[i].thread_id = provider->threads[i];
            threads[i].state = provider->threads[i] == caller
                                   ? TAP_THREAD_CALLER
                                   : thread_state(provider->threads[i]);
        }
        commit(record);
    }
    lock(&table_lock);
    provider->in_use = 0;
    provider->thread_count = 0;
    if (--registered == 0 && file) {
        ZwClose(file);
        file = NULL;
    }
    unlock(&table_lock);
    return STATUS_SUCCESS;
}

/* Notes that the calling thread wrote an event of `provider`. */
static void note_thread(struct provider *provider)
{
    ULONG id = (ULONG)(ULONG_PTR)PsGetCurrentThreadId();
    unsigned int i;

    lock(&table_lock);
    for (i = 0; i < provider->thread_count && provider->threads[i] != id; i++)
        ;
    if (i == provider->thread_count && i < MAX_THREADS)
        provider->threads[provider->thread_count++] = id;
    unlock(&table_lock);
}

NTSTATUS NTAPI tap_EtwSetInformation(REGHANDLE RegHandle, ULONG InformationClass,
                                     PVOID EventInformation, ULONG InformationLength)
{
    struct tap_record_header *record;
    struct tap_set_information_body *body;

    if (!provider_of(RegHandle))
        return STATUS_INVALID_HANDLE;
    if (InformationLength && !EventInformation)
        return STATUS_INVALID_PARAMETER;
    record = new_record(TAP_SET_INFORMATION, sizeof(*body) + (unsigned long long)InformationLength,
                        RegHandle, STATUS_SUCCESS);
    if (!record)
        return STATUS_INSUFFICIENT_RESOURCES;
    body = body_of(record);
    body->information_class = InformationClass;
    body->length = InformationLength;
    RtlCopyMemory(body + 1, EventInformation, InformationLength);
    commit(record);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI tap_EtwWriteTransfer(REGHANDLE RegHandle, PCEVENT_DESCRIPTOR EventDescriptor,
                                    LPCGUID ActivityId, LPCGUID RelatedActivityId,
                                    ULONG UserDataCount, PEVENT_DATA_DESCRIPTOR UserData)
{
    struct provider *provider = provider_of(RegHandle);
    struct tap_record_header *record;
    struct tap_write_body *body;
    unsigned long long size = sizeof(*body);
    unsigned char *at;
    ULONG i;

    if (!provider)
        return STATUS_INVALID_HANDLE;
    if (!EventDescriptor || (UserDataCount && !UserData))
        return STATUS_INVALID_PARAMETER;
    note_thread(provider);
    for (i = 0; i < UserDataCount; i++)
        size += sizeof(struct tap_data) + pad8(UserData[i].Size);
    record = new_record(TAP_WRITE, size, RegHandle, STATUS_SUCCESS);
    if (!record)
        return STATUS_INSUFFICIENT_RESOURCES;
    body = body_of(record);
    RtlCopyMemory(body->descriptor, EventDescriptor, sizeof(body->descriptor));
    if (ActivityId) {
        body->flags |= TAP_WRITE_ACTIVITY_ID;
        RtlCopyMemory(body->activity_id, ActivityId, sizeof(body->activity_id));
    }
    if (RelatedActivityId) {
        body->flags |= TAP_WRITE_RELATED_ACTIVITY_ID;
        RtlCopyMemory(body->related_activity_id, RelatedActivityId,
                      sizeof(body->related_activity_id));
    }
    body->count = UserDataCount;
    at = (unsigned char *)(body + 1);
    for (i = 0; i < UserDataCount; i++) {
        struct tap_data item = { UserData[i].Size, UserData[i].Reserved };
        RtlCopyMemory(at, &item, sizeof(item));
        at += sizeof(item);
        RtlCopyMemory(at, (const void *)(ULONG_PTR)UserData[i].Ptr, UserData[i].Size);
        at += pad8(UserData[i].Size);
    }
    commit(record);
    return STATUS_SUCCESS;
}

/* The calling thread's slot in activity_ids (a free one when `create`); NULL when full.
 * Called with activity_lock held. */
static GUID *thread_activity_id(ULONG thread_id, int create)
{
    unsigned int i;
    GUID *free_slot = NULL;

    for (i = 0; i < MAX_ACTIVITY_THREADS; i++) {
        if (activity_ids[i].thread_id == thread_id)
            return &activity_ids[i].id;
        if (!activity_ids[i].thread_id && !free_slot)
            free_slot = &activity_ids[i].id;
    }
    if (create && free_slot) {
        activity_ids[(free_slot - &activity_ids[0].id)].thread_id = thread_id;
        RtlZeroMemory(free_slot, sizeof(*free_slot));
        return free_slot;
    }
    return NULL;
}

/* A locally unique id: the counter and the QPC at the call, as a version-4 style GUID. */
static void create_activity_id(GUID *id)
{
    long long n = __atomic_add_fetch(&activity_counter, 1, __ATOMIC_RELAXED);
    long long t = qpc(NULL);
    unsigned char *b = (unsigned char *)id;
    RtlCopyMemory(b, &n, 8);
    RtlCopyMemory(b + 8, &t, 8);
    b[7] = (unsigned char)((b[7] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
}

NTSTATUS NTAPI tap_EtwActivityIdControl(ULONG ControlCode, LPGUID ActivityId)
{
    struct tap_record_header *record;
    struct tap_activity_id_body *body;
    ULONG thread_id = (ULONG)(ULONG_PTR)PsGetCurrentThreadId();
    NTSTATUS status = STATUS_SUCCESS;
    GUID before, previous, *slot;

    if (!ActivityId)
        return STATUS_INVALID_PARAMETER;
    before = *ActivityId;
    lock(&activity_lock);
    slot = thread_activity_id(thread_id, ControlCode != EVENT_ACTIVITY_CTRL_GET_ID &&
                                             ControlCode != EVENT_ACTIVITY_CTRL_CREATE_ID);
    RtlZeroMemory(&previous, sizeof(previous));
    if (slot)
        previous = *slot;
    switch (ControlCode) {
    case EVENT_ACTIVITY_CTRL_GET_ID:
        *ActivityId = previous;
        break;
    case EVENT_ACTIVITY_CTRL_SET_ID:
        if (slot)
            *slot = before;
        break;
    case EVENT_ACTIVITY_CTRL_CREATE_ID:
        create_activity_id(ActivityId);
        break;
    case EVENT_ACTIVITY_CTRL_GET_SET_ID:
        if (slot)
            *slot = before;
        *ActivityId = previous;
        break;
    case EVENT_ACTIVITY_CTRL_CREATE_SET_ID:
        if (slot)
            create_activity_id(slot);
        *ActivityId = previous;
        break;
    default:
        status = STATUS_INVALID_PARAMETER;
        break;
    }
    if (!slot && ControlCode != EVENT_ACTIVITY_CTRL_GET_ID &&
        ControlCode != EVENT_ACTIVITY_CTRL_CREATE_ID && NT_SUCCESS(status))
        status = STATUS_INSUFFICIENT_RESOURCES;
    unlock(&activity_lock);

    record = new_record(TAP_ACTIVITY_ID, sizeof(*body), 0, status);
    if (record) {
        body = body_of(record);
        body->control_code = ControlCode;
        RtlCopyMemory(body->before, &before, sizeof(body->before));
        RtlCopyMemory(body->after, ActivityId, sizeof(body->after));
        commit(record);
    }
    return status;
}

/* Windows 10 2004's pool allocator over the older one Wine has: zeroed unless asked not to,
 * paged or non-paged as flagged. A failure returns NULL (POOL_FLAG_RAISE_ON_FAILURE is not
 * honoured: wdk-alloc never sets it). */
PVOID NTAPI tap_ExAllocatePool2(ULONG64 Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    POOL_TYPE type = (Flags & POOL_FLAG_PAGED) ? PagedPool : NonPagedPool;
    PVOID p = ExAllocatePoolWithTag(type, NumberOfBytes, Tag);
    if (p && !(Flags & POOL_FLAG_UNINITIALIZED))
        RtlZeroMemory(p, NumberOfBytes);
    return p;
}

/* An export driver's entry: never called when the module is loaded as an import. */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    (void)driver;
    (void)registry_path;
    return STATUS_SUCCESS;
}
