#!/usr/bin/env python3
"""Seeds for the fuzz targets from the shared corpus (python3, standard library only).

corpus/etl_file:   corpus files of at most 64 KiB whole, and the first buffers (at most
                   three, at most 64 KiB) of the larger ones.
corpus/etl_buffer: the filled bytes after the 72-byte header of the first three
                   uncompressed buffers of every corpus file.
corpus/tdh_event_info: each KernelTraceControl MetaData payload of the corpus (read with
                   `wsktrace dump`, which decompresses buffers), as `[len u16][payload]`
                   followed by the payload of one event it describes, when the file has one.
corpus/tdh_manifest: the repository's manifests (test data and the Kernel-PnP manifest) as
                   `[len u16][xml]`, followed by a payload of ten zero bytes.

Usage: python3 make-seeds.py [CORPUS_DIR]   (default: $WSKTRACE_CORPUS/etl/public or
../../../shared/corpus/etl/public relative to this file). The MetaData seeds need the
`wsktrace` binary: $WSKTRACE, else target/release/wsktrace or target/debug/wsktrace.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import uuid

here = os.path.dirname(os.path.abspath(__file__))
if len(sys.argv) > 1:
    src = sys.argv[1]
elif os.environ.get("WSKTRACE_CORPUS"):
    src = os.path.join(os.environ["WSKTRACE_CORPUS"], "etl", "public")
else:
    src = os.path.join(here, "..", "..", "..", "shared", "corpus", "etl", "public")
files = sorted(glob.glob(os.path.join(src, "*", "*.etl")))
if not files:
    sys.exit(f"no .etl files under {src}")
out_file = os.path.join(here, "corpus", "etl_file")
out_buf = os.path.join(here, "corpus", "etl_buffer")
os.makedirs(out_file, exist_ok=True)
os.makedirs(out_buf, exist_ok=True)
for f in files:
    d = open(f, "rb").read()
    name = os.path.basename(f)
    if len(d) <= 65536:
        open(os.path.join(out_file, name), "wb").write(d)
    parts, pos = [], 0
    while pos + 72 <= len(d) and len(parts) < 3:
        size = struct.unpack_from("<I", d, pos)[0]
        filled = struct.unpack_from("<I", d, pos + 0x30)[0]
        flags = struct.unpack_from("<H", d, pos + 0x34)[0]
        if size < 72:
            break
        if not flags & 0x40 and 72 <= filled <= size:
            open(os.path.join(out_buf, f"{name}.{len(parts)}"), "wb").write(d[pos + 72 : pos + filled])
        parts.append(d[pos : pos + size])
        pos += size
    head = b"".join(parts)
    if len(d) > 65536 and len(head) <= 65536:
        open(os.path.join(out_file, name + ".head"), "wb").write(head)
print(f"{len(os.listdir(out_file))} file seeds, {len(os.listdir(out_buf))} buffer seeds")

repo = os.path.join(here, "..", "..")
out_tei = os.path.join(here, "corpus", "tdh_event_info")
out_man = os.path.join(here, "corpus", "tdh_manifest")
os.makedirs(out_tei, exist_ok=True)
os.makedirs(out_man, exist_ok=True)


def seed(meta, payload=b""):
    return struct.pack("<H", min(len(meta), 0xFFFF)) + meta[:0xFFFF] + payload


manifests = glob.glob(os.path.join(repo, "tools", "src", "**", "*.man"), recursive=True)
for m in sorted(manifests):
    xml = open(m, "rb").read()
    open(os.path.join(out_man, os.path.basename(m)), "wb").write(seed(xml, bytes(10)))

wsktrace = os.environ.get("WSKTRACE") or next(
    (p for p in (os.path.join(repo, "target", d, "wsktrace") for d in ("release", "debug"))
     if os.path.exists(p)),
    None,
)
if wsktrace is None:
    print("no wsktrace binary: MetaData seeds skipped (build it, or set $WSKTRACE)")
else:
    n = 0
    for f in files:
        lines = subprocess.run([wsktrace, "dump", "--json", f], capture_output=True, text=True).stdout
        records = [json.loads(line) for line in lines.splitlines()]
        payloads = {}
        for r in records:
            if r.get("kind") == "event" and "payload_hex" in r:
                key = (r["provider_guid"], r["id"], r["version"])
                payloads.setdefault(key, bytes.fromhex(r["payload_hex"]))
        for r in records:
            if r.get("provider_guid") != "bbccf6c1-6cd1-48c4-80ff-839482e37671":
                continue
            meta = bytes.fromhex(r["payload_hex"])
            payload = b""
            if r.get("opcode") == 32 and len(meta) >= 40:
                guid = str(uuid.UUID(bytes_le=meta[:16]))
                eid = struct.unpack_from("<H", meta, 32)[0]
                payload = payloads.get((guid, eid, meta[34]), b"")
            open(os.path.join(out_tei, f"{os.path.basename(f)}.{n}"), "wb").write(seed(meta, payload))
            n += 1
print(f"{len(os.listdir(out_tei))} MetaData seeds, {len(os.listdir(out_man))} manifest seeds")
