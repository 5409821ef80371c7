//! A user's instrumentation manifest (the XML `mc.exe` compiles): providers, their events,
//! templates, value maps, tasks and opcodes, turned into [`EventLayout`]s.
//!
//! The root element must be `instrumentationManifest` in the manifest namespace
//! ([`MANIFEST_NAMESPACE`]); anything else is refused, so that a file given by mistake is an
//! error and not an empty manifest. Below the root, what is read (element and attribute names
//! of the EventManifest schema, compared by local name):
//!
//! - `provider` (`name`, `guid`) under `events`;
//! - `event` (`value`, `version`, `template`, `task`, `opcode`, `symbol`): one layout each,
//!   keyed by provider, id and version; an event without a template has no fields;
//! - `template` (`tid`) with `data` (`name`, `inType`, `outType`, `map`, `length`, `count`)
//!   and `struct` (`name`, `count`) holding `data`: a `length` or `count` is a number or the
//!   name of an earlier `data` item (inside a struct, its siblings first, then the template's
//!   items); a string's length counts characters, a binary's bytes;
//! - `valueMap` / `bitMap` (`name`) with `map` (`value`, `message`): `$(string.Id)` messages
//!   come from the `stringTable` of the `en-US` resources, else of the first;
//! - an event's `task` and `opcode` names, for its name (`DriverInit/Start`).
//!
//! Anything else (channels, keywords, levels, filters, `UserData`) does not change how a
//! payload is laid out and is skipped. DTDs are refused (the XML parser's default), so a
//! manifest cannot expand entities.

use std::collections::HashMap;
use std::sync::Arc;

use roxmltree::{Document, Node};

use super::error::LayoutError;
use super::layout::{
    event_name, Count, EventLayout, Length, Property, PropertyKind, Source, ValueMap,
};
use super::types::{TdhInType, TdhOutType};
use crate::tracelogging::Guid;

/// The providers of one manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// In document order.
    pub providers: Vec<ManifestProvider>,
}

/// One provider of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestProvider {
    /// `name`.
    pub name: String,
    /// `guid`.
    pub guid: Guid,
    /// Its events.
    pub events: Vec<ManifestEvent>,
}

/// One event of a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEvent {
    /// `value`: the event id.
    pub id: u16,
    /// `version`.
    pub version: u8,
    /// How its payload is laid out.
    pub layout: Arc<EventLayout>,
}

/// The namespace of the EventManifest schema, which the root element is in.
pub const MANIFEST_NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events";

/// Parses an instrumentation manifest.
pub fn parse_manifest(xml: &str) -> Result<Manifest, LayoutError> {
    let doc = Document::parse(xml).map_err(|e| LayoutError::Manifest {
        line: e.pos().row,
        column: e.pos().col,
        message: e.to_string(),
    })?;
    check_root(&doc)?;
    let p = Parser {
        doc: &doc,
        strings: string_table(&doc),
    };
    let providers = doc
        .descendants()
        .filter(|n| is(n, "provider") && n.parent().is_some_and(|e| is(&e, "events")))
        .map(|n| p.provider(n))
        .collect::<Result<_, _>>()?;
    Ok(Manifest { providers })
}

/// The root is `instrumentationManifest` in [`MANIFEST_NAMESPACE`].
fn check_root(doc: &Document<'_>) -> Result<(), LayoutError> {
    let root = doc.root_element();
    let tag = root.tag_name();
    if tag.name() == "instrumentationManifest" && tag.namespace() == Some(MANIFEST_NAMESPACE) {
        return Ok(());
    }
    let pos = doc.text_pos_at(root.range().start);
    let found = match tag.namespace() {
        Some(ns) => format!("<{}> in namespace {ns}", tag.name()),
        None => format!("<{}> in no namespace", tag.name()),
    };
    Err(LayoutError::Manifest {
        line: pos.row,
        column: pos.col,
        message: format!(
            "not an instrumentation manifest: the root element is {found}, not \
             <instrumentationManifest> in namespace {MANIFEST_NAMESPACE}"
        ),
    })
}

fn is(n: &Node<'_, '_>, local: &str) -> bool {
    n.is_element() && n.tag_name().name() == local
}

fn children<'a, 'i>(n: Node<'a, 'i>, local: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| is(c, local))
}

/// The strings of the `en-US` resources, else of the first.
fn string_table(doc: &Document<'_>) -> HashMap<String, String> {
    let resources: Vec<Node<'_, '_>> = doc.descendants().filter(|n| is(n, "resources")).collect();
    let chosen = resources
        .iter()
        .find(|r| {
            r.attribute("culture")
                .is_some_and(|c| c.eq_ignore_ascii_case("en-US"))
        })
        .or(resources.first());
    chosen
        .into_iter()
        .flat_map(|r| r.descendants().filter(|n| is(n, "string")))
        .filter_map(|s| {
            Some((
                s.attribute("id")?.to_owned(),
                s.attribute("value")?.to_owned(),
            ))
        })
        .collect()
}

/// An integer attribute in decimal or `0x` hex.
fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

struct Parser<'d, 'i> {
    doc: &'d Document<'i>,
    strings: HashMap<String, String>,
}

impl Parser<'_, '_> {
    fn error(&self, n: Node<'_, '_>, message: String) -> LayoutError {
        let pos = self.doc.text_pos_at(n.range().start);
        LayoutError::Manifest {
            line: pos.row,
            column: pos.col,
            message,
        }
    }

    fn required<'a>(&self, n: Node<'a, '_>, attr: &str) -> Result<&'a str, LayoutError> {
        n.attribute(attr).ok_or_else(|| {
            self.error(
                n,
                format!("<{}> without the {attr} attribute", n.tag_name().name()),
            )
        })
    }

    /// A `$(string.Id)` reference resolved, anything else as written.
    fn message(&self, m: &str) -> String {
        m.strip_prefix("$(string.")
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|id| self.strings.get(id))
            .cloned()
            .unwrap_or_else(|| m.to_owned())
    }

    fn provider(&self, n: Node<'_, '_>) -> Result<ManifestProvider, LayoutError> {
        let name = self.required(n, "name")?.to_owned();
        let g = self.required(n, "guid")?;
        let guid = Guid::parse(g.trim())
            .ok_or_else(|| self.error(n, format!("provider GUID {g:?} is not a GUID")))?;
        let section = |local| {
            children(n, local)
                .flat_map(|s| s.children())
                .filter(Node::is_element)
        };
        let mut maps = HashMap::new();
        for m in section("maps") {
            if is(&m, "valueMap") || is(&m, "bitMap") {
                maps.insert(self.required(m, "name")?.to_owned(), Arc::new(self.map(m)?));
            }
        }
        let mut templates = HashMap::new();
        for t in section("templates").filter(|t| is(t, "template")) {
            templates.insert(self.required(t, "tid")?.to_owned(), t);
        }
        let provider_name: Arc<str> = Arc::from(name.as_str());
        let mut events = Vec::new();
        for e in section("events").filter(|e| is(e, "event")) {
            events.push(self.event(e, &provider_name, &templates, &maps)?);
        }
        Ok(ManifestProvider { name, guid, events })
    }

    fn map(&self, n: Node<'_, '_>) -> Result<ValueMap, LayoutError> {
        let mut entries = Vec::new();
        for m in children(n, "map") {
            let v = self.required(m, "value")?;
            let value = number(v)
                .ok_or_else(|| self.error(m, format!("map value {v:?} is not a number")))?;
            let text = m.attribute("message").map(|s| self.message(s));
            entries.push((value, text.unwrap_or_else(|| v.to_owned())));
        }
        Ok(ValueMap::new(is(&n, "bitMap"), entries))
    }

    fn event(
        &self,
        e: Node<'_, '_>,
        provider: &Arc<str>,
        templates: &HashMap<String, Node<'_, '_>>,
        maps: &HashMap<String, Arc<ValueMap>>,
    ) -> Result<ManifestEvent, LayoutError> {
        let v = self.required(e, "value")?;
        let id = number(v)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| self.error(e, format!("event value {v:?} is not a 16-bit number")))?;
        let version = match e.attribute("version") {
            None => 0,
            Some(s) => number(s)
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| self.error(e, format!("event version {s:?} is not a byte")))?,
        };
        let (properties, top) = match e.attribute("template") {
            None => (Vec::new(), 0),
            Some(tid) => {
                let t = templates
                    .get(tid)
                    .ok_or_else(|| self.error(e, format!("template {tid:?} is not defined")))?;
                self.template(*t, maps)?
            }
        };
        let display = event_name(
            e.attribute("name"),
            e.attribute("task"),
            e.attribute("opcode"),
        )
        .or_else(|| e.attribute("symbol").map(str::to_owned));
        let layout = EventLayout::new(
            Source::Manifest,
            Some(provider.clone()),
            display,
            properties,
            top,
        )
        .map_err(|err| self.error(e, format!("event {id} version {version}: {err}")))?;
        Ok(ManifestEvent {
            id,
            version,
            layout: Arc::new(layout),
        })
    }

    /// The flat property list of a template: its items first, then each struct's members.
    fn template(
        &self,
        t: Node<'_, '_>,
        maps: &HashMap<String, Arc<ValueMap>>,
    ) -> Result<(Vec<Property>, u16), LayoutError> {
        let items: Vec<Node<'_, '_>> = t
            .children()
            .filter(|c| is(c, "data") || is(c, "struct"))
            .collect();
        let top = u16::try_from(items.len())
            .map_err(|_| self.error(t, "more than 65535 template items".into()))?;
        let mut props = Vec::with_capacity(items.len());
        let mut top_names: HashMap<&str, u16> = HashMap::new();
        let mut structs = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = if is(item, "data") {
                self.data(*item, &top_names, &HashMap::new(), maps)?
            } else {
                structs.push((i, *item));
                let name = self.required(*item, "name")?;
                let count = self.count(*item, &top_names, &HashMap::new())?;
                Property::structure(name, 0, 0).with_count(count)
            };
            if let Some(name) = item.attribute("name") {
                top_names.entry(name).or_insert(i as u16);
            }
            props.push(p);
        }
        for (i, s) in structs {
            let first = u16::try_from(props.len())
                .map_err(|_| self.error(s, "more than 65535 template items".into()))?;
            let mut siblings: HashMap<&str, u16> = HashMap::new();
            for d in children(s, "data") {
                let p = self.data(d, &top_names, &siblings, maps)?;
                let at = u16::try_from(props.len())
                    .map_err(|_| self.error(d, "more than 65535 template items".into()))?;
                siblings
                    .entry(d.attribute("name").unwrap_or_default())
                    .or_insert(at);
                props.push(p);
            }
            let members = props.len() as u16 - first;
            props[i].kind = PropertyKind::Struct { first, members };
        }
        Ok((props, top))
    }

    fn data(
        &self,
        d: Node<'_, '_>,
        top: &HashMap<&str, u16>,
        siblings: &HashMap<&str, u16>,
        maps: &HashMap<String, Arc<ValueMap>>,
    ) -> Result<Property, LayoutError> {
        let name = self.required(d, "name")?;
        let it = self.required(d, "inType")?;
        let in_type = TdhInType::from_manifest_name(it)
            .ok_or_else(|| self.error(d, format!("unknown inType {it:?}")))?;
        // An out-type this decoder does not know only loses its formatting hint.
        let out_type = d
            .attribute("outType")
            .and_then(TdhOutType::from_manifest_name)
            .unwrap_or_default();
        let mut p = Property::value(name, in_type, out_type)
            .with_count(self.count(d, top, siblings)?)
            .with_length(self.length(d, top, siblings)?);
        if let Some(m) = d.attribute("map") {
            let map = maps
                .get(m)
                .ok_or_else(|| self.error(d, format!("map {m:?} is not defined")))?;
            if !in_type.is_integer() {
                return Err(self.error(d, format!("map {m:?} on a {it} item")));
            }
            p = p.with_map(map.clone());
        }
        Ok(p)
    }

    /// A number, or the index of the item it names.
    fn size_ref(
        &self,
        n: Node<'_, '_>,
        attr: &str,
        top: &HashMap<&str, u16>,
        siblings: &HashMap<&str, u16>,
    ) -> Result<Option<Result<u16, u16>>, LayoutError> {
        let Some(v) = n.attribute(attr) else {
            return Ok(None);
        };
        if let Some(k) = number(v) {
            let k = u16::try_from(k)
                .map_err(|_| self.error(n, format!("{attr} {v:?} is larger than 65535")))?;
            return Ok(Some(Ok(k)));
        }
        let at = siblings
            .get(v)
            .or_else(|| top.get(v))
            .copied()
            .ok_or_else(|| self.error(n, format!("{attr} {v:?} names no earlier data item")))?;
        Ok(Some(Err(at)))
    }

    fn count(
        &self,
        n: Node<'_, '_>,
        top: &HashMap<&str, u16>,
        siblings: &HashMap<&str, u16>,
    ) -> Result<Count, LayoutError> {
        Ok(match self.size_ref(n, "count", top, siblings)? {
            None => Count::Scalar,
            Some(Ok(k)) => Count::Fixed(k),
            Some(Err(at)) => Count::Property(at),
        })
    }

    fn length(
        &self,
        n: Node<'_, '_>,
        top: &HashMap<&str, u16>,
        siblings: &HashMap<&str, u16>,
    ) -> Result<Length, LayoutError> {
        Ok(match self.size_ref(n, "length", top, siblings)? {
            None => Length::Natural,
            Some(Ok(k)) => Length::Fixed(k),
            Some(Err(at)) => Length::Property(at),
        })
    }
}
