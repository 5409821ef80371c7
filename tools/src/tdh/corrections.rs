//! Layouts whose providers document them differently from what their own manifests (and so
//! the trace's metadata) declare, corrected to the documentation.
//!
//! `Microsoft-Windows-DotNETRuntime` event 82 (`CLRStackWalk`, .NET documentation "Stack ETW
//! Event"): `FrameCount` is "the number of frames in the stack trace" and `Stack` the
//! instruction pointers; the runtime's manifest declares `Stack` with `count="2"` (a manifest
//! count names a 16-bit item, and `FrameCount` is a `UInt32`), so a stack of 67 frames would
//! decode as two and leave 65 pointers over. Corrected: `Stack` has `FrameCount` elements.

use super::layout::{Count, EventLayout, PropertyKind};
use super::registry::EventKey;
use super::types::TdhInType;
use crate::tracelogging::Guid;

/// `Microsoft-Windows-DotNETRuntime`, `e13c0d23-ccbc-4e12-931b-d9cc2eee27e4`.
const DOTNET_RUNTIME: Guid = Guid::from_fields(
    0xe13c_0d23,
    0xccbc,
    0x4e12,
    [0x93, 0x1b, 0xd9, 0xcc, 0x2e, 0xee, 0x27, 0xe4],
);
/// `CLRStackWalk`.
const CLR_STACK_WALK: u16 = 82;

/// `layout` as its provider documents it (unchanged for every other event).
pub(crate) fn correct(key: &EventKey, layout: EventLayout) -> EventLayout {
    if key.guid != DOTNET_RUNTIME || key.id != CLR_STACK_WALK {
        return layout;
    }
    let mut props = layout.properties().to_vec();
    let top = layout.top_level().len() as u16;
    let frames = props.iter().position(|p| {
        p.name == "FrameCount" && p.in_type() == Some(TdhInType::UINT32) && p.count == Count::Scalar
    });
    let stack = props.iter().position(|p| {
        p.name == "Stack"
            && matches!(
                p.kind,
                PropertyKind::Value {
                    in_type: TdhInType::POINTER,
                    ..
                }
            )
    });
    let (Some(frames), Some(stack)) = (frames, stack) else {
        return layout;
    };
    props[stack].count = Count::Property(frames as u16);
    EventLayout::new(
        layout.source,
        layout.provider_name.clone(),
        layout.event_name.clone(),
        props,
        top,
    )
    .unwrap_or(layout)
}
