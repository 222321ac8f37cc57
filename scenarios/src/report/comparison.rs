//! The comparison's charts: each KPI's trajectory per model with interval bands, cost per
//! resident by party, and the evaluation index's pillars.

use super::ReportError;
use super::chart::{
    Bars, DrawResult, FAMILY, Swatch, bars, layout, legend, padded, register_font, render_both,
    segments, tick, tick_decimals,
};
use super::document::plural;
use crate::compare::{Comparison, ModelResult};
use crate::metrics::{KPIS, KpiDef, kpi_index};
use crate::stats::Stat;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// KPIs drawn as trajectories, in this order.
pub const TRAJECTORY_KPIS: &[&str] = &[
    "gov_net",
    "operator_profit",
    "enterprise_profit",
    "resident_spending",
    "coverage_non_marketable",
    "coverage_marketable",
    "utilization",
    "services_used",
    "served_share_elderly",
    "price_index",
    "hhi",
    "detection_p50",
    "resolution_p50",
    "satisfaction",
    "satisfaction_elderly",
    "adoption_elderly",
    "index",
];

/// The evaluation index's pillars and the index itself, with their names in charts.
const PILLARS: &[(&str, &str)] = &[
    ("index_infrastructure", "infrastructure"),
    ("index_governance", "governance"),
    ("index_services", "services"),
    ("index_safeguards", "safeguards"),
    ("index", "index (overall)"),
];

/// One chart, drawn the same way on both backends.
#[derive(Debug, Clone, Copy)]
enum Chart {
    /// A KPI's yearly values per model (index into [`KPIS`]).
    Trajectory(usize),
    /// Cost per resident per year by party, per model.
    Cost,
    /// The evaluation index's pillars per model.
    Pillars,
}

impl Chart {
    fn stem(self) -> String {
        match self {
            Chart::Trajectory(k) => format!("trajectory-{}", KPIS[k].name),
            Chart::Cost => "cost-per-resident".into(),
            Chart::Pillars => "index-pillars".into(),
        }
    }
}

/// Writes every chart into `dir` (created if missing) as `<name>.png` and `<name>.svg`
/// and returns their paths, PNG before SVG for each chart:
///
/// - `trajectory-<kpi>`: each KPI of [`TRAJECTORY_KPIS`] that has data, per year and
///   model, the mean as a line and the 95% interval of the mean as a band;
/// - `cost-per-resident`: final values divided by years, by party, per model;
/// - `index-pillars`: the evaluation index's four pillars and the index, per model, with
///   95% intervals as error bars.
pub fn write_charts(c: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    register_font()?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut charts: Vec<Chart> = TRAJECTORY_KPIS
        .iter()
        .filter_map(|name| kpi_index(name))
        .filter(|&k| has_data(c, k))
        .map(Chart::Trajectory)
        .collect();
    charts.push(Chart::Cost);
    charts.push(Chart::Pillars);
    let mut paths = Vec::with_capacity(charts.len() * 2);
    for chart in charts {
        paths.extend(render(c, chart, dir)?);
    }
    Ok(paths)
}

/// Whether any model has any finite value of KPI `k`.
fn has_data(c: &Comparison, k: usize) -> bool {
    c.models.iter().any(|m| {
        m.series[k]
            .iter()
            .chain(std::iter::once(&m.finals[k]))
            .any(|s| s.mean.is_finite())
    })
}

/// Draws one chart as PNG and SVG.
fn render(c: &Comparison, chart: Chart, dir: &Path) -> Result<[PathBuf; 2], ReportError> {
    render_both(
        dir,
        &chart.stem(),
        |r| draw(c, chart, r).map_err(|e| e.to_string()),
        |r| draw(c, chart, r).map_err(|e| e.to_string()),
    )
}

fn draw<DB: DrawingBackend>(
    c: &Comparison,
    chart: Chart,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Trajectory(k) => trajectory(c, k, root)?,
        Chart::Cost => bars(&cost_bars(c), root)?,
        Chart::Pillars => bars(&pillar_bars(c), root)?,
    }
    root.present()
}

/// A model's colour, the same in every chart.
fn model_color(m: &ModelResult) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(214, 39, 40),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    PALETTE[m.model.index() % PALETTE.len()]
}

/// A model's marker on its line: circle, triangle, square, cross, then again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

impl Marker {
    fn of(i: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Triangle,
            Marker::Square,
            Marker::Cross,
        ][i % 4]
    }
}

/// The y axis description of a KPI's yearly values.
fn yearly_unit(def: &KpiDef) -> String {
    if def.flow {
        format!("{} per year", def.unit)
    } else {
        def.unit.to_string()
    }
}

fn trajectory<DB: DrawingBackend>(
    c: &Comparison,
    k: usize,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let def = &KPIS[k];
    let years = c.years.max(1) as f64;
    let (x0, x1) = if years <= 1.0 {
        (0.5, 1.5)
    } else {
        (1.0, years)
    };
    let (y0, y1) = padded(
        c.models
            .iter()
            .flat_map(|m| m.series[k].iter())
            .flat_map(|s| [s.mean, s.lo, s.hi]),
    );
    let (main, side) = layout(root, &format!("{}: {}", def.name, def.label))?;
    let mut chart = ChartBuilder::on(&main)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let year_label = |x: &f64| {
        if (x - x.round()).abs() < 1e-9 {
            format!("{}", x.round() as i64)
        } else {
            String::new()
        }
    };
    let d = tick_decimals(y0, y1);
    let value_label = |y: &f64| tick(*y, d);
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(yearly_unit(def))
        .x_labels((c.years as usize).clamp(2, 12))
        .x_label_formatter(&year_label)
        .y_label_formatter(&value_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.03))
        .draw()?;
    // Bands first, so every line stays visible.
    for m in &c.models {
        let color = model_color(m);
        for seg in segments(&m.series[k], |s| s.lo.is_finite() && s.hi.is_finite()) {
            if seg.len() == 1 {
                let (x, s) = seg[0];
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, s.lo), (x, s.hi)],
                    color.mix(0.5).stroke_width(6),
                )))?;
            } else {
                let mut pts: Vec<(f64, f64)> = seg.iter().map(|(x, s)| (*x, s.hi)).collect();
                pts.extend(seg.iter().rev().map(|(x, s)| (*x, s.lo)));
                chart.draw_series(std::iter::once(Polygon::new(pts, color.mix(0.18))))?;
            }
        }
    }
    // Identical series stay visible: each model's line is narrower than the one drawn
    // before it (a wide line under a thin one shows both), and each has its own marker.
    let n = c.models.len();
    for (i, m) in c.models.iter().enumerate() {
        let color = model_color(m);
        let width = 2 + 2 * (n - 1 - i) as u32;
        let segs = segments(&m.series[k], |s| s.mean.is_finite());
        for seg in &segs {
            let pts: Vec<(f64, f64)> = seg.iter().map(|(x, s)| (*x, s.mean)).collect();
            chart.draw_series(std::iter::once(PathElement::new(
                pts,
                color.stroke_width(width),
            )))?;
        }
        let pts: Vec<(f64, f64)> = segs.iter().flatten().map(|(x, s)| (*x, s.mean)).collect();
        let fill = color.filled();
        match Marker::of(i) {
            Marker::Circle => chart.draw_series(pts.iter().map(|p| Circle::new(*p, 4, fill)))?,
            Marker::Triangle => {
                chart.draw_series(pts.iter().map(|p| TriangleMarker::new(*p, 5, fill)))?
            }
            Marker::Square => chart.draw_series(
                pts.iter()
                    .map(|p| EmptyElement::at(*p) + Rectangle::new([(-4, -4), (4, 4)], fill)),
            )?,
            Marker::Cross => {
                chart.draw_series(pts.iter().map(|p| Cross::new(*p, 4, color.stroke_width(2))))?
            }
        };
    }
    let items: Vec<(String, RGBColor, Swatch)> = c
        .models
        .iter()
        .map(|m| (m.model.to_string(), model_color(m), Swatch::Line))
        .collect();
    let better = if def.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    let notes = [
        format!("line: mean over {}", plural(c.seeds.len(), "seed")),
        if c.seeds.len() > 1 {
            "band: 95% interval of the mean".to_string()
        } else {
            "(one seed: no interval)".to_string()
        },
        format!("unit: {}", yearly_unit(def)),
        better.to_string(),
    ];
    legend(&side, &items, &notes)
}

/// Cost per resident per year by party (final value / years; negated profits).
fn cost_bars(c: &Comparison) -> Bars {
    let years = c.years.max(1) as f64;
    let per_year = |name: &str, sign: f64, m: &ModelResult| -> Stat {
        let Some(k) = kpi_index(name) else {
            return Stat {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
            };
        };
        let s = m.finals[k];
        let (a, b) = (sign * s.lo / years, sign * s.hi / years);
        Stat {
            mean: sign * s.mean / years,
            lo: a.min(b),
            hi: a.max(b),
        }
    };
    let parties: [(&str, &str, f64, RGBColor); 4] = [
        (
            "government: net spending",
            "gov_net",
            1.0,
            RGBColor(76, 114, 176),
        ),
        (
            "residents: spending",
            "resident_spending",
            1.0,
            RGBColor(221, 132, 82),
        ),
        (
            "operator: −profit",
            "operator_profit",
            -1.0,
            RGBColor(85, 168, 104),
        ),
        (
            "enterprises: −profit",
            "enterprise_profit",
            -1.0,
            RGBColor(196, 78, 82),
        ),
    ];
    Bars {
        caption: format!("Cost per resident per year, by party ({} years)", c.years),
        y_desc: "yuan per resident per year".into(),
        groups: c
            .models
            .iter()
            .map(|m| m.model.as_str().to_string())
            .collect(),
        series: parties
            .iter()
            .map(|&(label, kpi, sign, color)| {
                (
                    label.to_string(),
                    color,
                    c.models.iter().map(|m| per_year(kpi, sign, m)).collect(),
                )
            })
            .collect(),
        notes: vec![
            "bar: the party's cost, yuan per".into(),
            "resident per year (total / years)".into(),
            "operator, enterprises: cost is".into(),
            "minus profit, so a loss shows".into(),
            "above 0 and a profit below 0".into(),
            "below 0: the party gains".into(),
            format!("whiskers: 95% interval, {}", plural(c.seeds.len(), "seed")),
        ],
    }
}

/// The evaluation index's pillars, grouped by pillar, one bar per model.
fn pillar_bars(c: &Comparison) -> Bars {
    let ks: Vec<Option<usize>> = PILLARS.iter().map(|(name, _)| kpi_index(name)).collect();
    Bars {
        caption: "Evaluation index and its pillars, by model".into(),
        y_desc: "score (0–1), mean over years".into(),
        groups: PILLARS.iter().map(|(_, label)| label.to_string()).collect(),
        series: c
            .models
            .iter()
            .map(|m| {
                let vals = ks
                    .iter()
                    .map(|k| {
                        k.map_or(
                            Stat {
                                mean: f64::NAN,
                                lo: f64::NAN,
                                hi: f64::NAN,
                            },
                            |k| m.finals[k],
                        )
                    })
                    .collect();
                (m.model.as_str().to_string(), model_color(m), vals)
            })
            .collect(),
        notes: vec![
            format!("bar: mean over {}", plural(c.seeds.len(), "seed")),
            "whiskers: 95% interval of the mean".into(),
            "higher is better".into(),
            "index: weighted sum of the".into(),
            "four pillars".into(),
        ],
    }
}
