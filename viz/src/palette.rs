//! The viewer's colours, as sRGB bytes: one meaning per colour, the same in the 3D view,
//! its snapshots and (later) the console's site plan. With flat shading a pixel of a
//! surface is exactly its colour here, which the pixel tests check.

use crate::view::Holder;
use bevy::color::Color;
use civitas_twin::vocab::events::DeviceState;

/// Sky behind the scene.
pub const BACKGROUND: [u8; 3] = [24, 32, 44];
/// The ground of a community's site.
pub const GROUND: [u8; 3] = [58, 74, 63];
/// Walls and roofs.
pub const BUILDING: [u8; 3] = [200, 195, 184];
/// The band marking each floor on the facades.
pub const FLOOR_BAND: [u8; 3] = [140, 135, 126];
/// A building's basement, drawn as a plinth around its footprint.
pub const BASEMENT: [u8; 3] = [40, 44, 52];
/// A lift's machine room on the roof.
pub const LIFT: [u8; 3] = [96, 110, 130];
/// A site point (gate, car-park section) on the ground.
pub const SITE: [u8; 3] = [150, 160, 150];

/// A device marker by its state.
pub fn device(state: DeviceState) -> [u8; 3] {
    match state {
        DeviceState::Working => [34, 197, 94],
        DeviceState::Alarm => [249, 115, 22],
        DeviceState::Failed => [127, 29, 29],
        DeviceState::Offline => [107, 114, 128],
    }
}

/// An incident marker by who holds it.
pub fn incident(holder: Holder) -> [u8; 3] {
    match holder {
        Holder::Unnoticed => [229, 231, 235],
        Holder::Community => [250, 204, 21],
        Holder::Street => [168, 85, 247],
        Holder::District => [239, 68, 68],
    }
}

/// Every device state, in the order the legend shows them.
pub const DEVICE_STATES: [DeviceState; 4] = [
    DeviceState::Working,
    DeviceState::Alarm,
    DeviceState::Failed,
    DeviceState::Offline,
];

/// Every incident holder, in the order the legend shows them.
pub const HOLDERS: [Holder; 4] = [
    Holder::Unnoticed,
    Holder::Community,
    Holder::Street,
    Holder::District,
];

/// A colour of this palette for bevy.
pub fn color(rgb: [u8; 3]) -> Color {
    Color::srgb_u8(rgb[0], rgb[1], rgb[2])
}

/// `#rrggbb`, for the guide's legend.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}
