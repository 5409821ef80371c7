#!/usr/bin/env python3
"""What dissect.etl (an independent ETL parser, PyPI) reads in ETL files, as JSON lines.

Usage: dissect_diff.py FILE...

For each file, one JSON object on stdout:

    {"file": ..., "header": {...logfile header facts...},
     "events": N,                                 # every record, header records included
     "providers": {"<guid>": count, ...},
     "records": [["<guid>", filetime, header_type, id_or_hook], ...],   # file order
     "pnp": [{"id": 226|227, "driver": ..., "status": ...}, ...]}

`filetime` is dissect's own timestamp of the record (FILETIME, 100 ns since 1601), computed
from the logfile header's clock as dissect does it. The Microsoft-Windows-Kernel-PnP
DriverInit payloads are decoded here by hand from the manifest template (u16 DriverNameLength
in UTF-16 units, the name, and for 227 a u32 Status), independently of the Rust code.

Exit status 0 when every file was read to its end, 1 otherwise (the error on stderr).
Run by the Rust differential test (tests/e2e/dissect.rs) with the virtualenv that
tests/run.sh creates.

Notes on dissect.etl 3.14:
- `EventHeader.provider_id` reads the GUID big-endian (`UUID(bytes=...)`); the GUID is
  taken here from the raw `ProviderId` bytes in Windows' little-endian field order.
- Its manifest decoder reads a `length=`-counted UnicodeString as NUL-terminated, so the
  Kernel-PnP payloads are not decoded through it.
"""

import json
import struct
import sys
import uuid

from dissect.etl.etl import ETL
from dissect.etl.headers.event import EventHeader

KERNEL_PNP = uuid.UUID("9c205a39-1250-487d-abd7-e831c6290539")


def pnp_payload(event_id, payload):
    (length,) = struct.unpack_from("<H", payload, 0)
    end = 2 + 2 * length
    out = {"id": event_id, "driver": bytes(payload[2:end]).decode("utf-16-le")}
    if event_id == 227:
        (out["status"],) = struct.unpack_from("<I", payload, end)
        end += 4
    if end != len(payload):
        raise ValueError(f"Kernel-PnP {event_id}: {len(payload) - end} bytes after the fields")
    return out


def read(path):
    with open(path, "rb") as fh:
        etl = ETL(fh)
        lh = etl.logfile_header
        header = {
            "buffer_size": etl.buffer_size,
            "buffers_written": lh.buffers_written,
            "pointer_size": lh.pointer_size,
            "start_time": lh.start_time,
            "end_time": lh.end_time,
            "perf_freq": lh.perf_freq,
            "boot_time": lh.header.BootTime,
            "events_lost": lh.header.EventsLost,
            "processors": lh.header.NumberOfProcessors,
            "logger_name": lh.logger_name,
            "log_file_name": lh.log_filename,
        }
        providers = {}
        records = []
        pnp = []
        for record in etl:
            h = record.header
            if isinstance(h, EventHeader):
                guid = uuid.UUID(bytes_le=bytes(h.header.ProviderId))
                ident = h.header.Id
                if guid == KERNEL_PNP and ident in (226, 227):
                    # Manifest events carry no extended items: the payload is the user data.
                    pnp.append(pnp_payload(ident, h.payload))
            else:
                guid = h.provider_id
                ident = h.hook_id
            filetime = etl.get_filetime_for_event(h.time_delta)
            key = str(guid)
            providers[key] = providers.get(key, 0) + 1
            records.append([key, filetime, h._marker.header_type, ident])
        return {
            "file": path,
            "header": header,
            "events": len(records),
            "providers": providers,
            "records": records,
            "pnp": pnp,
        }


def main(paths):
    status = 0
    for path in paths:
        try:
            print(json.dumps(read(path)))
        except Exception as e:  # report and go on with the next file
            print(f"dissect_diff.py: {path}: {type(e).__name__}: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
