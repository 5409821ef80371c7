/*
 * The record wsktap.sys writes (little-endian, every record 8-byte aligned). The reader is
 * tools/src/etw_tap/format.rs; docs/wine.md describes the format. Change both together.
 *
 *   file   = file_header record*
 *   record = record_header body (padded to 8 bytes; record_header.size counts the padding)
 */
#ifndef WSKTAP_H
#define WSKTAP_H

#define TAP_MAGIC "WSKTAP\r\n"
#define TAP_VERSION 1

/* Record kinds. */
#define TAP_REGISTER 1        /* EtwRegister: tap_register_body */
#define TAP_SET_INFORMATION 2 /* EtwSetInformation: tap_set_information_body + data */
#define TAP_WRITE 3           /* EtwWriteTransfer: tap_write_body + tap_data * count */
#define TAP_UNREGISTER 4      /* EtwUnregister: tap_unregister_body + tap_thread * count */
#define TAP_ACTIVITY_ID 5     /* EtwActivityIdControl: tap_activity_id_body */

/* The file's first 56 bytes. */
struct tap_file_header {
    unsigned char magic[8];              /* TAP_MAGIC */
    unsigned int version;                /* TAP_VERSION */
    unsigned int processors;             /* KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS) */
    long long qpc_frequency;             /* KeQueryPerformanceCounter's frequency */
    long long start_qpc;                 /* the counter when the file was created ... */
    long long start_system_time;         /* ... and KeQuerySystemTime then (FILETIME, UTC) */
    unsigned int os_major;               /* RtlGetVersion: the Windows version the kernel */
    unsigned int os_minor;               /* reports */
    unsigned int os_build;
    unsigned int cpu_mhz;                /* ~MHz of CentralProcessor\0 in the registry (0 if
                                          * absent), which ETW writes into the ETL header */
};

/* What every record starts with (40 bytes). */
struct tap_record_header {
    unsigned int size;                   /* the whole record, padding included */
    unsigned int kind;                   /* TAP_* */
    long long qpc;                       /* KeQueryPerformanceCounter at the call */
    unsigned int thread_id;              /* PsGetCurrentThreadId */
    unsigned int process_id;             /* PsGetCurrentProcessId */
    unsigned int processor;              /* KeGetCurrentProcessorNumber */
    int status;                          /* the NTSTATUS the tap returned */
    unsigned long long handle;           /* the REGHANDLE (0 for TAP_ACTIVITY_ID) */
};

struct tap_register_body {
    unsigned char provider_id[16];       /* GUID as in memory */
    unsigned long long match_any_keyword; /* what the enable callback was given ... */
    unsigned long long match_all_keyword;
    unsigned int level;
    unsigned int control_code;           /* ... 0 when there was no callback */
};

struct tap_set_information_body {
    unsigned int information_class;      /* EVENT_INFO_CLASS */
    unsigned int length;                 /* followed by that many bytes */
};

#define TAP_WRITE_ACTIVITY_ID 1          /* tap_write_body.flags: ActivityId was not NULL */
#define TAP_WRITE_RELATED_ACTIVITY_ID 2  /* RelatedActivityId was not NULL */

struct tap_write_body {
    unsigned char descriptor[16];        /* EVENT_DESCRIPTOR as passed */
    unsigned int flags;                  /* TAP_WRITE_* */
    unsigned int count;                  /* UserDataCount: tap_data items follow */
    unsigned char activity_id[16];       /* zero when absent */
    unsigned char related_activity_id[16];
};

/* One EVENT_DATA_DESCRIPTOR: its Size and Reserved (the TraceLogging type: 0 data,
 * 1 event metadata, 2 provider metadata), then Size bytes, padded to 8. */
struct tap_data {
    unsigned int size;
    unsigned int type;
};

/* At EtwUnregister: every thread that wrote an event of the provider, and whether it had
 * ended by then (the driver unregisters last in its unload, after joining its threads). */
struct tap_unregister_body {
    unsigned int count;                  /* tap_thread items follow */
    unsigned int reserved;
};

#define TAP_THREAD_CALLER 0              /* tap_thread.state: the thread calling EtwUnregister */
#define TAP_THREAD_ENDED 1               /* gone, or its thread object is signalled */
#define TAP_THREAD_RUNNING 2             /* still running */

struct tap_thread {
    unsigned int thread_id;
    unsigned int state;                  /* TAP_THREAD_* */
};

struct tap_activity_id_body {
    unsigned int control_code;           /* EVENT_ACTIVITY_CTRL_* */
    unsigned int reserved;
    unsigned char before[16];            /* *ActivityId at the call */
    unsigned char after[16];             /* *ActivityId at the return */
};

#endif
