//! Scenario files.
//!
//! A scenario names a community (or a district), the horizon and seed, and any parameter
//! it changes from the embedded defaults:
//!
//! ```toml
//! schema_version = 1
//! name = "my estate"
//! days = 365
//! [community]
//! name = "my estate"
//! residents = 4000
//! elderly_share = 0.22
//! age = "old"
//! region = "developed"
//! [community.devices]
//! smoke_detector = 1.0
//! [parameters.incidents.fire]
//! rate = 0.0005
//! ```
//!
//! Reading is strict: unknown fields are rejected, and every problem is reported as
//! `file:line: field: what was expected`.

use civitas_twin::calendar::{self, Calendar, CalendarError};
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::params::{FieldError, Parameters};
use civitas_twin::spec::{CommunitySpec, DistrictSpec};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// The longest horizon a scenario may ask for (200 years).
pub const MAX_DAYS: u32 = 73_000;

/// The scenario file format version this build reads and writes.
pub const SCENARIO_SCHEMA_VERSION: u32 = 1;

/// A problem with a scenario file. Always recoverable: fix the file and run again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file (or preset name).
    pub file: String,
    /// 1-based line, when it could be located.
    pub line: Option<usize>,
    /// Dotted path of the field, when known.
    pub field: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ": ")?;
        if let Some(p) = &self.field {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A list of problems found in one file (validation reports them all at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}
impl std::error::Error for ScenarioError {}

/// The longest scenario `name` accepted, in characters: the name becomes an output
/// directory's name (`out/<name>`, `out/compare-<name>`), and a file name may hold at most
/// 255 bytes (4 bytes per character at worst, with room for the prefixes).
pub const MAX_NAME_CHARS: usize = 60;

/// What a scenario simulates.
#[derive(Debug, Clone, PartialEq)]
pub enum World {
    /// One community under one street office.
    Community(CommunitySpec),
    /// A district of communities under street offices.
    District(DistrictSpec),
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Default seed (the command line can override it).
    pub seed: u64,
    /// Default horizon in days.
    pub days: u32,
    /// Investment and operation model (default: hybrid, the Haishu model).
    pub model: InvestmentModel,
    /// Local start date-time and time zone (default `2026-01-01T00:00`, `Asia/Shanghai`):
    /// shifts, months and years follow it.
    pub calendar: Calendar,
    /// The community or district.
    pub world: World,
    /// All parameters: defaults with the scenario's overrides applied.
    pub parameters: Parameters,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    /// Only present before merging; a preset this scenario extends.
    #[serde(default, skip_serializing)]
    #[allow(dead_code)]
    extends: Option<String>,
    schema_version: u32,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "default_days")]
    days: u32,
    #[serde(default = "default_model")]
    model: InvestmentModel,
    #[serde(default = "default_start")]
    start: String,
    #[serde(default = "default_time_zone")]
    time_zone: String,
    community: Option<CommunitySpec>,
    district: Option<DistrictSpec>,
    #[serde(default)]
    parameters: toml::Table,
}

fn default_seed() -> u64 {
    1
}
fn default_days() -> u32 {
    365
}
fn default_model() -> InvestmentModel {
    InvestmentModel::Hybrid
}
fn default_start() -> String {
    calendar::DEFAULT_START.to_string()
}
fn default_time_zone() -> String {
    calendar::DEFAULT_TIME_ZONE.to_string()
}

impl Scenario {
    /// Reads and validates a scenario file: a regular file of at most
    /// [`SCENARIO_FILE`](crate::input::SCENARIO_FILE)'s 4 MiB.
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioErrors> {
        let name = path.display().to_string();
        let src = crate::input::read_text(path, crate::input::SCENARIO_FILE).map_err(|e| {
            ScenarioErrors(vec![ScenarioError {
                file: name.clone(),
                line: None,
                field: None,
                message: match e {
                    _ if !path.exists() => crate::library::neither_file_nor_preset(),
                    crate::input::InputError::Io { message, .. } => {
                        format!("cannot read the file: {message}")
                    }
                    e => e
                        .to_string()
                        .trim_start_matches(&format!("{name}: "))
                        .to_string(),
                },
            }])
        })?;
        Scenario::from_str(&src, &name)
    }

    /// Parses and validates scenario text; `file` names it in errors.
    pub fn from_str(src: &str, file: &str) -> Result<Scenario, ScenarioErrors> {
        let err = |line, field: Option<String>, message: String| ScenarioError {
            file: file.to_string(),
            line,
            field,
            message,
        };
        let syntax = |e: toml::de::Error| {
            let line = e.span().map(|s| line_of(src, s.start));
            // toml's message already names unknown fields and the expected ones.
            let field = e.span().and_then(|s| key_at(src, s.start));
            ScenarioErrors(vec![err(line, field, e.message().trim().to_string())])
        };
        let table: toml::Table = toml::from_str(src).map_err(syntax)?;
        let raw: RawScenario = match table.get("extends") {
            None => toml::from_str(src).map_err(syntax)?,
            Some(base) => {
                // A scenario may extend a preset: its keys override the preset's.
                let line = locate(src, "extends");
                let Some(name) = base.as_str() else {
                    return Err(ScenarioErrors(vec![err(
                        line,
                        Some("extends".into()),
                        "expected the name of a preset, as a string".into(),
                    )]));
                };
                let Some(p) = crate::library::preset(name) else {
                    let names: Vec<&str> = crate::library::PRESETS.iter().map(|p| p.name).collect();
                    return Err(ScenarioErrors(vec![err(
                        line,
                        Some("extends".into()),
                        format!(
                            "no preset named {name:?}; expected one of: {}",
                            names.join(", ")
                        ),
                    )]));
                };
                let mut merged = preset_table(p.text, 0);
                let mut own = table.clone();
                own.remove("extends");
                merge(&mut merged, &own);
                serde_path_to_error::deserialize::<_, RawScenario>(toml::Value::Table(merged))
                    .map_err(|e| {
                        let path = e.path().to_string();
                        let message = e.into_inner().message().trim().to_string();
                        // An enum map key (a device kind) is `?` in the path: the bad
                        // key is this file's own, not the preset's.
                        let path = name_map_keys(&path, &message, &own);
                        ScenarioErrors(vec![err(locate(src, &path), Some(path), message)])
                    })?
            }
        };
        let mut errors = Vec::new();
        if raw.schema_version != SCENARIO_SCHEMA_VERSION {
            errors.push(err(
                locate(src, "schema_version"),
                Some("schema_version".into()),
                format!(
                    "this build reads schema_version {SCENARIO_SCHEMA_VERSION}, found {}",
                    raw.schema_version
                ),
            ));
        }
        let name_chars = raw.name.chars().count();
        if name_chars > MAX_NAME_CHARS {
            errors.push(err(
                locate(src, "name"),
                Some("name".into()),
                format!(
                    "expected a name of at most {MAX_NAME_CHARS} characters (it names the output directory), found {name_chars}"
                ),
            ));
        }
        if raw.days == 0 || raw.days > MAX_DAYS {
            errors.push(err(
                locate(src, "days"),
                Some("days".into()),
                format!(
                    "expected a whole number of days from 1 to {MAX_DAYS}, found {}",
                    raw.days
                ),
            ));
        }
        let calendar = match Calendar::new(&raw.start, &raw.time_zone) {
            Ok(c) => Some(c),
            Err(e) => {
                let field = match e {
                    CalendarError::TimeZone { .. } => "time_zone",
                    _ => "start",
                };
                errors.push(err(locate(src, field), Some(field.into()), e.to_string()));
                None
            }
        };
        let world = match (raw.community, raw.district) {
            (Some(c), None) => {
                push_field_errors(&mut errors, src, file, "community", c.validate());
                Some(World::Community(c))
            }
            (None, Some(d)) => {
                push_field_errors(&mut errors, src, file, "district", d.validate());
                Some(World::District(d))
            }
            (Some(_), Some(_)) => {
                errors.push(err(
                    locate(src, "district"),
                    Some("district".into()),
                    "expected either [community] or [district], not both".into(),
                ));
                None
            }
            (None, None) => {
                errors.push(err(
                    None,
                    None,
                    "expected a [community] or a [district] table describing what to simulate"
                        .into(),
                ));
                None
            }
        };
        let parameters = match merged_parameters(&raw.parameters) {
            Ok(p) => {
                push_field_errors(&mut errors, src, file, "parameters", p.validate());
                Some(p)
            }
            Err(fe) => {
                push_field_errors(&mut errors, src, file, "parameters", vec![fe]);
                None
            }
        };
        match (world, parameters, calendar) {
            (Some(world), Some(parameters), Some(calendar)) if errors.is_empty() => Ok(Scenario {
                name: raw.name,
                description: raw.description,
                seed: raw.seed,
                days: raw.days,
                model: raw.model,
                calendar,
                world,
                parameters,
            }),
            _ => Err(ScenarioErrors(errors)),
        }
    }

    /// The scenario as one self-contained file (no `extends`, every parameter written
    /// out): reading it back gives the same scenario. Checkpoints carry it.
    pub fn to_toml(&self) -> String {
        let (community, district) = match &self.world {
            World::Community(c) => (Some(c.clone()), None),
            World::District(d) => (None, Some(d.clone())),
        };
        let raw = RawScenario {
            extends: None,
            schema_version: SCENARIO_SCHEMA_VERSION,
            name: self.name.clone(),
            description: self.description.clone(),
            seed: self.seed,
            days: self.days,
            model: self.model,
            start: self.calendar.start_text(),
            time_zone: self.calendar.time_zone().to_string(),
            community,
            district,
            parameters: toml::Table::try_from(&self.parameters)
                .expect("parameters serialize to a TOML table"),
        };
        toml::to_string(&raw).expect("a scenario serializes to TOML")
    }

    /// This scenario with numbers set at dotted paths (`parameters.staffing.street_day`,
    /// `district.residents`…), validated again as a whole.
    pub fn with_overrides(&self, sets: &[(String, f64)]) -> Result<Scenario, ScenarioErrors> {
        let mut table: toml::Table =
            toml::from_str(&self.to_toml()).expect("a written scenario reads back");
        for (path, value) in sets {
            crate::batch::file::set_path(&mut table, path, *value).map_err(|m| {
                ScenarioErrors(vec![ScenarioError {
                    file: "--set".into(),
                    line: None,
                    field: Some(path.clone()),
                    message: m,
                }])
            })?;
        }
        let text = toml::to_string(&table).expect("a TOML table serializes");
        // Errors name the flag and the value the user wrote, never a line of the merged
        // text (which nobody sees).
        Scenario::from_str(&text, "--set").map_err(|ScenarioErrors(errors)| {
            ScenarioErrors(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.line = None;
                        let set = sets.iter().find(|(p, _)| e.field.as_deref() == Some(p));
                        if let Some((p, v)) = set {
                            e.file = format!("--set {p}={v}");
                            e.field = None;
                        }
                        e
                    })
                    .collect(),
            )
        })
    }

    /// Residents simulated.
    pub fn residents(&self) -> u64 {
        match &self.world {
            World::Community(c) => c.residents as u64,
            World::District(d) => d.residents as u64,
        }
    }
}

fn push_field_errors(
    out: &mut Vec<ScenarioError>,
    src: &str,
    file: &str,
    prefix: &str,
    errs: Vec<FieldError>,
) {
    for e in errs {
        let path = if e.path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", e.path)
        };
        out.push(ScenarioError {
            file: file.to_string(),
            line: locate(src, &path),
            field: Some(path),
            message: e.message,
        });
    }
}

/// A preset's table with whatever it extends merged underneath (presets are tested to
/// parse; chains are at most a few presets long).
fn preset_table(text: &str, depth: u32) -> toml::Table {
    let mut t: toml::Table = toml::from_str(text).expect("presets parse (tested)");
    let base = t.remove("extends");
    match base
        .as_ref()
        .and_then(|b| b.as_str())
        .and_then(crate::library::preset)
    {
        Some(p) if depth < 8 => {
            let mut merged = preset_table(p.text, depth + 1);
            merge(&mut merged, &t);
            merged
        }
        _ => t,
    }
}

/// The default parameters with `overrides` merged in, key by key.
fn merged_parameters(overrides: &toml::Table) -> Result<Parameters, FieldError> {
    // The embedded defaults are parsed once per process (batches build thousands of
    // scenarios).
    static DEFAULTS: std::sync::OnceLock<toml::Table> = std::sync::OnceLock::new();
    let mut base = DEFAULTS
        .get_or_init(|| {
            toml::from_str(civitas_twin::params::DEFAULT_PARAMETERS_TOML)
                .expect("embedded defaults parse")
        })
        .clone();
    merge(&mut base, overrides);
    let de = toml::Value::Table(base);
    serde_path_to_error::deserialize::<_, Parameters>(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().message().trim().to_string();
        FieldError {
            path: name_map_keys(&path, &message, overrides),
            message,
        }
    })
}

/// serde_path_to_error writes `?` for map keys that are enums (incident and device
/// kinds, severities). The defaults (and presets) are valid, so the offending key is in
/// the scenario's own `overrides`: find the one that holds the rest of the path (or that
/// the message names).
fn name_map_keys(path: &str, message: &str, overrides: &toml::Table) -> String {
    let Some((prefix, rest)) = path.split_once(".?") else {
        return path.to_string();
    };
    let rest = rest.trim_start_matches('.');
    let mut table = Some(overrides);
    for part in prefix.split('.') {
        table = table.and_then(|t| t.get(part)).and_then(|v| v.as_table());
    }
    let Some(table) = table else {
        return path.to_string();
    };
    let holds = |v: &toml::Value| {
        let mut cur = Some(v);
        for part in rest.split('.').filter(|p| !p.is_empty()) {
            cur = cur.and_then(|c| c.as_table()).and_then(|t| t.get(part));
        }
        cur.is_some()
    };
    let found = table.iter().find(|(k, v)| {
        if rest.is_empty() {
            message.contains(&format!("`{k}`"))
        } else {
            holds(v)
        }
    });
    match found {
        Some((k, _)) if rest.is_empty() => format!("{prefix}.{k}"),
        Some((k, _)) => format!("{prefix}.{k}.{rest}"),
        None => path.to_string(),
    }
}

fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// 1-based line of byte offset `at`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key of the line holding byte offset `at`, if it is a `key = value` line.
fn key_at(src: &str, at: usize) -> Option<String> {
    let target = line_of(src, at);
    let mut table = String::new();
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = header(t) {
            table = h;
        }
        if i + 1 == target {
            if let Some(h) = header(t) {
                return Some(h);
            }
            let key = t.split('=').next()?.trim();
            if key.is_empty() || key.starts_with('#') || !t.contains('=') {
                return None;
            }
            let key = key.trim_matches('"');
            return Some(if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            });
        }
    }
    None
}

fn header(t: &str) -> Option<String> {
    let t = t.split('#').next()?.trim();
    let inner = t
        .strip_prefix("[[")
        .and_then(|s| s.strip_suffix("]]"))
        .or_else(|| t.strip_prefix('[')?.strip_suffix(']'))?;
    Some(
        inner
            .split('.')
            .map(|p| p.trim().trim_matches('"'))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The line where the field at dotted `path` is written, or the closest enclosing table.
pub fn locate(src: &str, path: &str) -> Option<usize> {
    let mut table = String::new();
    let mut best: Option<(usize, usize)> = None; // (matched length, line)
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let full = if let Some(h) = header(t) {
            table = h.clone();
            h
        } else if let Some((k, _)) = t.split_once('=') {
            let k = k
                .trim()
                .split('.')
                .map(|p| p.trim().trim_matches('"'))
                .collect::<Vec<_>>()
                .join(".");
            if table.is_empty() {
                k
            } else {
                format!("{table}.{k}")
            }
        } else {
            continue;
        };
        if full == path {
            return Some(i + 1);
        }
        if path.starts_with(&format!("{full}.")) && best.is_none_or(|(l, _)| full.len() > l) {
            best = Some((full.len(), i + 1));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_keys_tables_and_dotted_keys() {
        let src =
            "name = 'x'\n[community]\nresidents = 3\n[parameters.incidents.fire]\nrate = -1\n";
        assert_eq!(locate(src, "name"), Some(1));
        assert_eq!(locate(src, "community.residents"), Some(3));
        assert_eq!(locate(src, "parameters.incidents.fire.rate"), Some(5));
        assert_eq!(locate(src, "parameters.incidents.fire.severity"), Some(4));
        assert_eq!(locate(src, "parameters.engine.window_secs"), None);
    }
}
