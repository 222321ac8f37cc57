//! The viewer's colours, as sRGB bytes: one meaning per colour, the same in the 3D view,
//! its snapshots and the web console's site plan (device and incident colours come from
//! `civitas_twin::palette`). With flat shading a pixel of a surface is exactly its colour
//! here, which the pixel tests check.

use bevy::color::Color;

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

// Device and incident colours are the twin's, shared with the web console.
pub use civitas_twin::palette::{DEVICE_STATES, HOLDERS, device, hex, incident};

/// A colour of this palette for bevy.
pub fn color(rgb: [u8; 3]) -> Color {
    Color::srgb_u8(rgb[0], rgb[1], rgb[2])
}
