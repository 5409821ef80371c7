//! `wine_imports`: points chosen imports of a PE32+ driver image at the modules that provide
//! them under Wine, changing no byte of the image's code or data.
//!
//! ```text
//! cargo run --example wine_imports -- tests/windows/wine-imports.txt IN.sys OUT.sys
//! ```
//!
//! Wine's kernel lacks some functions a Windows driver imports from `ntoskrnl.exe` (kernel
//! ETW, `ExAllocatePool2`) and exports others from another module (`KeQueryPerformanceCounter`
//! from `hal.dll` only). The map file names, per imported function, the module that provides
//! it under Wine; the tool rewrites the image so that exactly those imports resolve there.
//!
//! How: the loader binds imports by walking each import descriptor's lookup table
//! (`OriginalFirstThunk`) until its zero entry, writing slot *i* of the descriptor's address
//! table (`FirstThunk`). The code reaches an import only through its address-table slot, so
//! the slots must stay where they are, but the descriptors may be rebuilt: each module's run
//! of slots is split where the target module changes, and every piece gets a descriptor of its
//! own, with its own lookup table, naming its module. The new descriptors, lookup tables,
//! hint/name entries and module names go into one section appended to the image (so the new
//! import directory is self-contained); the import data directory points at it. Every existing section's bytes, the address
//! table and its data directory are unchanged; the headers change only in the section count,
//! the image size, the import directory and the checksum. The result is checked by parsing it
//! again before it is written.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use object::pe::{
    self, ImageImportDescriptor, ImageNtHeaders64, ImageSectionHeader,
    IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT, IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT,
    IMAGE_DIRECTORY_ENTRY_IMPORT, IMAGE_DIRECTORY_ENTRY_SECURITY, IMAGE_SCN_CNT_INITIALIZED_DATA,
    IMAGE_SCN_MEM_READ,
};
use object::pod::{bytes_of, from_bytes_mut};
use object::read::pe::{ImageNtHeaders, PeFile64};
use object::{LittleEndian as LE, U32Bytes, U32};

/// The name of the section holding the rebuilt import descriptors.
const SECTION_NAME: [u8; 8] = *b".wineimp";

/// Errors, each naming the file (and the import or line) it is about.
#[derive(Debug)]
enum Error {
    /// A file could not be read or written.
    Io(PathBuf, std::io::Error),
    /// A line of the map file is not `module!function target`.
    MapLine(PathBuf, usize, String),
    /// The image is not a PE32+ file `object` can parse.
    Parse(PathBuf, object::Error),
    /// The image has a layout this tool does not rewrite (bound or delay imports, a
    /// certificate, no room for another section header, ...).
    Unsupported(PathBuf, &'static str),
    /// The rewritten image does not read back as intended.
    Check(PathBuf, String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(path, e) => write!(f, "{}: {e}", path.display()),
            Error::MapLine(path, line, why) => write!(f, "{}:{line}: {why}", path.display()),
            Error::Parse(path, e) => write!(f, "{}: not a PE32+ image: {e}", path.display()),
            Error::Unsupported(path, why) => write!(f, "{}: {why}", path.display()),
            Error::Check(path, why) => write!(f, "{}: rewritten image: {why}", path.display()),
        }
    }
}

/// Where imports go: `(module, function)`, both as written in the map, module lower-cased,
/// to the module that provides the function under Wine.
type Map = BTreeMap<(String, String), String>;

/// Reads the map: `module!function target  # why` per line; `#` starts a comment.
fn read_map(path: &Path) -> Result<Map, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io(path.into(), e))?;
    let mut map = Map::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: &str| Error::MapLine(path.into(), n + 1, why.to_owned());
        let mut words = line.split_whitespace();
        let (Some(import), Some(target), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad("expected `module!function target`"));
        };
        let Some((module, function)) = import.split_once('!') else {
            return Err(bad("expected `module!function`"));
        };
        if target.len() >= 32 {
            // Wine's ntoskrnl copies import module names into a 32-character buffer.
            return Err(bad("target module name longer than 31 characters"));
        }
        let key = (module.to_ascii_lowercase(), function.to_owned());
        if map.insert(key, target.to_owned()).is_some() {
            return Err(bad("function mapped twice"));
        }
    }
    Ok(map)
}

/// One imported function and its address-table slot.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Slot {
    /// The module it is imported from.
    module: String,
    /// The name (`#ordinal` for an import by ordinal).
    function: String,
    /// How it is imported: by name with a hint, or by ordinal.
    import: Import,
    /// RVA of its address-table slot (where the loader writes the address).
    iat_rva: u32,
}

/// A lookup-table entry's meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Import {
    /// By name: the hint and the name bytes.
    Name(u16, Vec<u8>),
    /// By ordinal.
    Ordinal(u16),
}

/// Every imported function in import-directory order.
fn slots(path: &Path, image: &[u8]) -> Result<Vec<Slot>, Error> {
    let parse = |e| Error::Parse(path.into(), e);
    let file = PeFile64::parse(image).map_err(parse)?;
    let Some(table) = file.import_table().map_err(parse)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut descriptors = table.descriptors().map_err(parse)?;
    while let Some(descriptor) = descriptors.next().map_err(parse)? {
        let module = table
            .name(descriptor.name.get(LE))
            .map_err(parse)?
            .to_ascii_lowercase();
        let module = String::from_utf8_lossy(&module).into_owned();
        let first_thunk = descriptor.first_thunk.get(LE);
        let lookup_rva = match descriptor.original_first_thunk.get(LE) {
            0 => first_thunk,
            rva => rva,
        };
        let mut thunks = table.thunks(lookup_rva).map_err(parse)?;
        let mut index = 0u32;
        while let Some(thunk) = thunks.next::<ImageNtHeaders64>().map_err(parse)? {
            let (function, import) = match table.import::<ImageNtHeaders64>(thunk).map_err(parse)? {
                object::read::pe::Import::Name(hint, name) => (
                    String::from_utf8_lossy(name).into_owned(),
                    Import::Name(hint, name.to_vec()),
                ),
                object::read::pe::Import::Ordinal(n) => (format!("#{n}"), Import::Ordinal(n)),
            };
            out.push(Slot {
                module: module.clone(),
                function,
                import,
                iat_rva: first_thunk + index * 8,
            });
            index += 1;
        }
    }
    Ok(out)
}

/// Where `slot` resolves after the rewrite.
fn target<'a>(map: &'a Map, slot: &'a Slot) -> &'a str {
    map.get(&(slot.module.clone(), slot.function.clone()))
        .map_or(&slot.module, String::as_str)
}

/// The import runs after the rewrite: consecutive slots of one original descriptor with the
/// same target module, as (target, first slot index, slot count).
fn runs(map: &Map, slots: &[Slot]) -> Vec<(String, usize, usize)> {
    let mut runs: Vec<(String, usize, usize)> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let module = target(map, slot);
        let contiguous =
            i > 0 && slots[i - 1].module == slot.module && slots[i - 1].iat_rva + 8 == slot.iat_rva;
        match runs.last_mut() {
            Some((m, _, count)) if contiguous && m == module => *count += 1,
            _ => runs.push((module.to_owned(), i, 1)),
        }
    }
    runs
}

fn align(value: u32, to: u32) -> u32 {
    value.div_ceil(to) * to
}

/// The layout facts the rewrite needs, read once.
struct Layout {
    nt_offset: usize,
    section_table: usize,
    sections: usize,
    section_alignment: u32,
    file_alignment: u32,
    size_of_headers: u32,
    /// Where the new section's data goes in the file and in memory.
    raw_offset: u32,
    rva: u32,
}

fn layout(path: &Path, image: &[u8]) -> Result<Layout, Error> {
    let parse = |e| Error::Parse(path.into(), e);
    let file = PeFile64::parse(image).map_err(parse)?;
    let directories = file.data_directories();
    for (index, why) in [
        (
            IMAGE_DIRECTORY_ENTRY_BOUND_IMPORT,
            "bound imports are not supported",
        ),
        (
            IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT,
            "delay-load imports are not supported",
        ),
        (
            IMAGE_DIRECTORY_ENTRY_SECURITY,
            "a signed image cannot be rewritten (the signature would break)",
        ),
    ] {
        if directories.get(index).is_some_and(|d| d.size.get(LE) != 0) {
            return Err(Error::Unsupported(path.into(), why));
        }
    }
    let optional = file.nt_headers().optional_header();
    let (section_alignment, file_alignment) = (
        optional.section_alignment.get(LE),
        optional.file_alignment.get(LE),
    );
    let size_of_headers = optional.size_of_headers.get(LE);
    let sections = file.section_table();
    let nt_offset = file.dos_header().nt_headers_offset() as usize;
    let section_table = nt_offset
        + 24
        + file
            .nt_headers()
            .file_header()
            .size_of_optional_header
            .get(LE) as usize;
    let count = sections.len();
    let first_raw = sections
        .iter()
        .filter(|s| s.size_of_raw_data.get(LE) != 0)
        .map(|s| s.pointer_to_raw_data.get(LE))
        .min()
        .unwrap_or(size_of_headers);
    if section_table + (count + 1) * pe::IMAGE_SIZEOF_SECTION_HEADER
        > (size_of_headers.min(first_raw) as usize)
    {
        return Err(Error::Unsupported(
            path.into(),
            "no room in the headers for another section header",
        ));
    }
    let raw_end = sections
        .iter()
        .map(|s| s.pointer_to_raw_data.get(LE) + s.size_of_raw_data.get(LE))
        .max()
        .unwrap_or(size_of_headers);
    if raw_end as usize != image.len() {
        return Err(Error::Unsupported(
            path.into(),
            "data after the last section (an overlay) is not supported",
        ));
    }
    let memory_end = sections
        .iter()
        .map(|s| s.virtual_address.get(LE) + s.virtual_size.get(LE).max(s.size_of_raw_data.get(LE)))
        .max()
        .unwrap_or(size_of_headers);
    Ok(Layout {
        nt_offset,
        section_table,
        sections: count,
        section_alignment,
        file_alignment,
        size_of_headers,
        raw_offset: align(raw_end, file_alignment),
        rva: align(memory_end, section_alignment),
    })
}

/// The new section's data, self-contained but for the address-table slots it names:
/// descriptors (and their zero terminator), one lookup table per run, the hint/name entries,
/// the module names. Returns the data and the import directory's size.
fn import_section(map: &Map, slots: &[Slot], rva: u32) -> (Vec<u8>, u32) {
    let runs = runs(map, slots);
    let descriptors_size = ((runs.len() + 1) * size_of::<ImageImportDescriptor>()) as u32;
    let lookup_size: u32 = runs.iter().map(|(_, _, n)| (*n as u32 + 1) * 8).sum();
    // Strings after the tables: each hint/name entry (2-byte aligned, as the format wants),
    // then each module name once.
    let mut strings = Vec::new();
    let strings_rva = rva + descriptors_size + lookup_size;
    let mut lookup_of = Vec::with_capacity(slots.len());
    for slot in slots {
        lookup_of.push(match &slot.import {
            Import::Ordinal(n) => pe::IMAGE_ORDINAL_FLAG64 | u64::from(*n),
            Import::Name(hint, name) => {
                let at = strings_rva + strings.len() as u32;
                strings.extend_from_slice(&hint.to_le_bytes());
                strings.extend_from_slice(name);
                strings.push(0);
                if strings.len() % 2 == 1 {
                    strings.push(0);
                }
                u64::from(at)
            }
        });
    }
    let mut name_rva = BTreeMap::new();
    for (module, _, _) in &runs {
        name_rva.entry(module.as_str()).or_insert_with(|| {
            let at = strings_rva + strings.len() as u32;
            strings.extend_from_slice(module.as_bytes());
            strings.push(0);
            at
        });
    }
    let mut data = Vec::new();
    let mut lookups = Vec::new();
    let mut lookup_rva = rva + descriptors_size;
    for (module, first, count) in &runs {
        let u32le = |v: u32| U32Bytes::new(LE, v);
        let descriptor = ImageImportDescriptor {
            original_first_thunk: u32le(lookup_rva),
            time_date_stamp: u32le(0),
            forwarder_chain: u32le(0),
            name: u32le(name_rva[module.as_str()]),
            first_thunk: u32le(slots[*first].iat_rva),
        };
        data.extend_from_slice(bytes_of(&descriptor));
        for lookup in &lookup_of[*first..first + count] {
            lookups.extend_from_slice(&lookup.to_le_bytes());
        }
        lookups.extend_from_slice(&0u64.to_le_bytes());
        lookup_rva += (*count as u32 + 1) * 8;
    }
    data.resize(descriptors_size as usize, 0);
    data.extend_from_slice(&lookups);
    data.extend_from_slice(&strings);
    (data, descriptors_size)
}

/// The standard PE checksum: 16-bit one's-complement-style sum of the file with the checksum
/// field taken as zero, plus the file length.
fn pe_checksum(image: &[u8], checksum_offset: usize) -> u32 {
    let mut sum: u64 = 0;
    for (i, chunk) in image.chunks(2).enumerate() {
        if i * 2 == checksum_offset || i * 2 == checksum_offset + 2 {
            continue;
        }
        let word = u16::from_le_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u64::from(word);
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    (sum as u32) + image.len() as u32
}

/// The rewritten image.
fn rewrite(path: &Path, image: &[u8], map: &Map) -> Result<Vec<u8>, Error> {
    let layout = layout(path, image)?;
    let slots = slots(path, image)?;
    let (data, directory_size) = import_section(map, &slots, layout.rva);
    let raw_size = align(data.len() as u32, layout.file_alignment);
    let mut out = image.to_vec();
    out.resize(layout.raw_offset as usize, 0);
    out.extend_from_slice(&data);
    out.resize((layout.raw_offset + raw_size) as usize, 0);

    let u32le = |v: u32| U32::new(LE, v);
    let header = ImageSectionHeader {
        name: SECTION_NAME,
        virtual_size: u32le(data.len() as u32),
        virtual_address: u32le(layout.rva),
        size_of_raw_data: u32le(raw_size),
        pointer_to_raw_data: u32le(layout.raw_offset),
        pointer_to_relocations: u32le(0),
        pointer_to_linenumbers: u32le(0),
        number_of_relocations: object::U16::new(LE, 0),
        number_of_linenumbers: object::U16::new(LE, 0),
        characteristics: u32le(IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ),
    };
    let at = layout.section_table + layout.sections * pe::IMAGE_SIZEOF_SECTION_HEADER;
    out[at..at + pe::IMAGE_SIZEOF_SECTION_HEADER].copy_from_slice(bytes_of(&header));

    let unsupported = |why| Error::Unsupported(path.into(), why);
    let (nt, _) = from_bytes_mut::<ImageNtHeaders64>(&mut out[layout.nt_offset..])
        .map_err(|()| unsupported("truncated NT headers"))?;
    let count = nt.file_header.number_of_sections.get(LE) + 1;
    nt.file_header.number_of_sections.set(LE, count);
    let optional = &mut nt.optional_header;
    optional.size_of_image.set(
        LE,
        align(layout.rva + data.len() as u32, layout.section_alignment),
    );
    let initialized = optional.size_of_initialized_data.get(LE) + raw_size;
    optional.size_of_initialized_data.set(LE, initialized);
    debug_assert_eq!(optional.size_of_headers.get(LE), layout.size_of_headers);
    let directory_offset = layout.nt_offset
        + size_of::<ImageNtHeaders64>()
        + IMAGE_DIRECTORY_ENTRY_IMPORT * size_of::<pe::ImageDataDirectory>();
    out[directory_offset..directory_offset + 4].copy_from_slice(&layout.rva.to_le_bytes());
    out[directory_offset + 4..directory_offset + 8].copy_from_slice(&directory_size.to_le_bytes());
    // CheckSum: 64 bytes into the optional header.
    let checksum_offset = layout.nt_offset + 24 + 64;
    let checksum = pe_checksum(&out, checksum_offset);
    out[checksum_offset..checksum_offset + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(out)
}

/// Reads the rewritten image back: the same functions at the same address-table slots, each
/// from its mapped module; every original section byte for byte the same; a valid checksum.
fn check(path: &Path, original: &[u8], rewritten: &[u8], map: &Map) -> Result<(), Error> {
    let fail = |why: String| Error::Check(path.into(), why);
    let before = slots(path, original)?;
    let after = slots(path, rewritten)?;
    let expected: Vec<Slot> = before
        .iter()
        .map(|s| Slot {
            module: target(map, s).to_owned(),
            ..s.clone()
        })
        .collect();
    if after != expected {
        return Err(fail(format!(
            "imports read back as {after:?}, expected {expected:?}"
        )));
    }
    let parse = |e| Error::Parse(path.into(), e);
    let old = PeFile64::parse(original).map_err(parse)?;
    let new = PeFile64::parse(rewritten).map_err(parse)?;
    for (a, b) in old.section_table().iter().zip(new.section_table().iter()) {
        let (start, size) = (
            a.pointer_to_raw_data.get(LE) as usize,
            a.size_of_raw_data.get(LE) as usize,
        );
        if bytes_of(a) != bytes_of(b)
            || original.get(start..start + size) != rewritten.get(start..start + size)
        {
            return Err(fail(format!(
                "section {} changed",
                String::from_utf8_lossy(&a.name)
            )));
        }
    }
    let checksum_offset = new.dos_header().nt_headers_offset() as usize + 24 + 64;
    let stored = new.nt_headers().optional_header().check_sum.get(LE);
    if stored != pe_checksum(rewritten, checksum_offset) {
        return Err(fail("checksum does not match".to_owned()));
    }
    Ok(())
}

fn run(map_path: &Path, input: &Path, output: &Path) -> Result<Vec<String>, Error> {
    let map = read_map(map_path)?;
    let image = std::fs::read(input).map_err(|e| Error::Io(input.into(), e))?;
    let rewritten = rewrite(input, &image, &map)?;
    check(input, &image, &rewritten, &map)?;
    std::fs::write(output, &rewritten).map_err(|e| Error::Io(output.into(), e))?;
    let moved = slots(input, &image)?
        .iter()
        .filter(|s| target(&map, s) != s.module)
        .map(|s| format!("{}!{} -> {}", s.module, s.function, target(&map, s)))
        .collect();
    Ok(moved)
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [map, input, output] = args.as_slice() else {
        eprintln!("usage: wine_imports MAP IN.sys OUT.sys");
        return ExitCode::from(2);
    };
    match run(map, input, output) {
        Ok(moved) => {
            for line in moved {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wine_imports: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RDATA_RVA: u32 = 0x2000;
    const RDATA_RAW: usize = 0x600;

    fn put(image: &mut [u8], at: usize, bytes: &[u8]) {
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// A minimal PE32+ driver image: headers, a `.text` section and an `.rdata` section with
    /// the import directory of `imports` (module, functions), laid out as a linker does:
    /// descriptors, lookup tables, address tables, hint/name entries, module names.
    fn image(imports: &[(&str, &[&str])], size_of_headers: u32) -> Vec<u8> {
        let mut out = vec![0u8; RDATA_RAW + 0x200];
        put(&mut out, 0, b"MZ");
        put(&mut out, 0x3c, &0x80u32.to_le_bytes());
        let nt = 0x80;
        put(&mut out, nt, b"PE\0\0");
        put(
            &mut out,
            nt + 4,
            &pe::IMAGE_FILE_MACHINE_AMD64.to_le_bytes(),
        );
        put(&mut out, nt + 6, &2u16.to_le_bytes());
        put(&mut out, nt + 20, &240u16.to_le_bytes());
        put(&mut out, nt + 22, &0x22u16.to_le_bytes());
        let opt = nt + 24;
        put(
            &mut out,
            opt,
            &pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC.to_le_bytes(),
        );
        put(&mut out, opt + 24, &0x1_4000_0000u64.to_le_bytes());
        put(&mut out, opt + 32, &0x1000u32.to_le_bytes());
        put(&mut out, opt + 36, &0x200u32.to_le_bytes());
        put(&mut out, opt + 56, &0x3000u32.to_le_bytes());
        put(&mut out, opt + 60, &size_of_headers.to_le_bytes());
        put(
            &mut out,
            opt + 68,
            &pe::IMAGE_SUBSYSTEM_NATIVE.to_le_bytes(),
        );
        put(&mut out, opt + 108, &16u32.to_le_bytes());
        let sections = opt + 240;
        for (i, (name, rva, raw)) in [
            (b".text\0\0\0", 0x1000u32, 0x400u32),
            (b".rdata\0\0", RDATA_RVA, RDATA_RAW as u32),
        ]
        .iter()
        .enumerate()
        {
            let at = sections + i * 40;
            put(&mut out, at, *name);
            put(&mut out, at + 8, &0x200u32.to_le_bytes());
            put(&mut out, at + 12, &rva.to_le_bytes());
            put(&mut out, at + 16, &0x200u32.to_le_bytes());
            put(&mut out, at + 20, &raw.to_le_bytes());
        }
        out[0x400..0x600].fill(0xCC);

        // .rdata: descriptors, then per module its lookup table and address table, then
        // the strings.
        let functions: usize = imports.iter().map(|(_, f)| f.len() + 1).sum();
        let descriptors = (imports.len() + 1) * 20;
        let tables = descriptors.div_ceil(8) * 8;
        let mut strings = tables + 2 * functions * 8;
        let mut table = tables;
        for (i, (module, names)) in imports.iter().enumerate() {
            let lookup = table;
            let iat = table + functions * 8;
            let d = RDATA_RAW + i * 20;
            put(&mut out, d, &(RDATA_RVA + lookup as u32).to_le_bytes());
            put(&mut out, d + 16, &(RDATA_RVA + iat as u32).to_le_bytes());
            for (j, name) in names.iter().enumerate() {
                let entry = (RDATA_RVA as usize + strings) as u64;
                put(&mut out, RDATA_RAW + lookup + j * 8, &entry.to_le_bytes());
                put(&mut out, RDATA_RAW + iat + j * 8, &entry.to_le_bytes());
                put(&mut out, RDATA_RAW + strings + 2, name.as_bytes());
                strings += (2 + name.len() + 1).div_ceil(2) * 2;
            }
            put(
                &mut out,
                d + 12,
                &(RDATA_RVA + strings as u32).to_le_bytes(),
            );
            put(&mut out, RDATA_RAW + strings, module.as_bytes());
            strings += module.len() + 1;
            table += (names.len() + 1) * 8;
        }
        let directory = nt + 24 + 112 + 8;
        put(&mut out, directory, &RDATA_RVA.to_le_bytes());
        put(&mut out, directory + 4, &(descriptors as u32).to_le_bytes());
        out
    }

    fn map(lines: &str) -> Map {
        let path = std::env::temp_dir().join(format!("wine-imports-{}.txt", std::process::id()));
        std::fs::write(&path, lines).unwrap();
        let map = read_map(&path);
        let _ = std::fs::remove_file(&path);
        map.unwrap()
    }

    fn modules(image: &[u8]) -> Vec<(String, String, u32)> {
        slots(Path::new("x.sys"), image)
            .unwrap()
            .into_iter()
            .map(|s| (s.module, s.function, s.iat_rva))
            .collect()
    }

    #[test]
    fn mapped_imports_move_and_keep_their_slots() {
        let original = image(
            &[
                (
                    "ntoskrnl.exe",
                    &[
                        "EtwRegister",
                        "KeQueryPerformanceCounter",
                        "ZwClose",
                        "EtwWriteTransfer",
                    ],
                ),
                ("NETIO.SYS", &["WskRegister"]),
            ],
            0x400,
        );
        let map = map(
            "# comment\nntoskrnl.exe!EtwRegister wsktap.sys\nntoskrnl.exe!EtwWriteTransfer wsktap.sys # why\n\
             ntoskrnl.exe!KeQueryPerformanceCounter hal.dll\nntoskrnl.exe!ExAllocatePool2 wsktap.sys\n",
        );
        let path = Path::new("x.sys");
        let rewritten = rewrite(path, &original, &map).unwrap();
        check(path, &original, &rewritten, &map).unwrap();
        let before = modules(&original);
        let after = modules(&rewritten);
        let targets: Vec<&str> = after.iter().map(|(m, _, _)| m.as_str()).collect();
        assert_eq!(
            targets,
            [
                "wsktap.sys",
                "hal.dll",
                "ntoskrnl.exe",
                "wsktap.sys",
                "netio.sys"
            ]
        );
        for (b, a) in before.iter().zip(&after) {
            assert_eq!((&b.1, b.2), (&a.1, a.2), "same function in the same slot");
        }
        // The original bytes are all still there; only the headers and the appended
        // section differ.
        assert_eq!(&rewritten[0x400..original.len()], &original[0x400..]);
        assert_eq!(rewritten.len(), original.len() + 0x200);
    }

    #[test]
    fn an_empty_map_changes_only_where_the_directory_lives() {
        let original = image(&[("ntoskrnl.exe", &["ZwClose"])], 0x400);
        let map = Map::new();
        let rewritten = rewrite(Path::new("x.sys"), &original, &map).unwrap();
        check(Path::new("x.sys"), &original, &rewritten, &map).unwrap();
        assert_eq!(modules(&original), modules(&rewritten));
    }

    #[test]
    fn images_it_cannot_rewrite_are_refused() {
        // Headers end right after the second section header: no room for a third.
        let tight = image(&[("ntoskrnl.exe", &["ZwClose"])], 0x80 + 24 + 240 + 80);
        let err = rewrite(Path::new("x.sys"), &tight, &Map::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.sys: no room in the headers for another section header"
        );

        let mut overlay = image(&[("ntoskrnl.exe", &["ZwClose"])], 0x400);
        overlay.extend_from_slice(&[1; 16]);
        let err = rewrite(Path::new("x.sys"), &overlay, &Map::new()).unwrap_err();
        assert!(err.to_string().contains("overlay"), "{err}");
    }

    #[test]
    fn map_lines_are_checked() {
        let path =
            std::env::temp_dir().join(format!("wine-imports-bad-{}.txt", std::process::id()));
        for (text, why) in [
            ("ntoskrnl.exe!A\n", "expected `module!function target`"),
            ("ntoskrnl.exe A b\n", "expected `module!function target`"),
            ("A b\n", "expected `module!function`"),
            ("m!A b\nm!A c\n", "function mapped twice"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_map(&path).unwrap_err().to_string();
            assert!(err.ends_with(why), "{text:?}: {err}");
        }
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn checksum_is_the_pe_checksum() {
        // Two words and the length: 0x0201 + 0x0403 + 4, the checksum field (at 0) skipped.
        assert_eq!(
            pe_checksum(&[9, 9, 9, 9, 1, 2, 3, 4], 0),
            0x0201 + 0x0403 + 8
        );
    }
}
