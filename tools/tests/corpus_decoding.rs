//! Every file of the public ETL corpus decoded as `dump` decodes it (TraceLogging, the file's
//! own KernelTraceControl metadata, the documented MOF classes, the built-in Kernel-PnP
//! manifest): the number of events each source decodes, the number a layout describes but
//! does not fit, and the number nothing describes, per file, kept in [`EXPECTED`]; and a sample
//! of decoded fields checked against values read by hand from the payload bytes.
//!
//! The corpus is found as `tests/corpus.rs` finds it; without it the test says so and passes,
//! unless `CI=true`.

use std::collections::BTreeMap;
use std::path::Path;

use wsktrace_tools::etl::{EtlReader, Record};
use wsktrace_tools::payload::{DecodedBy, Payload, PayloadDecoder};
use wsktrace_tools::pipeline::summary::{read_metadata, summarize_file_decoding};
use wsktrace_tools::tdh::Layouts;
use wsktrace_tools::tracelogging::{FieldsJson, Value};

#[path = "support/corpus.rs"]
mod corpus;

/// Per file: events decoded by TraceLogging, metadata, manifest, MOF; events whose layout
/// does not fit; events nothing describes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    tracelogging: u64,
    metadata: u64,
    manifest: u64,
    mof: u64,
    failed: u64,
    undescribed: u64,
}

#[rustfmt::skip]
const EXPECTED: &[(&str, Counts)] = &[
    ("airbus-cert__etl-parser/AMSITrace.etl", c(19, 0, 0, 1, 0, 1)),
    ("airbus-cert__etl-parser/ShutdownPerfDiagLogger.etl", c(0, 0, 0, 17008, 0, 70)),
    ("airbus-cert__etl-parser/lxcore_kernel.etl", c(2, 0, 0, 1, 0, 1)),
    ("jtbraun__pyetw/out.etl", c(0, 0, 0, 1, 0, 113)),
    ("microsoft__Tx/BondEtwSample.etl", c(0, 0, 0, 1, 0, 12)),
    ("microsoft__Tx/HTTP_Server.etl", c(0, 0, 0, 1, 0, 2041)),
    ("microsoft__Tx/KernelNetwork.etl", c(0, 0, 0, 1, 0, 8923)),
    ("microsoft__Tx/Process.etl", c(0, 0, 0, 1, 0, 10343)),
    ("microsoft__ebpf-for-windows/ebpforwindows.etl", c(13841, 0, 0, 1, 0, 30)),
    ("microsoft__krabsetw/powershell.etl", c(0, 0, 0, 1, 0, 113)),
    ("microsoft__perfview/diaghub.etl", c(0, 0, 0, 1, 0, 62378)),
    ("microsoft__perfview/diaghub.kernel.1.etl", c(0, 0, 0, 16304, 0, 31)),
    ("microsoft__perfview/diaghub.user_injected.1.etl", c(0, 0, 0, 1, 0, 3)),
    ("microsoft__perfview/diaghub.user_paged.1.etl", c(256, 0, 0, 1, 0, 21778)),
    ("microsoft__perfview/gcevents.PerfViewData.etl", c(0, 0, 0, 1, 0, 70)),
    ("microsoft__perfview/gcrundownevents.PerfViewData.clrRundown.etl", c(0, 0, 0, 1, 0, 111)),
    ("microsoft__perfview/net.4.5.2.x64.etl", c(0, 66394, 0, 91305, 0, 21775)),
    ("microsoft__perfview/primitive-types.etl", c(5, 0, 0, 1, 0, 1)),
    ("microsoft__perfview/smallEtlFile.etl", c(0, 0, 0, 1, 0, 1)),
];

const fn c(
    tracelogging: u64,
    metadata: u64,
    manifest: u64,
    mof: u64,
    failed: u64,
    undescribed: u64,
) -> Counts {
    Counts {
        tracelogging,
        metadata,
        manifest,
        mof,
        failed,
        undescribed,
    }
}

/// The layouts `dump --metadata-from FROM… PATH` decodes `path` by, before its own metadata.
fn imported(metadata_from: &[&Path]) -> Layouts {
    let mut layouts = Layouts::new();
    for from in metadata_from {
        let mut theirs = Layouts::new();
        read_metadata(std::fs::File::open(from).expect("opens"), &mut theirs);
        layouts.import_metadata(theirs);
    }
    layouts
}

/// The decoder `dump` uses for `path`: its metadata read first.
fn decoder(path: &Path, metadata_from: &[&Path]) -> PayloadDecoder {
    let mut layouts = imported(metadata_from);
    read_metadata(std::fs::File::open(path).expect("opens"), &mut layouts);
    PayloadDecoder::new(layouts)
}

/// Calls `f` for every record of `path` with its payload decoded, while it returns true.
fn each_until(path: &Path, mut f: impl FnMut(&Record<'_>, Payload<'_>) -> bool) {
    each_until_with(path, &[], &mut f);
}

/// [`each_until`], with the metadata of other traces as `--metadata-from` gives it.
fn each_until_with(
    path: &Path,
    metadata_from: &[&Path],
    f: &mut dyn FnMut(&Record<'_>, Payload<'_>) -> bool,
) {
    let mut d = decoder(path, metadata_from);
    let mut reader = EtlReader::open(path).expect("opens");
    while let Some(b) = reader.next_buffer() {
        let b = b.expect("corpus buffers read");
        for rec in b.records() {
            let rec = rec.expect("corpus records read");
            let p = d.decode(&rec);
            if !f(&rec, p) {
                return;
            }
        }
    }
}

/// Calls `f` for every record of `path` with its payload decoded.
fn each(path: &Path, f: impl FnMut(&Record<'_>, Payload<'_>)) {
    each_with(path, &[], f);
}

/// [`each`], with the metadata of other traces as `--metadata-from` gives it.
fn each_with(path: &Path, metadata_from: &[&Path], mut f: impl FnMut(&Record<'_>, Payload<'_>)) {
    each_until_with(path, metadata_from, &mut |rec, p| {
        f(rec, p);
        true
    });
}

fn counts(path: &Path) -> Counts {
    counts_with(path, &[])
}

fn counts_with(path: &Path, metadata_from: &[&Path]) -> Counts {
    let mut n = Counts::default();
    each_with(path, metadata_from, |_, p| match p {
        Payload::Decoded { by, .. } => match by {
            DecodedBy::TraceLogging => n.tracelogging += 1,
            DecodedBy::Metadata => n.metadata += 1,
            DecodedBy::Manifest => n.manifest += 1,
            DecodedBy::Mof => n.mof += 1,
        },
        Payload::Failed { .. } => n.failed += 1,
        Payload::Undescribed => n.undescribed += 1,
    });
    n
}

#[test]
fn every_corpus_file_decodes_as_expected() {
    let Some(dir) = corpus::etl_dir_or_skip("corpus_decoding") else {
        return;
    };
    let mut actual = BTreeMap::new();
    for (file, _) in EXPECTED {
        actual.insert(*file, counts(&dir.join(file)));
    }
    let table: String = actual
        .iter()
        .map(|(f, n)| {
            format!(
                "    (\"{f}\", c({}, {}, {}, {}, {}, {})),\n",
                n.tracelogging, n.metadata, n.manifest, n.mof, n.failed, n.undescribed
            )
        })
        .collect();
    for (file, want) in EXPECTED {
        assert_eq!(actual[file], *want, "{file}; all files now:\n{table}");
    }
    // The summary's decoded counts are the same decoding.
    for (file, want) in EXPECTED {
        let s = summarize_file_decoding(
            &dir.join(file),
            &Default::default(),
            Layouts::new(),
            &mut |e| panic!("{e}"),
        )
        .unwrap();
        let decoded: u64 = s.providers().iter().filter_map(|p| p.decoded).sum();
        assert_eq!(
            decoded,
            want.tracelogging + want.metadata + want.manifest + want.mof,
            "{file}: --summary"
        );
    }
}

/// The fields of the first decoded event matching `pred`, as JSON.
fn first_fields(path: &Path, pred: impl Fn(&Record<'_>) -> bool) -> serde_json::Value {
    let mut out = None;
    each_until(path, |rec, p| {
        if let (true, Payload::Decoded { fields, .. }) = (pred(rec), p) {
            out = Some(serde_json::to_value(FieldsJson(&fields)).unwrap());
        }
        out.is_none()
    });
    out.expect("a matching decoded event")
}

/// The payload of the first record matching `pred`.
fn first_payload(path: &Path, pred: impl Fn(&Record<'_>) -> bool) -> Vec<u8> {
    let mut out = None;
    each_until(path, |rec, _| {
        if pred(rec) {
            out = Some(rec.payload().to_vec());
        }
        out.is_none()
    });
    out.expect("a matching record")
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn utf16_at(b: &[u8], at: usize) -> (String, usize) {
    let units: Vec<u16> = b[at..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    (
        String::from_utf16(&units).unwrap(),
        at + 2 * units.len() + 2,
    )
}

fn event(rec: &Record<'_>, provider: &str, id: u16) -> bool {
    matches!(rec, Record::Event(e) if e.header.provider_id.to_string() == provider
        && e.header.event_descriptor.id.get() == id)
}

/// A PnP record of the serial port driver (its name in the payload's UTF-16).
fn first_payload_is_serial(rec: &Record<'_>) -> bool {
    let units: Vec<u16> = rec
        .payload()
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units).contains("\0Serial\0")
}

fn kernel(rec: &Record<'_>, hook_id: u16) -> bool {
    matches!(rec, Record::System(s) if s.hook_id == hook_id)
}

#[test]
fn decoded_fields_equal_the_bytes_read_by_hand() {
    let Some(dir) = corpus::etl_dir_or_skip("corpus_decoding") else {
        return;
    };
    let net = dir.join("microsoft__perfview/net.4.5.2.x64.etl");

    // Metadata: CLR GCAllocationTick v3 (e13c0d23…, event 10), a 32-bit process. Template:
    // AllocationAmount u32, AllocationKind u32 (GCAllocationKindMap), ClrInstanceID u16,
    // AllocationAmount64 u64, TypeID pointer, TypeName UTF-16, HeapIndex u32, Address pointer.
    let clr = "e13c0d23-ccbc-4e12-931b-d9cc2eee27e4";
    let b = first_payload(&net, |r| event(r, clr, 10));
    let f = first_fields(&net, |r| event(r, clr, 10));
    assert_eq!(f["AllocationAmount"], format!("{:#x}", u32_at(&b, 0)));
    assert_eq!(u32_at(&b, 4), 0, "kind 0, which the map calls Small");
    assert_eq!(f["AllocationKind"], "Small");
    assert_eq!(f["ClrInstanceID"], u16_at(&b, 8));
    assert_eq!(f["AllocationAmount64"], format!("{:#x}", u64_at(&b, 10)));
    assert_eq!(f["TypeID"], format!("{:#x}", u32_at(&b, 18)));
    let (name, after) = utf16_at(&b, 22);
    assert_eq!(f["TypeName"], name.as_str());
    assert_eq!(f["HeapIndex"], u32_at(&b, after));
    assert_eq!(f["Address"], format!("{:#x}", u32_at(&b, after + 4)));
    assert_eq!(after + 8, b.len());

    // Metadata: CLRStackWalk (event 82): FrameCount 32-bit pointers after 8 bytes.
    let b = first_payload(&net, |r| event(r, clr, 82));
    let f = first_fields(&net, |r| event(r, clr, 82));
    let frames = u32_at(&b, 4) as usize;
    assert_eq!(8 + 4 * frames, b.len());
    let stack = f["Stack"].as_array().unwrap();
    assert_eq!(stack.len(), frames);
    assert_eq!(
        stack[frames - 1],
        format!("{:#x}", u32_at(&b, 8 + 4 * (frames - 1)))
    );

    // Metadata: Microsoft-Windows-DNS-Client 1001: Interface UTF-16, TotalServerCount u32,
    // Index u32, DynamicAddress u8 (DnsIpTypeMap), AddressLength u32, Address: that many bytes
    // of a SOCKADDR (AF_INET6 = 23, port, flow info, address).
    let dns = "1c95126e-7eea-49a9-a3fe-a378b03ddb4d";
    let b = first_payload(&net, |r| event(r, dns, 1001));
    let f = first_fields(&net, |r| event(r, dns, 1001));
    let (iface, at) = utf16_at(&b, 0);
    assert_eq!(f["Interface"], iface.as_str());
    assert_eq!(f["TotalServerCount"], u32_at(&b, at));
    assert_eq!(b[at + 8], 1, "1 is \"dynamic\" in the event's map");
    assert_eq!(f["DynamicAddress"], "dynamic");
    let len = u32_at(&b, at + 9) as usize;
    assert_eq!(at + 13 + len, b.len());
    assert_eq!(u16_at(&b, at + 13), 23);
    let port = u16::from_be_bytes([b[at + 15], b[at + 16]]);
    let addr = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&b[at + 21..at + 37]).unwrap());
    assert_eq!(f["Address"], format!("[{addr}]:{port}"));

    // MOF: TcpIp SendIPV6 (hook 0x061a) on x64: PID u32, size u32, daddr/saddr 16 bytes,
    // dport/sport big-endian, startime, endtime, seqnum u32, connid pointer.
    let b = first_payload(&net, |r| kernel(r, 0x061a));
    let f = first_fields(&net, |r| kernel(r, 0x061a));
    assert_eq!(f["PID"], u32_at(&b, 0));
    assert_eq!(f["size"], u32_at(&b, 4));
    let daddr = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).unwrap());
    assert_eq!(f["daddr"], daddr.to_string());
    assert_eq!(f["dport"], u16::from_be_bytes([b[40], b[41]]));
    assert_eq!(f["sport"], u16::from_be_bytes([b[42], b[43]]));
    assert_eq!(f["connid"], format!("{:#x}", u64_at(&b, 56)));
    assert_eq!(b.len(), 64);

    // MOF: Process_TypeGroup1 version 4, DCStart (hook 0x0303) on x64: UniqueProcessKey,
    // ProcessId, ParentId, SessionId, ExitStatus, DirectoryTableBase, Flags, then a
    // TOKEN_USER (16 bytes) and the SID, the ANSI image name, three UTF-16 strings.
    let kernel1 = dir.join("microsoft__perfview/diaghub.kernel.1.etl");
    let b = first_payload(&kernel1, |r| kernel(r, 0x0303));
    let f = first_fields(&kernel1, |r| kernel(r, 0x0303));
    assert_eq!(f["UniqueProcessKey"], format!("{:#x}", u64_at(&b, 0)));
    assert_eq!(f["ProcessId"], format!("{:#x}", u32_at(&b, 8)));
    assert_eq!(f["ParentId"], format!("{:#x}", u32_at(&b, 12)));
    assert_eq!(f["ExitStatus"], u32_at(&b, 20) as i32);
    assert_eq!(f["DirectoryTableBase"], format!("{:#x}", u64_at(&b, 24)));
    let sid = 36 + 16;
    let subs = usize::from(b[sid + 1]);
    let authority = b[sid + 2..sid + 8]
        .iter()
        .fold(0u64, |a, &x| a << 8 | u64::from(x));
    let mut sid_text = format!("S-{}-{authority}", b[sid]);
    for i in 0..subs {
        sid_text += &format!("-{}", u32_at(&b, sid + 8 + 4 * i));
    }
    assert_eq!(f["UserSID"], sid_text.as_str());
    let image = sid + 8 + 4 * subs;
    let end = image + b[image..].iter().position(|&c| c == 0).unwrap();
    assert_eq!(
        f["ImageFileName"],
        std::str::from_utf8(&b[image..end]).unwrap()
    );
    let (cmd, after) = utf16_at(&b, end + 1);
    assert_eq!(f["CommandLine"], cmd.as_str());
    let (pkg, after) = utf16_at(&b, after);
    let (app, after) = utf16_at(&b, after);
    assert_eq!(
        (f["PackageFullName"].as_str(), f["ApplicationId"].as_str()),
        (Some(pkg.as_str()), Some(app.as_str()))
    );
    assert_eq!(after, b.len());

    // MOF, undocumented versions of documented classes (diaghub.kernel.1.etl, x64):
    let version = |r: &Record<'_>, v: u16| matches!(r, Record::System(s) if s.version == v);
    // SystemConfig Services v3 (0x0b0f): three u32, then five UTF-16 strings.
    let services = |r: &Record<'_>| kernel(r, 0x0b0f) && version(r, 3);
    let b = first_payload(&kernel1, services);
    let f = first_fields(&kernel1, services);
    assert_eq!(f["ProcessId"], format!("{:#x}", u32_at(&b, 0)));
    assert_eq!(f["ServiceState"], format!("{:#x}", u32_at(&b, 4)));
    let (name, at) = utf16_at(&b, 12);
    assert_eq!(name, "AJRouter");
    assert_eq!(f["ServiceName"], name.as_str());
    let (display, at) = utf16_at(&b, at);
    assert_eq!(f["DisplayName"], display.as_str());
    let (_, at) = utf16_at(&b, at);
    let (_, at) = utf16_at(&b, at);
    let (svchost, at) = utf16_at(&b, at);
    assert_eq!(f["SvcHostGroup"], "LocalServiceNetworkRestricted");
    assert_eq!(
        (svchost.as_str(), at),
        ("LocalServiceNetworkRestricted", b.len())
    );
    // SystemConfig IRQ v3 (0x0b15): affinity u64, group u16, reserved u16, IRQ u32, length u32.
    let irq = |r: &Record<'_>| kernel(r, 0x0b15) && version(r, 3);
    let b = first_payload(&kernel1, irq);
    let f = first_fields(&kernel1, irq);
    assert_eq!(f["IRQAffinity"], format!("{:#x}", u64_at(&b, 0)));
    assert_eq!(f["IRQNum"], u32_at(&b, 12));
    assert_eq!(f["IRQNum"], 10);
    let (desc, at) = utf16_at(&b, 20);
    assert_eq!(f["DeviceDescriptionLen"], desc.chars().count() as u64 + 1);
    assert_eq!(
        (f["DeviceDescription"].as_str(), at),
        (Some(desc.as_str()), b.len())
    );
    // SystemConfig PnP v5 (0x0b16): class GUID, filter counts, status, problem, strings; the
    // serial port's upper filter driver.
    let pnp = |r: &Record<'_>| kernel(r, 0x0b16) && version(r, 5);
    let f = first_fields(&kernel1, pnp);
    assert_eq!(
        f["ClassGuid"], "4d36e97d-e325-11ce-bfc1-08002be10318",
        "System devices"
    );
    assert_eq!(f["ServiceName"], "s3cap");
    let serial = |r: &Record<'_>| pnp(r) && first_payload_is_serial(r);
    let f = first_fields(&kernel1, serial);
    assert_eq!(
        (f["ServiceName"].as_str(), f["UpperFilterCount"].as_u64()),
        (Some("Serial"), Some(1))
    );
    assert_eq!(f["UpperFilters"], serde_json::json!(["serenum"]));
    assert_eq!(f["LowerFilters"], serde_json::json!([]));
    // Process Defunct v5 (0x0327): the version-4 layout, then a FILETIME.
    let defunct = |r: &Record<'_>| kernel(r, 0x0327) && version(r, 5);
    let b = first_payload(&kernel1, defunct);
    let f = first_fields(&kernel1, defunct);
    assert_eq!(f["ProcessId"], format!("{:#x}", u32_at(&b, 8)));
    assert_eq!(f["ImageFileName"], "MpCmdRun.exe");
    let exit = u64_at(&b, b.len() - 8);
    assert_eq!(
        exit, 0x01d6_8ae6_75a1_4d5f,
        "2020-09-14 22:29:07 UTC, before the trace"
    );
    assert!(
        f["ExitTime"]
            .as_str()
            .is_some_and(|t| t.starts_with("2020-09-14T22:29:07")),
        "{f}"
    );

    // MOF: EventTrace_Header of a 32-bit file: LoggerName and LogFileName are 4-byte
    // pointers, so BootTime is at 240 and the session name follows BuffersLost at 272.
    let small = dir.join("microsoft__perfview/smallEtlFile.etl");
    let b = first_payload(&small, |r| kernel(r, 0x0000));
    let f = first_fields(&small, |r| kernel(r, 0x0000));
    assert_eq!(f["PointerSize"], 4);
    assert_eq!(u32_at(&b, 44), 4);
    assert_eq!(f["LoggerName"], format!("{:#x}", u32_at(&b, 56)));
    assert_eq!(f["BootTime"], u64_at(&b, 240));
    assert_eq!(f["BuffersLost"], u32_at(&b, 268));
    let (session, _) = utf16_at(&b, 272);
    assert_eq!(f["SessionNameString"], session.as_str());
    assert_eq!(session, "PerfWatsonGCHeapETLSession688");
}

/// `diaghub.user_paged.1.etl` decoded with `--metadata-from diaghub.etl`: the 17 event
/// descriptions of the session's main file are of this file's CLR and TPL events.
const USER_PAGED_BY_DIAGHUB: Counts = c(256, 21775, 0, 1, 0, 3);

#[test]
fn metadata_describes_the_perfview_files_completely() {
    let Some(dir) = corpus::etl_dir_or_skip("corpus_decoding") else {
        return;
    };
    let net = dir.join("microsoft__perfview/net.4.5.2.x64.etl");
    let diaghub = dir.join("microsoft__perfview/diaghub.etl");
    let paged = dir.join("microsoft__perfview/diaghub.user_paged.1.etl");
    for (path, from) in [(&net, None), (&paged, Some(diaghub.as_path()))] {
        let from: Vec<&Path> = from.into_iter().collect();
        let (mut decoded, mut failed) = (0, Vec::new());
        each_with(path, &from, |rec, p| match p {
            Payload::Decoded {
                by: DecodedBy::Metadata,
                ..
            } => decoded += 1,
            // Every MetaData event parsed, and every payload fits its description.
            Payload::Failed { error, .. } => {
                failed.push(format!("byte {:#x}: {error}", rec.offset()))
            }
            _ => {}
        });
        let file = path.display();
        assert!(failed.is_empty(), "{file}: {failed:?}");
        assert!(
            decoded > 20_000,
            "{file}: {decoded} events decoded by metadata"
        );
    }
    assert_eq!(counts_with(&paged, &[&diaghub]), USER_PAGED_BY_DIAGHUB);
    // `--summary` decodes alike, and names the CLR provider from the imported descriptions.
    let s = summarize_file_decoding(
        &paged,
        &Default::default(),
        imported(&[&diaghub]),
        &mut |e| panic!("{e}"),
    )
    .unwrap();
    let want = USER_PAGED_BY_DIAGHUB;
    let decoded: u64 = s.providers().iter().filter_map(|p| p.decoded).sum();
    assert_eq!(decoded, want.tracelogging + want.metadata + want.mof);
    assert!(s
        .providers()
        .iter()
        .any(|p| p.name.as_deref() == Some("Microsoft-Windows-DotNETRuntime")));
    // Value maps apply: the CLR's GCAllocationKindMap names every allocation kind.
    let mut kinds = BTreeMap::new();
    each(
        &dir.join("microsoft__perfview/net.4.5.2.x64.etl"),
        |_, p| {
            if let Payload::Decoded {
                fields,
                event_name: Some("GarbageCollection/GCAllocationTick"),
                ..
            } = p
            {
                if let Some(Value::Mapped(v, name)) = fields
                    .iter()
                    .find(|f| f.name == "AllocationKind")
                    .map(|f| &f.value)
                {
                    kinds.insert(*v, name.to_string());
                }
            }
        },
    );
    assert_eq!(kinds.get(&0).map(String::as_str), Some("Small"));
}
