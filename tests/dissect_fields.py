#!/usr/bin/env python3
"""The manifest events dissect.etl decodes in ETL files, with their field values, as JSON lines.

Usage: dissect_fields.py FILE...   or   dissect_fields.py --manifest-path GUID

For each EVENT_HEADER record (numbered `i` in file order among the file's EVENT_HEADER
records) whose provider has a manifest in dissect.etl's bundled database that dissect can
compile, and whose payload dissect's template reads to exactly its last byte (a template
that reads more or fewer bytes is a dissect limitation, not a value to compare):

    {"file": ..., "i": N, "guid": "...", "id": ..., "version": ..., "fields": {name: value}}

Values: integers as numbers, strings as strings, byte strings (GUIDs, binary) as lower-case
hex. With --manifest-path, prints the path of the bundled manifest XML of that provider
(for our own decoder's `--manifest`, in tests only; it is not shipped).

Notes on dissect.etl 3.14 (so the caller knows what is compared):
- `EventHeader.provider_id` reads the GUID big-endian; the GUID is taken here from the raw
  `ProviderId` bytes, and the manifest looked up by it directly.
- Its `Event` looks templates up by (opcode, version); they are looked up here by (id,
  version), as the manifest keys them.
- Many manifests do not compile (types it does not map: AnsiString, Binary, FILETIME,
  HexInt32, structs); those providers are skipped.
- Pointers take the size the event header's flags give (set here before each template read).
"""

import json
import os
import sys
import uuid

from dissect.etl import manifest
from dissect.etl.etl import ETL
from dissect.etl.headers.event import EventHeader


def value(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str(v)
    return repr(v)


def module(guid, cache):
    if guid not in cache:
        try:
            cache[guid] = manifest.lookup(guid)
        except Exception:  # noqa: BLE001 - dissect raises many kinds for manifests it cannot compile
            cache[guid] = None
    return cache[guid]


def read(path):
    cache = {}
    with open(path, "rb") as fh:
        i = -1
        for record in ETL(fh):
            h = record.header
            if not isinstance(h, EventHeader):
                continue
            i += 1
            guid = uuid.UUID(bytes_le=bytes(h.header.ProviderId))
            mod = module(guid, cache)
            if mod is None:
                continue
            ev = mod.EVENTS.get((h.header.Id, h.header.Version))
            if ev is None:
                continue
            pointer = mod.c_parser.EtwPointer
            if h.is_64bit:
                pointer.as_64bit()
            else:
                pointer.as_32bit(pointer)
            payload = bytes(h.payload)
            try:
                s = ev.template(payload)
                if len(s.dumps()) != len(payload):
                    continue
            except Exception:  # noqa: BLE001 - a payload dissect's template cannot read
                continue
            fields = {name: value(getattr(s, name)) for name in s.__class__.fields}
            print(json.dumps({
                "file": path,
                "i": i,
                "guid": str(guid),
                "id": h.header.Id,
                "version": h.header.Version,
                "fields": fields,
            }))


def main():
    if sys.argv[1:2] == ["--manifest-path"]:
        root = os.path.dirname(manifest.__file__)
        print(os.path.join(root, "manifests", "xml", "{" + sys.argv[2] + "}.xml"))
        return
    for path in sys.argv[1:]:
        read(path)


main()
