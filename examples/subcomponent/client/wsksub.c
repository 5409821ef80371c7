/*
 * wsksub: a user-mode program that activates and deactivates the example driver's WSK
 * subcomponent (examples/subcomponent), one IOCTL per argument:
 *
 *   wsksub activate deactivate activate ...
 *
 * Prints one line per IOCTL, "<name> <status>", the status as the driver completed the IRP
 * (0x00000000 on success; otherwise the Win32 error DeviceIoControl reports). Exits 0 when
 * every IOCTL succeeded, 1 otherwise, 2 when the device cannot be opened.
 *
 * The control codes are the driver's (src/driver.rs: IOCTL_ACTIVATE, IOCTL_DEACTIVATE; a
 * test there checks they agree). Built with mingw-w64's gcc by tests/windows/wine-run.sh.
 */
#include <windows.h>
#include <winioctl.h>
#include <stdio.h>
#include <string.h>

#define WSKSUB_IOCTL_ACTIVATE CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define WSKSUB_IOCTL_DEACTIVATE CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS)

int main(int argc, char **argv)
{
    HANDLE device = CreateFileW(L"\\\\.\\WsktraceSubcomponent", GENERIC_READ | GENERIC_WRITE, 0,
                                NULL, OPEN_EXISTING, 0, NULL);
    if (device == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "wsksub: cannot open \\\\.\\WsktraceSubcomponent: error %lu\n",
                GetLastError());
        return 2;
    }
    int failed = 0;
    for (int i = 1; i < argc; ++i) {
        DWORD code;
        if (strcmp(argv[i], "activate") == 0) {
            code = WSKSUB_IOCTL_ACTIVATE;
        } else if (strcmp(argv[i], "deactivate") == 0) {
            code = WSKSUB_IOCTL_DEACTIVATE;
        } else {
            fprintf(stderr, "wsksub: unknown request %s (activate, deactivate)\n", argv[i]);
            failed = 1;
            continue;
        }
        DWORD returned = 0;
        if (DeviceIoControl(device, code, NULL, 0, NULL, 0, &returned, NULL)) {
            printf("%s 0x00000000\n", argv[i]);
        } else {
            printf("%s error %lu\n", argv[i], GetLastError());
            failed = 1;
        }
        fflush(stdout);
    }
    CloseHandle(device);
    return failed;
}
