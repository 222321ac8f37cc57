//! The preset library (`scenarios/library/*.toml`), embedded so a fresh binary can run
//! and print them without the source tree.

use crate::file::{Scenario, ScenarioErrors};
use std::path::Path;

/// A preset: its name (file stem) and text.
pub struct Preset {
    /// Name used on the command line, e.g. `default`.
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// Every preset, default first.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "default",
        summary: "a Haishu-like community of about 4,000 residents in an older estate",
        text: include_str!("../library/default.toml"),
    },
    Preset {
        name: "old-small",
        summary: "a small old estate: 1,200 residents, a third of them 60+, few sensors",
        text: include_str!("../library/old-small.toml"),
    },
    Preset {
        name: "new-large",
        summary: "a large new estate: 12,000 residents in high-rises, sensors throughout",
        text: include_str!("../library/new-large.toml"),
    },
    Preset {
        name: "default-gov",
        summary: "the default community, government-led",
        text: include_str!("../library/default-gov.toml"),
    },
    Preset {
        name: "default-market",
        summary: "the default community, market-led",
        text: include_str!("../library/default-market.toml"),
    },
    Preset {
        name: "default-hybrid",
        summary: "the default community, hybrid (the Haishu model)",
        text: include_str!("../library/default-hybrid.toml"),
    },
    Preset {
        name: "default-ppp",
        summary: "the default community under a PPP concession",
        text: include_str!("../library/default-ppp.toml"),
    },
    Preset {
        name: "less-developed",
        summary: "the default community in a less-developed region",
        text: include_str!("../library/less-developed.toml"),
    },
    Preset {
        name: "tight-budget",
        summary: "the default community, government-led, on a tight budget",
        text: include_str!("../library/tight-budget.toml"),
    },
    Preset {
        name: "small-shared",
        summary: "the small old estate on a shared cloud platform",
        text: include_str!("../library/small-shared.toml"),
    },
    Preset {
        name: "haishu-district",
        summary: "a Haishu-like district: 8 street offices, 75 communities, 300,000 residents",
        text: include_str!("../library/haishu-district.toml"),
    },
    Preset {
        name: "city-3m",
        summary: "a city: 80 street offices, 750 communities, 3,000,000 residents",
        text: include_str!("../library/city-3m.toml"),
    },
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The presets' names, comma-separated, in library order.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to say when a scenario argument is neither an existing file nor a preset.
pub fn neither_file_nor_preset() -> String {
    format!(
        "neither a scenario file nor a preset; the presets are: {}",
        names()
    )
}

/// Loads a scenario from a path, or from a preset when `arg` names one and is not a file.
/// A path need not be UTF-8; only a preset name must be.
pub fn load(arg: impl AsRef<Path>) -> Result<Scenario, ScenarioErrors> {
    let path = arg.as_ref();
    if !path.exists()
        && let Some(p) = path.to_str().and_then(preset)
    {
        return Scenario::from_str(p.text, &format!("preset {}", p.name));
    }
    Scenario::from_path(path)
}
