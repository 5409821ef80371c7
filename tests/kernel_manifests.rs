//! `manifests/`: the WPR profile and the WPA regions of interest are well-formed XML, name the
//! provider exactly as the code defines it (name and name-hash GUID), and reference only
//! events (name + opcode) and fields that exist in the schema (`src/schema.rs`).

use std::collections::{BTreeMap, BTreeSet};

use roxmltree::{Document, Node};
use wsktrace_driver::schema::{self, EventDescriptor, PROVIDER_GUID_STR, PROVIDER_NAME};
use wsktrace_tools::kernel_pnp;

/// Microsoft-Windows-Kernel-PnP.
const KERNEL_PNP_GUID: &str = "9c205a39-1250-487d-abd7-e831c6290539";

fn read(name: &str) -> String {
    let path = format!("{}/manifests/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn elements<'a, 'i>(doc: &'a Document<'i>, tag: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    doc.descendants().filter(move |n| n.has_tag_name(tag))
}

fn attr<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> without {name}", node.tag_name().name()))
}

fn hex(text: &str) -> u64 {
    u64::from_str_radix(text.trim_start_matches("0x").trim_start_matches("0X"), 16)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A comment of the file names the provider, so a reader can tell what the GUID is.
fn assert_names_provider(doc: &Document<'_>) {
    assert!(
        doc.descendants()
            .filter(|n| n.is_comment())
            .any(|n| n.text().is_some_and(|t| t.contains(PROVIDER_NAME))),
        "a comment names {PROVIDER_NAME}"
    );
}

/// The profile's `EventProvider` elements by `Id`.
fn event_providers<'a, 'i>(doc: &'a Document<'i>) -> BTreeMap<&'a str, Node<'a, 'i>> {
    elements(doc, "EventProvider")
        .map(|n| (attr(n, "Id"), n))
        .collect()
}

/// The one `EventProvider` whose `Name` is `guid` (compared without case).
fn provider_named<'a, 'i>(doc: &'a Document<'i>, guid: &str) -> Node<'a, 'i> {
    let found: Vec<Node> = event_providers(doc)
        .into_values()
        .filter(|n| attr(*n, "Name").eq_ignore_ascii_case(guid))
        .collect();
    assert_eq!(found.len(), 1, "one EventProvider with Name = {guid}");
    found[0]
}

/// The keywords a provider element enables.
fn keywords(provider: Node<'_, '_>) -> Vec<u64> {
    provider
        .descendants()
        .filter(|n| n.has_tag_name("Keyword"))
        .map(|n| hex(attr(n, "Value")))
        .collect()
}

/// Parses the WPR profile and checks what every test of it relies on.
fn with_wprp(check: impl FnOnce(&Document<'_>)) {
    let text = read("wsktrace.wprp");
    let doc = Document::parse(&text).expect("well-formed XML");
    assert_eq!(
        doc.root_element().tag_name().name(),
        "WindowsPerformanceRecorder"
    );
    check(&doc);
}

#[test]
fn wprp_enables_the_provider_by_guid_with_every_keyword() {
    with_wprp(|doc| {
        assert_names_provider(doc);
        let ours = provider_named(doc, PROVIDER_GUID_STR);
        let level: u8 = attr(ours, "Level").parse().expect("level");
        assert!(
            level >= schema::LEVEL,
            "level {level} records level-{} events",
            schema::LEVEL
        );
        let enabled = keywords(ours).into_iter().fold(0, |a, k| a | k);
        for d in schema::DESCRIPTORS {
            assert_eq!(
                d.keywords & !enabled,
                0,
                "{} keywords {:#x} enabled",
                d.variant,
                d.keywords
            );
        }
        let defined_keywords = schema::keywords::LIFECYCLE
            | schema::keywords::LATENCY
            | schema::keywords::DISPATCH
            | schema::keywords::SOCKET;
        assert_eq!(
            enabled & !defined_keywords,
            0,
            "only keywords the schema defines"
        );
    });
}

#[test]
fn wprp_records_kernel_pnp_driver_init_only() {
    assert_eq!(
        KERNEL_PNP_GUID,
        kernel_pnp::PROVIDER_GUID.to_string(),
        "the GUID the boot analysis decodes"
    );
    with_wprp(|doc| {
        let pnp = provider_named(doc, KERNEL_PNP_GUID);
        // Exactly the keyword of DriverInit 226/227, the events the boot analysis reads, and
        // not Performance, which most of the provider's boot events also carry.
        let pnp_keywords = keywords(pnp);
        assert_eq!(
            pnp_keywords,
            [kernel_pnp::KEYWORD_DRIVER_INIT],
            "Kernel-PnP keywords"
        );
        let driver_init_keywords =
            kernel_pnp::KEYWORD_PERFORMANCE | kernel_pnp::KEYWORD_DRIVER_INIT;
        assert_ne!(
            pnp_keywords[0] & driver_init_keywords,
            0,
            "DriverInit events enabled"
        );
        assert_eq!(
            pnp_keywords[0] & kernel_pnp::KEYWORD_PERFORMANCE,
            0,
            "not Performance"
        );
        let pnp_level: u8 = attr(pnp, "Level").parse().expect("level");
        assert!(
            pnp_level >= 4,
            "DriverInit events are level 4 (informational)"
        );
    });
}

#[test]
fn wprp_gives_kernel_mode_providers_non_paged_buffers() {
    with_wprp(|doc| {
        for guid in [PROVIDER_GUID_STR, KERNEL_PNP_GUID] {
            let provider = provider_named(doc, guid);
            assert_eq!(
                provider.attribute("NonPagedMemory"),
                Some("true"),
                "{} is a kernel-mode provider: NonPagedMemory=\"true\"",
                attr(provider, "Id")
            );
        }
    });
}

#[test]
fn wprp_references_resolve_and_both_profiles_exist_in_both_logging_modes() {
    with_wprp(|doc| {
        let ids: BTreeSet<&str> = doc
            .descendants()
            .filter(|n| n.is_element())
            .filter_map(|n| n.attribute("Id"))
            .collect();
        for tag in [
            "EventProviderId",
            "SystemProviderId",
            "SystemCollectorId",
            "EventCollectorId",
        ] {
            for n in elements(doc, tag) {
                assert!(
                    ids.contains(attr(n, "Value")),
                    "{tag} {} resolves",
                    attr(n, "Value")
                );
            }
        }
        let (profiles, enables) = profiles_and_providers(doc);
        let both: BTreeSet<&str> = ["File", "Memory"].into_iter().collect();
        assert_eq!(profiles.get("WskTrace"), Some(&both));
        assert_eq!(profiles.get("WskTraceBoot"), Some(&both));
        let our_id = attr(provider_named(doc, PROVIDER_GUID_STR), "Id");
        assert!(enables["WskTrace"].contains(our_id));
        assert!(enables["WskTraceBoot"].contains(our_id));
        let pnp_id = attr(provider_named(doc, KERNEL_PNP_GUID), "Id");
        assert!(
            enables["WskTraceBoot"].contains(pnp_id),
            "boot profile records Kernel-PnP"
        );
    });
}

/// Per profile name: its logging modes, and the event providers it enables (its own, or its
/// base's).
type ProfileSets<'a> = BTreeMap<&'a str, BTreeSet<&'a str>>;

fn profiles_and_providers<'a>(doc: &'a Document<'_>) -> (ProfileSets<'a>, ProfileSets<'a>) {
    let mut profiles = ProfileSets::new();
    let mut enables = ProfileSets::new();
    let by_id: BTreeMap<&str, Node> = elements(doc, "Profile")
        .map(|p| (attr(p, "Id"), p))
        .collect();
    for p in by_id.values() {
        profiles
            .entry(attr(*p, "Name"))
            .or_default()
            .insert(attr(*p, "LoggingMode"));
        let source = match p.attribute("Base") {
            Some(base) => *by_id
                .get(base)
                .unwrap_or_else(|| panic!("Base {base} resolves")),
            None => *p,
        };
        let set = enables.entry(attr(*p, "Name")).or_default();
        for n in source
            .descendants()
            .filter(|n| n.has_tag_name("EventProviderId"))
        {
            set.insert(attr(n, "Value"));
        }
    }
    (profiles, enables)
}

/// The schema event a regions `<Event>` names (by provider, name and opcode).
fn event_of(node: Node<'_, '_>) -> &'static EventDescriptor {
    let provider = attr(node, "Provider");
    assert_eq!(
        provider,
        format!("{{{PROVIDER_GUID_STR}}}"),
        "provider GUID"
    );
    let name = attr(node, "Name");
    let opcode: u8 = attr(node, "Opcode").parse().expect("opcode");
    schema::find_descriptor(name, opcode)
        .unwrap_or_else(|| panic!("no schema event {name} with opcode {opcode}"))
}

fn has_field(event: &EventDescriptor, field: &str) -> bool {
    event.fields.iter().any(|f| f.name == field)
}

#[test]
fn regions_reference_only_schema_events_and_fields() {
    let text = read("wsktrace.regions.xml");
    let doc = Document::parse(&text).expect("well-formed XML");
    assert_eq!(
        doc.root_element().tag_name().name(),
        "InstrumentationManifest"
    );
    assert_names_provider(&doc);

    let mut guids = BTreeSet::new();
    let mut spans = BTreeSet::new();
    for region in elements(&doc, "Region") {
        let guid = attr(region, "Guid");
        let bare = guid.trim_start_matches('{').trim_end_matches('}');
        assert!(is_guid(bare), "region GUID {guid}");
        assert!(
            guids.insert(bare.to_lowercase()),
            "region GUID {guid} unique"
        );
        let child = |tag: &str| {
            region
                .children()
                .find(|n| n.has_tag_name(tag))
                .unwrap_or_else(|| panic!("{} has <{tag}>", attr(region, "Name")))
        };
        let event_in = |tag: &str| {
            let part = child(tag);
            let event = part
                .children()
                .find(|n| n.has_tag_name("Event"))
                .expect("<Event>");
            let descriptor = event_of(event);
            for id in part
                .children()
                .filter(|n| n.has_tag_name("PayloadIdentifier"))
            {
                let field = attr(id, "FieldName");
                assert!(
                    has_field(descriptor, field),
                    "{} has {field}",
                    descriptor.variant
                );
            }
            descriptor
        };
        let start = event_in("Start");
        let stop = event_in("Stop");
        for payload in region.descendants().filter(|n| n.has_tag_name("Payload")) {
            // Both attributes, as WPA's regions schema documents a payload match: the start
            // event's field and the stop event's.
            let field = attr(payload, "FieldName");
            let target = attr(payload, "TargetFieldName");
            assert!(has_field(start, field), "{} has {field}", start.variant);
            assert!(has_field(stop, target), "{} has {target}", stop.variant);
        }
        for naming in region
            .descendants()
            .filter(|n| n.has_tag_name("PayloadBased"))
        {
            let field = attr(naming, "NameField");
            assert!(has_field(start, field), "{} has {field}", start.variant);
        }
        let matched: BTreeSet<(&str, &str)> = region
            .descendants()
            .filter(|n| n.has_tag_name("Payload"))
            .map(|p| (attr(p, "FieldName"), attr(p, "TargetFieldName")))
            .collect();
        if (start.variant, stop.variant) == ("AcceptStop", "CloseSocketStop") {
            // A connection's region pairs the accepted socket's id with the closed one's.
            assert!(
                matched.contains(&("AcceptedSocketId", "SocketId")),
                "{matched:?}"
            );
            assert!(matched.contains(&("RegistrationId", "RegistrationId")));
        }
        spans.insert((start.variant, stop.variant));
    }
    for wanted in [
        ("DriverEntryStart", "DriverEntryStop"),
        ("CaptureProviderNpiStart", "CaptureProviderNpiStop"),
        ("CaptureProviderNpiStop", "ReleaseProviderNpi"),
        ("WskDeregisterStart", "WskDeregisterStop"),
        ("AcceptStop", "CloseSocketStop"),
    ] {
        assert!(
            spans.contains(&wanted),
            "a region from {} to {}",
            wanted.0,
            wanted.1
        );
    }
}
