//! Headless renders of the small community with flat colours: exact pixel colours at
//! known places, and the same bytes on a second render.

use super::*;
use civitas_twin::kinds::Department;
use civitas_twin::vocab::incident::EscalationReason;
use civitas_viz::palette;
use civitas_viz::scene::{IncidentMarker, Model};
use civitas_viz::snapshot::{capture, find_renderer, seek};
use civitas_viz::view::Holder;

const W: u32 = 320;
const H: u32 = 240;

/// The small community at t = 300 s: its camera in alarm since 100 s, a fire whistled to
/// the district at 200 s.
fn render() -> (image::RgbaImage, App) {
    find_renderer().expect("a Vulkan driver (scripts/setup-viewer installs lavapipe)");
    let windows = vec![
        window(vec![device(100, 0, DeviceState::Alarm)]),
        window(vec![
            incident(200, 1, Stage::Created),
            incident(
                200,
                1,
                Stage::Whistled {
                    department: Department::FireRescue,
                    reason: EscalationReason::Severity,
                    arrives: 260,
                },
            ),
        ]),
    ];
    let mut app = small_app(
        windows,
        10 * 86_400,
        Output::Image {
            width: W,
            height: H,
        },
        Shading::Flat,
    );
    seek(&mut app, 300);
    let image = capture(&mut app).expect("a frame");
    (image, app)
}

/// Where `p` lands in the picture.
fn pixel(app: &mut App, p: Vec3) -> (u32, u32) {
    let world = app.world_mut();
    let (camera, at) = world
        .query::<(&Camera, &GlobalTransform)>()
        .single(world)
        .expect("one camera");
    let v = camera
        .world_to_viewport(at, p)
        .expect("the point is in view");
    (v.x.round() as u32, v.y.round() as u32)
}

fn rgb(image: &image::RgbaImage, (x, y): (u32, u32)) -> [u8; 3] {
    let p = image.get_pixel(x, y).0;
    [p[0], p[1], p[2]]
}

#[test]
fn a_flat_render_shows_each_thing_in_its_exact_colour_and_renders_the_same_twice() {
    let (image, mut app) = render();
    assert_eq!(image.dimensions(), (W, H));
    let model = app.world().resource::<Model>().clone();
    let c = &model.layout.communities[0];
    let b = &c.buildings[0];
    // The building's roof, off its middle line (where the lift rooms stand).
    let roof = b.roof() + Vec3::new(b.width * 0.3, 0.0, b.depth * 0.3);
    // The ground near the site's corner closest to the camera, clear of the site point.
    let ground = Vec3::new(c.max.x - 3.0, 0.0, (c.min.y + c.max.y) / 2.0 + 8.0);
    let device = c.devices[0].at;
    let marker = {
        let world = app.world_mut();
        let (m, t) = world
            .query::<(&IncidentMarker, &Transform)>()
            .single(world)
            .expect("one incident marker");
        assert_eq!(m.holder, Holder::District);
        t.translation
    };
    let checks = [
        ("background", (2, 2), palette::BACKGROUND),
        ("ground", pixel(&mut app, ground), palette::GROUND),
        ("building roof", pixel(&mut app, roof), palette::BUILDING),
        (
            "device in alarm",
            pixel(&mut app, device),
            palette::device(DeviceState::Alarm),
        ),
        (
            "incident held by the district",
            pixel(&mut app, marker),
            palette::incident(Holder::District),
        ),
    ];
    for (what, at, want) in checks {
        assert_eq!(rgb(&image, at), want, "{what} at {at:?}");
    }
    let (again, _) = render();
    assert!(image.as_raw() == again.as_raw(), "a second render differs");
}
