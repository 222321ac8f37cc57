//! The colours of device states and of incidents by who holds them, as sRGB bytes: one
//! meaning per colour, the same in the 3D viewer (`viz`), its snapshots and the web
//! console's site plan (served by the operator API).

use crate::view::Holder;
use crate::vocab::events::DeviceState;

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

/// Every device state, in the order a legend shows them.
pub const DEVICE_STATES: [DeviceState; 4] = [
    DeviceState::Working,
    DeviceState::Alarm,
    DeviceState::Failed,
    DeviceState::Offline,
];

/// Every incident holder, in the order a legend shows them.
pub const HOLDERS: [Holder; 4] = [
    Holder::Unnoticed,
    Holder::Community,
    Holder::Street,
    Holder::District,
];

/// `#rrggbb`.
pub fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}
