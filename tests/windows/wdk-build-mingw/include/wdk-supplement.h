/*
 * Kernel declarations that the windows-drivers-rs crates use and that mingw-w64 10's DDK
 * headers do not have yet (they are newer than its snapshot of the WDK). Written from
 * Microsoft's documentation of each item; unlike the rest of the header set they are our own
 * transcription, so docs/windows-build.md lists them among what the Linux build cannot prove.
 */
#ifndef WSKTRACE_WDK_SUPPLEMENT_H
#define WSKTRACE_WDK_SUPPLEMENT_H

/* wdm.h (Windows 10 version 2004): the flags ExAllocatePool2 takes. The POOL_FLAG_* values
 * themselves are written out in wdk-sys, as for the real WDK (bindgen cannot read their
 * UI64 suffixes). */
typedef ULONG64 POOL_FLAGS;

/* wdm.h (Windows 10 version 2004): what wdk-alloc's global allocator calls. */
NTKERNELAPI PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);

#endif
