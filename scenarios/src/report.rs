//! Charts and a report of a planners' comparison ([`Comparison`]).
//!
//! - [`write_charts`]: KPI trajectories per year with 95% interval bands, cost per
//!   resident per year by party, and the evaluation index's pillars, each as PNG and SVG;
//! - [`write_report`]: `report.md` and a self-contained `report.html` (charts inlined)
//!   with the side-by-side table, who leads on what, the charts and the assumptions the
//!   ranking depends on.
//!
//! Chart text is drawn with DejaVu Sans embedded in the crate (`assets/DejaVuSans.ttf`,
//! licence in `assets/DejaVuSans-LICENSE.txt`), so charts look the same on every machine
//! and need no system fonts.

use crate::compare::{Comparison, ModelResult, num};
use crate::kpi::{KPIS, KpiDef, Stat, kpi_index};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The embedded font (DejaVu Sans 2.37).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// Where the embedded font comes from, for error messages.
const FONT_FILE: &str = "scenarios/assets/DejaVuSans.ttf";
/// The family name the font is registered under (also what SVG text asks for).
const FAMILY: &str = "sans-serif";
/// Pixel size of every chart.
const SIZE: (u32, u32) = (960, 560);

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

/// Why charts or the report could not be written; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A chart could not be read back to embed it in the report.
    #[error("cannot read chart {}: {source}", path.display())]
    Read {
        /// The chart file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Drawing or encoding a chart failed.
    #[error("cannot draw chart {}: {message}", path.display())]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// What the plotting library said.
        message: String,
    },
    /// The embedded font is not a font the text renderer can read.
    #[error("cannot load the embedded chart font {}", path.display())]
    Font {
        /// The font file (embedded at build time).
        path: PathBuf,
    },
}

/// Registers the embedded font with plotters, once per process.
fn register_font() -> Result<(), ReportError> {
    static OK: OnceLock<bool> = OnceLock::new();
    if *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        Ok(())
    } else {
        Err(ReportError::Font {
            path: PathBuf::from(FONT_FILE),
        })
    }
}

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

/// A drawing error of backend `DB`.
type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// The result of drawing on backend `DB`.
type DrawResult<DB> = Result<(), DrawError<DB>>;

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

/// Encodes an RGB buffer of [`SIZE`] as a PNG file, with the Sub filter rather than
/// adaptive filtering: charts are mostly runs of flat colour, so files stay nearly as
/// small (~50 kB), and encoding stays quick in unoptimized (test) builds, where adaptive
/// filtering costs ~0.3 s a chart.
fn write_png(path: &Path, rgb: &[u8]) -> Result<(), ReportError> {
    let mut bytes = Vec::with_capacity(rgb.len() / 8);
    let encoded = (|| {
        let mut e = png::Encoder::new(&mut bytes, SIZE.0, SIZE.1);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        e.set_compression(png::Compression::Balanced);
        e.set_filter(png::Filter::Sub);
        let mut w = e.write_header()?;
        w.write_image_data(rgb)?;
        w.finish()
    })();
    encoded.map_err(|e| ReportError::Chart {
        path: path.to_path_buf(),
        message: format!("PNG encoding failed: {e}"),
    })?;
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
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

/// A value range covering the finite `values`, padded; `(0, 1)` when there are none.
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.06
    } else if lo != 0.0 {
        lo.abs() * 0.1
    } else {
        1.0
    };
    (lo - pad, hi + pad)
}

/// Decimals for axis labels over `lo..hi` (about ten ticks).
fn tick_decimals(lo: f64, hi: f64) -> usize {
    let step = (hi - lo).abs() / 10.0;
    if !(step.is_finite() && step > 0.0) {
        return 2;
    }
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// An axis label with `d` decimals, never `-0`.
fn tick(y: f64, d: usize) -> String {
    let scale = 10f64.powi(d as i32);
    let y = if (y * scale).round() == 0.0 { 0.0 } else { y };
    format!("{y:.d$}")
}

/// The y axis description of a KPI's yearly values.
fn yearly_unit(def: &KpiDef) -> String {
    if def.flow {
        format!("{} per year", def.unit)
    } else {
        def.unit.to_string()
    }
}

/// Runs of consecutive years where `ok` holds, as `(year, stat)` with years from 1.
fn segments(series: &[Stat], ok: impl Fn(&Stat) -> bool) -> Vec<Vec<(f64, Stat)>> {
    let mut out: Vec<Vec<(f64, Stat)>> = Vec::new();
    let mut cur = Vec::new();
    for (y, s) in series.iter().enumerate() {
        if ok(s) {
            cur.push(((y + 1) as f64, *s));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Width of the legend column right of the plot.
const LEGEND_WIDTH: u32 = 220;

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A line (a series over years).
    Line,
    /// A filled box (bars).
    Box,
}

/// A drawing area in pixels.
type Area<DB> = DrawingArea<DB, Shift>;

/// The chart's title on top, then the plot area and the legend column right of it.
fn layout<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
) -> Result<(Area<DB>, Area<DB>), DrawError<DB>> {
    let body = root.margin(6, 0, 0, 0).titled(title, (FAMILY, 20))?;
    let width = body.dim_in_pixel().0;
    Ok(body.split_horizontally(width.saturating_sub(LEGEND_WIDTH)))
}

/// Draws the legend: one entry per series, then notes in grey, one line each.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor, Swatch)],
    notes: &[String],
) -> DrawResult<DB> {
    let label = TextStyle::from((FAMILY, 14)).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = 28;
    for (name, color, swatch) in items {
        match swatch {
            Swatch::Line => {
                area.draw(&PathElement::new(
                    vec![(6, y), (30, y)],
                    color.stroke_width(3),
                ))?;
            }
            Swatch::Box => {
                area.draw(&Rectangle::new([(10, y - 7), (26, y + 7)], color.filled()))?;
            }
        }
        area.draw(&Text::new(name.as_str(), (38, y), label.clone()))?;
        y += 24;
    }
    y += 10;
    let note = TextStyle::from((FAMILY, 12))
        .color(&RGBColor(90, 90, 90))
        .pos(Pos::new(HPos::Left, VPos::Center));
    for line in notes {
        area.draw(&Text::new(line.as_str(), (6, y), note.clone()))?;
        y += 17;
    }
    Ok(())
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
    for m in &c.models {
        let color = model_color(m);
        let segs = segments(&m.series[k], |s| s.mean.is_finite());
        for seg in &segs {
            let pts: Vec<(f64, f64)> = seg.iter().map(|(x, s)| (*x, s.mean)).collect();
            chart.draw_series(std::iter::once(PathElement::new(
                pts,
                color.stroke_width(2),
            )))?;
        }
        chart.draw_series(
            segs.iter()
                .flatten()
                .map(|(x, s)| Circle::new((*x, s.mean), 3, color.filled())),
        )?;
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

/// A grouped bar chart: one group per x label, one bar per series in each group.
struct Bars {
    caption: String,
    y_desc: String,
    groups: Vec<String>,
    /// Name, colour and one value per group (NaN: no bar).
    series: Vec<(String, RGBColor, Vec<Stat>)>,
    /// Lines under the legend.
    notes: Vec<String>,
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

fn bars<DB: DrawingBackend>(b: &Bars, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let n = b.groups.len().max(1);
    let width = 0.8 / b.series.len().max(1) as f64;
    let values = b
        .series
        .iter()
        .flat_map(|(_, _, v)| v.iter())
        .flat_map(|s| [s.mean, s.lo, s.hi]);
    let (y0, y1) = padded(values.chain([0.0]));
    let (main, side) = layout(root, &b.caption)?;
    let mut chart = ChartBuilder::on(&main)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y0..y1)?;
    let group_label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-9 && i >= 0.0 {
            b.groups.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let d = tick_decimals(y0, y1);
    let value_label = |y: &f64| tick(*y, d);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&group_label)
        .y_label_formatter(&value_label)
        .y_desc(b.y_desc.as_str())
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.03))
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
        BLACK.stroke_width(1),
    )))?;
    for (j, (_, color, stats)) in b.series.iter().enumerate() {
        let color = *color;
        let left = |i: usize| i as f64 - 0.4 + width * j as f64;
        let rects = stats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.mean.is_finite())
            .map(|(i, s)| {
                Rectangle::new(
                    [
                        (left(i) + width * 0.08, 0.0),
                        (left(i) + width * 0.92, s.mean),
                    ],
                    color.filled(),
                )
            });
        chart.draw_series(rects)?;
        let whiskers = stats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.lo.is_finite() && s.hi.is_finite() && s.hi > s.lo)
            .flat_map(|(i, s)| {
                let (xc, cap) = (left(i) + width / 2.0, width * 0.2);
                [
                    vec![(xc, s.lo), (xc, s.hi)],
                    vec![(xc - cap, s.lo), (xc + cap, s.lo)],
                    vec![(xc - cap, s.hi), (xc + cap, s.hi)],
                ]
            })
            .map(|pts| PathElement::new(pts, BLACK.stroke_width(1)));
        chart.draw_series(whiskers)?;
    }
    let items: Vec<(String, RGBColor, Swatch)> = b
        .series
        .iter()
        .map(|(name, color, _)| (name.clone(), *color, Swatch::Box))
        .collect();
    legend(&side, &items, &b.notes)
}

/// How the leader compares with the runner-up on one KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// No model has a value.
    NoData,
    /// No runner-up: only the leaders have values, or every model ties.
    NoRunnerUp,
    /// The 95% intervals overlap.
    Overlap,
    /// The 95% intervals do not overlap.
    Distinct,
    /// One seed: there are no intervals.
    Untested,
}

/// Who leads on one KPI.
struct Lead<'a> {
    /// The models with the best value (more than one when they tie).
    leaders: Vec<(&'a ModelResult, Stat)>,
    /// The best of the rest.
    runner_up: Option<(&'a ModelResult, Stat)>,
    /// Leader against runner-up.
    verdict: Verdict,
    /// Models compared.
    models: usize,
}

impl Lead<'_> {
    fn verdict_text(&self) -> String {
        let v = match self.verdict {
            Verdict::NoData => "no data",
            Verdict::NoRunnerUp if self.leaders.len() > 1 => "no difference between models",
            Verdict::NoRunnerUp if self.models == 1 => "one model compared",
            Verdict::NoRunnerUp => "only model with data",
            Verdict::Overlap => "not distinguishable (95% intervals overlap)",
            Verdict::Distinct => "distinguishable (95% intervals do not overlap)",
            Verdict::Untested => "untested (one seed, no intervals)",
        };
        if self.leaders.len() > 1 && self.runner_up.is_some() {
            format!("tie for the lead; against the runner-up: {v}")
        } else {
            v.to_string()
        }
    }
}

/// Same value, up to rounding.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn lead(c: &Comparison, k: usize) -> Lead<'_> {
    let def = &KPIS[k];
    let mut ranked: Vec<(&ModelResult, Stat)> = c
        .models
        .iter()
        .map(|m| (m, m.finals[k]))
        .filter(|(_, s)| s.mean.is_finite())
        .collect();
    // Stable sort: ties keep the models' order.
    ranked.sort_by(|a, b| {
        if def.higher_is_better {
            b.1.mean.total_cmp(&a.1.mean)
        } else {
            a.1.mean.total_cmp(&b.1.mean)
        }
    });
    let tied = match ranked.first() {
        Some((_, best)) => ranked
            .iter()
            .take_while(|(_, s)| same(s.mean, best.mean))
            .count(),
        None => 0,
    };
    let runner_up = ranked.get(tied).copied();
    ranked.truncate(tied);
    let verdict = match (ranked.first(), runner_up) {
        (None, _) => Verdict::NoData,
        (Some(_), None) => Verdict::NoRunnerUp,
        _ if c.seeds.len() < 2 => Verdict::Untested,
        (Some((_, a)), Some((_, b))) => {
            let known = [a.lo, a.hi, b.lo, b.hi].iter().all(|x| x.is_finite());
            if !known || (a.lo <= b.hi && b.lo <= a.hi) {
                Verdict::Overlap
            } else {
                Verdict::Distinct
            }
        }
    };
    Lead {
        leaders: ranked,
        runner_up,
        verdict,
        models: c.models.len(),
    }
}

/// A value for the report: like [`num`], with rounding noise around zero shown as 0.
fn val(x: f64) -> String {
    num(if x.abs() < 1e-9 { 0.0 } else { x })
}

/// The margin of the leader over the runner-up: absolute with unit, and relative.
fn margin(def: &KpiDef, a: Stat, b: Stat) -> String {
    let d = (a.mean - b.mean).abs();
    let mut s = match def.unit {
        "0–1" | "share" => val(d),
        unit => format!("{} {unit}", val(d)),
    };
    if b.mean.abs() > 1e-9 {
        let _ = write!(s, " ({:.0}%)", d / b.mean.abs() * 100.0);
    }
    s
}

/// `mean [lo, hi]`, or `–` without data.
fn cell(s: &Stat) -> String {
    if !s.mean.is_finite() {
        "–".into()
    } else if s.lo.is_finite() && s.hi.is_finite() {
        format!("{} [{}, {}]", val(s.mean), val(s.lo), val(s.hi))
    } else {
        val(s.mean)
    }
}

/// One row of "who leads on what": KPI, better, leader, runner-up, margin, verdict.
fn lead_row(c: &Comparison, k: usize) -> [String; 6] {
    let def = &KPIS[k];
    let l = lead(c, k);
    let better = if def.higher_is_better {
        "higher"
    } else {
        "lower"
    };
    let leaders = match l.leaders.first() {
        Some((_, s)) => {
            let names: Vec<&str> = l.leaders.iter().map(|(m, _)| m.model.as_str()).collect();
            format!("{} ({})", names.join(", "), val(s.mean))
        }
        None => "–".into(),
    };
    let runner_up = l.runner_up.map_or("–".to_string(), |(m, s)| {
        format!("{} ({})", m.model, val(s.mean))
    });
    let margin = match (l.leaders.first(), l.runner_up) {
        (Some((_, a)), Some((_, b))) => margin(def, *a, b),
        _ => "–".into(),
    };
    [
        def.name.to_string(),
        better.to_string(),
        leaders,
        runner_up,
        margin,
        l.verdict_text(),
    ]
}

/// Per model: KPIs it leads alone, of those how many distinguishably, and KPIs where it
/// ties for the lead with another model while some model trails.
fn lead_counts(c: &Comparison) -> Vec<(String, usize, usize, usize)> {
    let mut counts: Vec<(String, usize, usize, usize)> = c
        .models
        .iter()
        .map(|m| (m.model.to_string(), 0, 0, 0))
        .collect();
    for k in 0..KPIS.len() {
        let l = lead(c, k);
        if l.runner_up.is_none() {
            continue;
        }
        for (m, _) in &l.leaders {
            let Some(i) = c.models.iter().position(|x| x.model == m.model) else {
                continue;
            };
            if l.leaders.len() > 1 {
                counts[i].3 += 1;
            } else {
                counts[i].1 += 1;
                if l.verdict == Verdict::Distinct {
                    counts[i].2 += 1;
                }
            }
        }
    }
    counts
}

/// The sentence for one model's lead counts.
fn lead_sentence(led: usize, distinct: usize, shared: usize) -> String {
    format!(
        "leads alone on {led} KPIs ({distinct} of them distinguishably) and shares the lead on {shared}"
    )
}

/// The chart stems in order, each with its PNG and SVG file when present.
fn chart_files(charts: &[PathBuf]) -> Vec<(String, Option<&PathBuf>, Option<&PathBuf>)> {
    let mut out: Vec<(String, Option<&PathBuf>, Option<&PathBuf>)> = Vec::new();
    for p in charts {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = p
            .extension()
            .map(|s| s.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let i = match out.iter().position(|(s, _, _)| *s == stem) {
            Some(i) => i,
            None => {
                out.push((stem, None, None));
                out.len() - 1
            }
        };
        match ext.as_str() {
            "png" => out[i].1 = Some(p),
            "svg" => out[i].2 = Some(p),
            _ => {}
        }
    }
    out.retain(|(_, png, svg)| png.is_some() || svg.is_some());
    out
}

/// A chart's title for the report.
fn chart_title(stem: &str) -> String {
    if let Some(name) = stem.strip_prefix("trajectory-")
        && let Some(k) = kpi_index(name)
    {
        return format!("{}: {} per year", name, KPIS[k].label);
    }
    match stem {
        "cost-per-resident" => "Cost per resident per year, by party".into(),
        "index-pillars" => "Evaluation index and its pillars".into(),
        _ => stem.to_string(),
    }
}

/// A path as written in the report: relative to `dir` when inside it.
fn link(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Writes `report.md` and a self-contained `report.html` into `dir`: the side-by-side
/// table, who leads on what (from the data), the `charts` (as written by
/// [`write_charts`]; linked from the Markdown, inlined in the HTML) and the
/// `assumptions` the ranking depends on (one line each, filled by the caller).
pub fn write_report(
    c: &Comparison,
    dir: &Path,
    charts: &[PathBuf],
    assumptions: &[String],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = chart_files(charts);
    let md = markdown(c, dir, &files, assumptions);
    let p = dir.join("report.md");
    std::fs::write(&p, md).map_err(|source| ReportError::Write {
        path: p.clone(),
        source,
    })?;
    let html = html(c, &files, assumptions)?;
    let p = dir.join("report.html");
    std::fs::write(&p, html).map_err(|source| ReportError::Write {
        path: p.clone(),
        source,
    })?;
    Ok(())
}

/// `1 seed`, `3 seeds`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn intro(c: &Comparison) -> String {
    let seeds: Vec<String> = c.seeds.iter().map(|s| s.to_string()).collect();
    format!(
        "{} residents, {}, {} ({}). Values are the mean over seeds with the 95% confidence interval of \
         the mean in brackets (Student's t). Final values: flows are summed over the years (money in yuan per \
         resident over the horizon, NPVs discounted); states are averaged over the years.",
        c.residents,
        plural(c.years as usize, "year"),
        plural(c.seeds.len(), "seed"),
        seeds.join(", ")
    )
}

fn interval_note(c: &Comparison) -> String {
    format!(
        "Leader and runner-up by final value, in the KPI's better direction. The intervals cover the randomness \
         between the {} only, not uncertainty in the parameters below; \"not distinguishable\" means the two \
         95% intervals overlap, so more seeds or a larger difference are needed before the ranking means anything.",
        plural(c.seeds.len(), "seed")
    )
}

const ASSUMPTIONS_NOTE: &str = "The ranking follows from these inputs of the scenario; change them and the leaders \
                                may change. Everything else is the scenario's parameters (see `civitas scenario \
                                params`).";

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn markdown(
    c: &Comparison,
    dir: &Path,
    files: &[(String, Option<&PathBuf>, Option<&PathBuf>)],
    assumptions: &[String],
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Investment models compared: {}\n",
        md_escape(&c.scenario)
    );
    let _ = writeln!(o, "Scenario **{}**: {}\n", md_escape(&c.scenario), intro(c));
    let _ = writeln!(o, "## Side by side\n");
    let _ = write!(o, "| KPI | unit | what | better |");
    for m in &c.models {
        let _ = write!(o, " {} |", m.model);
    }
    o.push_str("\n|---|---|---|---|");
    for _ in &c.models {
        o.push_str("---:|");
    }
    o.push('\n');
    for (k, def) in KPIS.iter().enumerate() {
        let better = if def.higher_is_better {
            "higher"
        } else {
            "lower"
        };
        let _ = write!(
            o,
            "| {} | {} | {} | {} |",
            def.name,
            md_escape(def.unit),
            md_escape(def.label),
            better
        );
        for m in &c.models {
            let _ = write!(o, " {} |", cell(&m.finals[k]));
        }
        o.push('\n');
    }
    let _ = writeln!(o, "\n## Who leads on what\n");
    let _ = writeln!(o, "{}\n", interval_note(c));
    for (model, led, distinct, shared) in lead_counts(c) {
        let _ = writeln!(o, "- **{model}** {};", lead_sentence(led, distinct, shared));
    }
    let _ = writeln!(
        o,
        "\n| KPI | better | leader | runner-up | margin | verdict |\n|---|---|---|---|---|---|"
    );
    for k in 0..KPIS.len() {
        let row = lead_row(c, k).map(|s| md_escape(&s));
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    let _ = writeln!(o, "\n## Charts\n");
    if files.is_empty() {
        let _ = writeln!(o, "(no charts)");
    }
    for (stem, png, svg) in files {
        let _ = writeln!(o, "### {}\n", chart_title(stem));
        match (png, svg) {
            (Some(png), Some(svg)) => {
                let _ = writeln!(
                    o,
                    "![{stem}]({})\n\n[SVG]({})\n",
                    link(dir, png),
                    link(dir, svg)
                );
            }
            (Some(p), None) | (None, Some(p)) => {
                let _ = writeln!(o, "![{stem}]({})\n", link(dir, p));
            }
            (None, None) => {}
        }
    }
    let _ = writeln!(o, "## Assumptions that drive the ranking\n");
    let _ = writeln!(o, "{ASSUMPTIONS_NOTE}\n");
    if assumptions.is_empty() {
        let _ = writeln!(o, "- (none given)");
    }
    for a in assumptions {
        let _ = writeln!(o, "- {a}");
    }
    o
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                o.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// A chart embedded in HTML: the SVG text inline, or else the PNG as a data URI.
fn embed(stem: &str, png: Option<&PathBuf>, svg: Option<&PathBuf>) -> Result<String, ReportError> {
    if let Some(p) = svg {
        let text = std::fs::read_to_string(p).map_err(|source| ReportError::Read {
            path: p.clone(),
            source,
        })?;
        // Inline SVG must not carry an XML declaration.
        let start = text.find("<svg").unwrap_or(0);
        return Ok(text[start..].to_string());
    }
    if let Some(p) = png {
        let bytes = std::fs::read(p).map_err(|source| ReportError::Read {
            path: p.clone(),
            source,
        })?;
        return Ok(format!(
            "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
            esc(stem),
            base64(&bytes)
        ));
    }
    Ok(String::new())
}

fn html(
    c: &Comparison,
    files: &[(String, Option<&PathBuf>, Option<&PathBuf>)],
    assumptions: &[String],
) -> Result<String, ReportError> {
    let mut o = String::new();
    let title = format!("Investment models compared: {}", c.scenario);
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }}\n\
         th {{ background: #f3f3f3; }}\n         td.n {{ text-align: right; white-space: nowrap; }}\n\
         tr.distinct td.v {{ color: #1a6b1a; }} tr.overlap td.v {{ color: #8a5a00; }}\n\
         figure {{ margin: 1.5em 0; }} figure svg, figure img {{ max-width: 100%; height: auto; }}\n\
         </style>\n</head>\n<body>",
        esc(&title)
    );
    let _ = writeln!(o, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(
        o,
        "<p>Scenario <strong>{}</strong>: {}</p>",
        esc(&c.scenario),
        esc(&intro(c))
    );
    let _ = writeln!(
        o,
        "<h2>Side by side</h2>\n<table>\n<tr><th>KPI</th><th>unit</th><th>what</th><th>better</th>"
    );
    for m in &c.models {
        let _ = write!(o, "<th>{}</th>", esc(m.model.as_str()));
    }
    o.push_str("</tr>\n");
    for (k, def) in KPIS.iter().enumerate() {
        let better = if def.higher_is_better {
            "higher"
        } else {
            "lower"
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{better}</td>",
            esc(def.name),
            esc(def.unit),
            esc(def.label)
        );
        let l = lead(c, k);
        for m in &c.models {
            let text = esc(&cell(&m.finals[k]));
            let leads = l.runner_up.is_some() && l.leaders.iter().any(|(x, _)| x.model == m.model);
            if leads {
                let _ = write!(o, "<td class=\"n\"><strong>{text}</strong></td>");
            } else {
                let _ = write!(o, "<td class=\"n\">{text}</td>");
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n<p>Bold: the leader on that KPI (all of them when they tie).</p>\n");
    let _ = writeln!(
        o,
        "<h2>Who leads on what</h2>\n<p>{}</p>\n<ul>",
        esc(&interval_note(c))
    );
    for (model, led, distinct, shared) in lead_counts(c) {
        let _ = writeln!(
            o,
            "<li><strong>{}</strong> {};</li>",
            esc(&model),
            lead_sentence(led, distinct, shared)
        );
    }
    o.push_str("</ul>\n<table>\n<tr><th>KPI</th><th>better</th><th>leader</th><th>runner-up</th><th>margin</th><th>verdict</th></tr>\n");
    for k in 0..KPIS.len() {
        let class = match lead(c, k).verdict {
            Verdict::Distinct => "distinct",
            Verdict::Overlap => "overlap",
            _ => "other",
        };
        let row = lead_row(c, k);
        let _ = writeln!(
            o,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"v\">{}</td></tr>",
            esc(&row[0]),
            esc(&row[1]),
            esc(&row[2]),
            esc(&row[3]),
            esc(&row[4]),
            esc(&row[5])
        );
    }
    o.push_str("</table>\n<h2>Charts</h2>\n");
    if files.is_empty() {
        o.push_str("<p>(no charts)</p>\n");
    }
    for (stem, png, svg) in files {
        let _ = writeln!(
            o,
            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            esc(stem),
            embed(stem, *png, *svg)?,
            esc(&chart_title(stem))
        );
    }
    let _ = writeln!(
        o,
        "<h2>Assumptions that drive the ranking</h2>\n<p>{}</p>\n<ul>",
        esc(ASSUMPTIONS_NOTE)
    );
    if assumptions.is_empty() {
        o.push_str("<li>(none given)</li>\n");
    }
    for a in assumptions {
        let _ = writeln!(o, "<li>{}</li>", esc(a));
    }
    o.push_str("</ul>\n</body>\n</html>\n");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn padding_handles_empty_flat_and_spread_values() {
        assert_eq!(padded([f64::NAN].into_iter()), (0.0, 1.0));
        assert_eq!(padded([0.0, 0.0].into_iter()), (-1.0, 1.0));
        let (lo, hi) = padded([2.0].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
        let (lo, hi) = padded([0.0, 10.0].into_iter());
        assert!(lo < 0.0 && hi > 10.0);
    }

    #[test]
    fn segments_split_at_missing_years() {
        let s = |x: f64| Stat {
            mean: x,
            lo: x,
            hi: x,
        };
        let segs = segments(&[s(1.0), s(f64::NAN), s(2.0), s(3.0)], |s| {
            s.mean.is_finite()
        });
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].len(), 1);
        assert_eq!(
            segs[1].iter().map(|(x, _)| *x).collect::<Vec<_>>(),
            vec![3.0, 4.0]
        );
    }
}

/// Draws one chart on both backends and writes `<stem>.png` and `<stem>.svg` into `dir`.
fn render_both(
    dir: &Path,
    stem: &str,
    png_draw: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
    svg_draw: impl Fn(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<[PathBuf; 2], ReportError> {
    register_font()?;
    let png = dir.join(format!("{stem}.png"));
    let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        png_draw(&root).map_err(|message| ReportError::Chart {
            path: png.clone(),
            message,
        })?;
    }
    write_png(&png, &rgb)?;
    let svg = dir.join(format!("{stem}.svg"));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        svg_draw(&root).map_err(|message| ReportError::Chart {
            path: svg.clone(),
            message,
        })?;
    }
    std::fs::write(&svg, text).map_err(|source| ReportError::Write {
        path: svg.clone(),
        source,
    })?;
    Ok([png, svg])
}

/// A chart of one output against one input: each point's mean with its 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// Title.
    pub title: String,
    /// Input (x axis) label.
    pub x_label: String,
    /// Output (y axis) label.
    pub y_label: String,
    /// (x, mean and interval of y).
    pub points: Vec<(f64, Stat)>,
}

fn scatter<DB: DrawingBackend>(s: &Scatter, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let ok: Vec<&(f64, Stat)> = s
        .points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.mean.is_finite())
        .collect();
    let (x0, x1) = padded(ok.iter().map(|p| p.0));
    let (y0, y1) = padded(
        ok.iter()
            .flat_map(|p| [p.1.lo, p.1.hi, p.1.mean])
            .filter(|v| v.is_finite()),
    );
    let mut chart = ChartBuilder::on(root)
        .caption(&s.title, (FAMILY, 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(&s.x_label)
        .y_desc(&s.y_label)
        .label_style((FAMILY, 13))
        .draw()?;
    let color = RGBColor(31, 119, 180);
    chart.draw_series(
        ok.iter()
            .filter(|p| p.1.lo.is_finite() && p.1.hi.is_finite())
            .map(|p| PathElement::new(vec![(p.0, p.1.lo), (p.0, p.1.hi)], color.stroke_width(1))),
    )?;
    chart.draw_series(
        ok.iter()
            .map(|p| Circle::new((p.0, p.1.mean), 4, color.filled())),
    )?;
    root.present()
}

/// Writes a scatter chart as `<stem>.png` and `<stem>.svg`.
pub fn write_scatter(dir: &Path, stem: &str, s: &Scatter) -> Result<[PathBuf; 2], ReportError> {
    render_both(
        dir,
        stem,
        |r| scatter(s, r).map_err(|e| e.to_string()),
        |r| scatter(s, r).map_err(|e| e.to_string()),
    )
}

/// Sobol indices of one output, per input: first-order and total-order bars with their
/// intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexBars {
    /// Title.
    pub title: String,
    /// Inputs.
    pub inputs: Vec<String>,
    /// First-order (value, lo, hi) per input.
    pub first: Vec<(f64, f64, f64)>,
    /// Total-order (value, lo, hi) per input.
    pub total: Vec<(f64, f64, f64)>,
}

fn index_bars<DB: DrawingBackend>(b: &IndexBars, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let n = b.inputs.len().max(1);
    let top = b
        .first
        .iter()
        .chain(&b.total)
        .map(|v| v.2.max(v.0))
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max);
    let bottom = b
        .first
        .iter()
        .chain(&b.total)
        .map(|v| v.1.min(v.0))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::min);
    let mut chart = ChartBuilder::on(root)
        .caption(&b.title, (FAMILY, 20))
        .margin(16)
        .x_label_area_size(60)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n as f64, bottom..top * 1.05)?;
    let labels = b.inputs.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 1e-6 {
                labels
                    .get(i)
                    .map(|l| l.rsplit('.').next().unwrap_or(l).to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("Sobol index")
        .label_style((FAMILY, 13))
        .draw()?;
    let (c1, c2) = (RGBColor(31, 119, 180), RGBColor(255, 127, 14));
    for (series, color, offset, name) in [
        (&b.first, c1, 0.15, "first order"),
        (&b.total, c2, 0.5, "total order"),
    ] {
        chart
            .draw_series(series.iter().enumerate().map(|(i, v)| {
                let x = i as f64 + offset;
                Rectangle::new(
                    [
                        (x, 0.0),
                        (x + 0.35, if v.0.is_finite() { v.0 } else { 0.0 }),
                    ],
                    color.filled(),
                )
            }))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        chart.draw_series(
            series
                .iter()
                .enumerate()
                .filter(|(_, v)| v.1.is_finite() && v.2.is_finite())
                .map(|(i, v)| {
                    let x = i as f64 + offset + 0.175;
                    PathElement::new(vec![(x, v.1), (x, v.2)], BLACK.stroke_width(1))
                }),
        )?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .label_font((FAMILY, 13))
        .draw()?;
    root.present()
}

/// Writes a Sobol index bar chart as `<stem>.png` and `<stem>.svg`.
pub fn write_index_bars(
    dir: &Path,
    stem: &str,
    b: &IndexBars,
) -> Result<[PathBuf; 2], ReportError> {
    render_both(
        dir,
        stem,
        |r| index_bars(b, r).map_err(|e| e.to_string()),
        |r| index_bars(b, r).map_err(|e| e.to_string()),
    )
}
