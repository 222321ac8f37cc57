//! The scene's plugins: the site and its buildings ([`ScenePlugin`]), the device
//! markers ([`DevicesPlugin`]) and the incident markers ([`IncidentsPlugin`]). They
//! spawn from the [`Model`]'s layout and redraw on the [`SceneChange`]s the data
//! source's feed writes; none of them knows where the events come from.

use crate::layout::{FLOOR_HEIGHT_M, Layout, MARKER_M};
use crate::palette;
use crate::source::Subject;
use crate::view::{Change, Holder};
use bevy::prelude::*;
use civitas_twin::vocab::events::DeviceState;
use std::collections::HashMap;

/// What is shown: the district as generated, laid out.
#[derive(Resource, Debug, Clone)]
pub struct Model {
    /// The subject (district, calendar, horizon, title).
    pub subject: Subject,
    /// Where everything stands.
    pub layout: Layout,
}

/// How surfaces are shaded.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shading {
    /// Lit by a sun and the sky: depth is readable (the window's default).
    #[default]
    Lit,
    /// Every surface exactly its palette colour (pixel tests, and a plan-like look).
    Flat,
}

/// Something the scene must redraw, as read from the data source.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SceneChange(pub Change);

/// The community an entity belongs to (for showing one community at a time).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct InCommunity(pub u32);

/// The root of one community's entities: showing or hiding a community is one change
/// to its root, whatever the number of things in it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommunityRoot(pub u32);

/// Each community's root entity, by community index.
#[derive(Resource, Debug, Default, Clone)]
pub struct CommunityRoots(pub HashMap<u32, Entity>);

fn spawn_roots(model: Res<Model>, mut commands: Commands) {
    let roots = model
        .layout
        .communities
        .iter()
        .map(|c| {
            let root = commands
                .spawn((
                    CommunityRoot(c.index),
                    Transform::default(),
                    Visibility::default(),
                ))
                .id();
            (c.index, root)
        })
        .collect();
    commands.insert_resource(CommunityRoots(roots));
}

/// A device's marker.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceMarker {
    /// Community.
    pub community: u32,
    /// Device id.
    pub device: u32,
}

/// An incident's marker.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentMarker {
    /// Incident id.
    pub id: u64,
    /// Who holds it (as drawn).
    pub holder: Holder,
}

/// Where an incident marker stacks: above this roof, in this place.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Stacked {
    /// The top of its building.
    pub roof: Vec3,
    /// Its place in the building's stack (0 lowest).
    pub slot: usize,
}

/// A closed incident's marker, fading out.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Fading {
    /// Seconds (of viewer time) left before it is gone.
    pub left: f32,
}

/// Diameter of an incident marker (m).
pub const INCIDENT_M: f32 = 6.0;

/// Seconds a closed incident takes to fade out (viewer time, at any speed).
pub const FADE_SECS: f32 = 1.5;

/// The shared meshes and materials: one mesh per shape, one material per colour, so
/// that bevy draws all markers of a colour as one batch.
#[derive(Resource, Debug, Clone)]
pub struct Palette {
    /// A 1 m cube, scaled per entity.
    pub cube: Handle<Mesh>,
    /// A 1 m-diameter sphere.
    pub ball: Handle<Mesh>,
    /// Ground, building, floor band, basement, lift, site.
    pub ground: Handle<StandardMaterial>,
    /// Walls and roofs.
    pub building: Handle<StandardMaterial>,
    /// Floor bands.
    pub band: Handle<StandardMaterial>,
    /// Basement plinths.
    pub basement: Handle<StandardMaterial>,
    /// Lift machine rooms.
    pub lift: Handle<StandardMaterial>,
    /// Site points.
    pub site: Handle<StandardMaterial>,
    /// Device markers by state.
    pub devices: HashMap<DeviceState, Handle<StandardMaterial>>,
    /// Incident markers by holder.
    pub incidents: HashMap<Holder, Handle<StandardMaterial>>,
}

/// A material of `rgb` under `shading`.
pub fn material(rgb: [u8; 3], shading: Shading) -> StandardMaterial {
    StandardMaterial {
        base_color: palette::color(rgb),
        unlit: shading == Shading::Flat,
        perceptual_roughness: 0.9,
        ..default()
    }
}

fn make_palette(
    shading: Res<Shading>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut commands: Commands,
) {
    let mut m = |rgb| materials.add(material(rgb, *shading));
    let p = Palette {
        cube: meshes.add(Cuboid::new(1.0, 1.0, 1.0)),
        ball: meshes.add(Sphere::new(0.5)),
        ground: m(palette::GROUND),
        building: m(palette::BUILDING),
        band: m(palette::FLOOR_BAND),
        basement: m(palette::BASEMENT),
        lift: m(palette::LIFT),
        site: m(palette::SITE),
        devices: palette::DEVICE_STATES
            .iter()
            .map(|s| (*s, m(palette::device(*s))))
            .collect(),
        incidents: palette::HOLDERS
            .iter()
            .map(|h| (*h, m(palette::incident(*h))))
            .collect(),
    };
    commands.insert_resource(p);
}

/// Ground, buildings with their floors, basements, lifts and site points.
pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Shading>()
            .add_message::<SceneChange>()
            .insert_resource(ClearColor(palette::color(palette::BACKGROUND)))
            .add_systems(Startup, (make_palette, spawn_roots, spawn_site).chain());
    }
}

fn block(
    p: &Palette,
    material: &Handle<StandardMaterial>,
    center: Vec3,
    size: Vec3,
) -> impl Bundle {
    (
        Mesh3d(p.cube.clone()),
        MeshMaterial3d(material.clone()),
        Transform::from_translation(center).with_scale(size),
    )
}

/// The bands marking floors 1 to `floors - 1` of a `width` × `depth` building, as one
/// mesh standing on the ground at the origin.
pub fn floor_bands(width: f32, depth: f32, floors: u32) -> Mesh {
    let band = Mesh::from(Cuboid::new(width + 0.3, 0.3, depth + 0.3));
    let mut mesh = band
        .clone()
        .transformed_by(Transform::from_xyz(0.0, FLOOR_HEIGHT_M, 0.0));
    for k in 2..floors {
        let next =
            band.clone()
                .transformed_by(Transform::from_xyz(0.0, k as f32 * FLOOR_HEIGHT_M, 0.0));
        // Same attributes (a cuboid's): merging cannot fail.
        let _ = mesh.merge(&next);
    }
    mesh
}

fn spawn_site(
    model: Res<Model>,
    p: Res<Palette>,
    shading: Res<Shading>,
    roots: Res<CommunityRoots>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut commands: Commands,
) {
    let mut bands: HashMap<(u32, u32, u32), Handle<Mesh>> = HashMap::new();
    if *shading == Shading::Lit {
        commands.spawn((
            DirectionalLight {
                illuminance: 3_500.0,
                shadow_maps_enabled: false,
                ..default()
            },
            Transform::from_xyz(-0.6, 1.0, 0.4).looking_at(Vec3::ZERO, Vec3::Y),
        ));
        commands.insert_resource(GlobalAmbientLight {
            color: Color::WHITE,
            brightness: 350.0,
            ..default()
        });
    }
    for c in &model.layout.communities {
        let root = roots.0[&c.index];
        let tag = || (InCommunity(c.index), ChildOf(root));
        let size = c.max - c.min;
        let center = c.center();
        commands.spawn((
            block(
                &p,
                &p.ground,
                center - Vec3::Y * 0.05,
                Vec3::new(size.x, 0.1, size.y),
            ),
            tag(),
        ));
        for b in &c.buildings {
            let h = b.height();
            let foot = Vec3::new(b.center.x, 0.0, b.center.y);
            commands.spawn((
                block(
                    &p,
                    &p.building,
                    foot + Vec3::Y * h / 2.0,
                    Vec3::new(b.width, h, b.depth),
                ),
                tag(),
            ));
            if b.floors > 1 {
                // All of a building's floor bands are one mesh, shared by every building
                // of the same shape: a district draws a few thousand band entities, not
                // tens of thousands.
                let key = ((b.width * 100.0) as u32, (b.depth * 100.0) as u32, b.floors);
                let mesh = bands
                    .entry(key)
                    .or_insert_with(|| meshes.add(floor_bands(b.width, b.depth, b.floors)))
                    .clone();
                commands.spawn((
                    Mesh3d(mesh),
                    MeshMaterial3d(p.band.clone()),
                    Transform::from_translation(foot),
                    tag(),
                ));
            }
            if b.basement {
                commands.spawn((
                    block(
                        &p,
                        &p.basement,
                        foot + Vec3::Y * 0.05,
                        Vec3::new(b.width + 4.0, 0.1, b.depth + 4.0),
                    ),
                    tag(),
                ));
            }
            for l in 0..b.lifts {
                let along = (l as f32 + 0.5) / b.lifts as f32 - 0.5;
                commands.spawn((
                    block(
                        &p,
                        &p.lift,
                        foot + Vec3::new(along * b.width * 0.8, h + 1.25, 0.0),
                        Vec3::new(2.5, 2.5, 2.5),
                    ),
                    tag(),
                ));
            }
        }
        for s in &c.sites {
            commands.spawn((
                block(
                    &p,
                    &p.site,
                    Vec3::new(s.x, 0.1, s.y),
                    Vec3::new(4.0, 0.2, 4.0),
                ),
                tag(),
            ));
        }
    }
}

/// Device markers, coloured by state.
pub struct DevicesPlugin;

/// Each device's marker entity.
#[derive(Resource, Debug, Default)]
pub struct DeviceEntities(pub HashMap<(u32, u32), Entity>);

impl Plugin for DevicesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<DeviceEntities>()
            .init_resource::<DeviceDetail>()
            .add_systems(Startup, spawn_devices.after(spawn_roots))
            .add_systems(
                Update,
                (recolour_devices.after(crate::playback::feed), device_detail).chain(),
            );
    }
}

fn spawn_devices(
    model: Res<Model>,
    p: Res<Palette>,
    roots: Res<CommunityRoots>,
    mut entities: ResMut<DeviceEntities>,
    mut commands: Commands,
) {
    let working = &p.devices[&DeviceState::Working];
    for c in &model.layout.communities {
        for d in &c.devices {
            let e = commands
                .spawn((
                    block(&p, working, d.at, Vec3::splat(MARKER_M)),
                    DeviceMarker {
                        community: c.index,
                        device: d.device,
                    },
                    InCommunity(c.index),
                    ChildOf(roots.0[&c.index]),
                ))
                .id();
            entities.0.insert((c.index, d.device), e);
        }
    }
}

/// Whether working devices are drawn: from afar (a district at a glance) they are
/// hidden — each would be under a pixel, and a district has a hundred thousand — and
/// only the devices that are not working stand out.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceDetail {
    /// The camera is far: working devices are hidden.
    pub far: bool,
}

/// Camera distance (m) beyond which working devices are hidden.
pub const DEVICE_DETAIL_M: f32 = 1_500.0;

fn marker_visibility(far: bool, state: DeviceState) -> Visibility {
    if far && state == DeviceState::Working {
        Visibility::Hidden
    } else {
        Visibility::Inherited
    }
}

fn recolour_devices(
    mut changes: MessageReader<SceneChange>,
    entities: Res<DeviceEntities>,
    p: Res<Palette>,
    detail: Res<DeviceDetail>,
    mut markers: Query<
        (&mut MeshMaterial3d<StandardMaterial>, &mut Visibility),
        With<DeviceMarker>,
    >,
) {
    for SceneChange(change) in changes.read() {
        if let Change::Device {
            community,
            device,
            state,
        } = change
            && let Some(e) = entities.0.get(&(*community, *device))
            && let Ok((mut m, mut v)) = markers.get_mut(*e)
        {
            m.0 = p.devices[state].clone();
            v.set_if_neq(marker_visibility(detail.far, *state));
        }
    }
}

fn device_detail(
    cameras: Query<&crate::camera::Orbit>,
    view: Res<crate::playback::View>,
    mut detail: ResMut<DeviceDetail>,
    mut markers: Query<(&DeviceMarker, &mut Visibility)>,
) {
    let Ok(orbit) = cameras.single() else {
        return;
    };
    let far = orbit.distance > DEVICE_DETAIL_M;
    if far == detail.far {
        return;
    }
    detail.far = far;
    for (m, mut v) in &mut markers {
        v.set_if_neq(marker_visibility(far, view.0.device(m.community, m.device)));
    }
}

/// Incident markers above the building where each happened, coloured by the loop that
/// holds it; a closed one fades out.
pub struct IncidentsPlugin;

/// Each open incident's marker entity, and how many markers each building carries.
#[derive(Resource, Debug, Default)]
pub struct IncidentEntities {
    /// By incident id.
    pub open: HashMap<u64, Entity>,
    /// Each open incident's building and place in that building's stack.
    slots: HashMap<u64, ((u32, u32), usize)>,
    /// Places taken in each building's stack.
    taken: HashMap<(u32, u32), std::collections::BTreeSet<usize>>,
}

impl IncidentEntities {
    /// The lowest free place above `building`, now taken by `id`.
    fn take(&mut self, id: u64, building: (u32, u32)) -> usize {
        let taken = self.taken.entry(building).or_default();
        let slot = (0..).find(|s| !taken.contains(s)).unwrap_or(0);
        taken.insert(slot);
        self.slots.insert(id, (building, slot));
        slot
    }

    /// Frees `id`'s place.
    fn free(&mut self, id: u64) {
        if let Some((building, slot)) = self.slots.remove(&id)
            && let Some(taken) = self.taken.get_mut(&building)
        {
            taken.remove(&slot);
        }
    }
}

impl Plugin for IncidentsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<IncidentEntities>().add_systems(
            Update,
            (
                update_incidents.after(crate::playback::feed),
                fade,
                size_incidents.after(update_incidents),
            ),
        );
    }
}

// A bevy system: its parameters are what it reads and writes.
#[allow(clippy::too_many_arguments)]
fn update_incidents(
    mut changes: MessageReader<SceneChange>,
    view: Res<crate::playback::View>,
    model: Res<Model>,
    roots: Res<CommunityRoots>,
    p: Res<Palette>,
    mut entities: ResMut<IncidentEntities>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut markers: Query<(&mut MeshMaterial3d<StandardMaterial>, &mut IncidentMarker)>,
    mut commands: Commands,
) {
    for SceneChange(change) in changes.read() {
        match change {
            Change::Device { .. } => {}
            Change::Opened { id } => {
                let Some(open) = view.0.incident(*id) else {
                    // Opened and closed within one frame: nothing to show.
                    continue;
                };
                let Some(c) = model.layout.community(open.community) else {
                    continue;
                };
                let slot = entities.take(*id, (open.community, open.building));
                let roof = c.roof(open.building);
                let at = crate::layout::stacked(roof, slot, INCIDENT_M);
                let e = commands
                    .spawn((
                        Mesh3d(p.ball.clone()),
                        MeshMaterial3d(p.incidents[&open.holder].clone()),
                        Transform::from_translation(at).with_scale(Vec3::splat(INCIDENT_M)),
                        IncidentMarker {
                            id: *id,
                            holder: open.holder,
                        },
                        Stacked { roof, slot },
                        InCommunity(open.community),
                        ChildOf(roots.0[&open.community]),
                    ))
                    .id();
                entities.open.insert(*id, e);
            }
            Change::Moved { id, to } => {
                if let Some(e) = entities.open.get(id)
                    && let Ok((mut m, mut marker)) = markers.get_mut(*e)
                {
                    m.0 = p.incidents[to].clone();
                    marker.holder = *to;
                }
            }
            Change::Closed { id } => {
                entities.free(*id);
                let Some(e) = entities.open.remove(id) else {
                    continue;
                };
                if let Ok((mut m, _)) = markers.get_mut(e) {
                    // Its own material from now on, so that its alpha can fall alone.
                    let mut own = materials.get(&m.0).cloned().unwrap_or_default();
                    own.alpha_mode = AlphaMode::Blend;
                    m.0 = materials.add(own);
                    commands.entity(e).insert(Fading { left: FADE_SECS });
                }
            }
        }
    }
}

fn fade(
    time: Res<Time>,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut fading: Query<(Entity, &mut Fading, &MeshMaterial3d<StandardMaterial>)>,
    mut commands: Commands,
) {
    for (e, mut f, m) in &mut fading {
        f.left -= time.delta_secs();
        if f.left <= 0.0 {
            materials.remove(&m.0);
            commands.entity(e).despawn();
        } else if let Some(mut mat) = materials.get_mut(&m.0) {
            mat.base_color.set_alpha(f.left / FADE_SECS);
        }
    }
}

/// Keeps incident markers visible from afar: never smaller than [`INCIDENT_M`], and at
/// least a fixed share of the camera's distance (about 1% of the picture's height), so a
/// district at a glance still shows where incidents are.
fn size_incidents(
    cameras: Query<&crate::camera::Orbit>,
    mut markers: Query<(&Stacked, &mut Transform), With<IncidentMarker>>,
) {
    let Ok(orbit) = cameras.single() else {
        return;
    };
    let size = INCIDENT_M.max(orbit.distance * 0.012);
    for (stacked, mut t) in &mut markers {
        let at = crate::layout::stacked(stacked.roof, stacked.slot, size);
        if t.translation != at || t.scale.x != size {
            t.translation = at;
            t.scale = Vec3::splat(size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::camera::primitives::MeshAabb;

    #[test]
    fn a_buildings_floor_bands_are_one_mesh_with_a_band_at_each_floor() {
        let mesh = floor_bands(20.0, 10.0, 6);
        let one = Mesh::from(Cuboid::new(1.0, 1.0, 1.0)).count_vertices();
        assert_eq!(mesh.count_vertices(), 5 * one);
        let aabb = mesh.compute_aabb().expect("positions");
        let (lo, hi) = (Vec3::from(aabb.min()), Vec3::from(aabb.max()));
        assert!((lo.y - (FLOOR_HEIGHT_M - 0.15)).abs() < 1e-4, "{lo}");
        assert!((hi.y - (5.0 * FLOOR_HEIGHT_M + 0.15)).abs() < 1e-4, "{hi}");
        assert!(
            (hi.x - 10.15).abs() < 1e-4 && (hi.z - 5.15).abs() < 1e-4,
            "{hi}"
        );
    }
}
