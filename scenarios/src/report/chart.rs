//! The chart toolkit: the embedded font, drawing on the PNG and SVG backends, axis
//! ranges and labels, the title/plot/legend layout, and grouped bar charts. It knows
//! nothing of comparisons or batches; [`super::comparison`] and [`super::batch`] draw with it.

use super::ReportError;
use crate::stats::Stat;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The embedded font (DejaVu Sans 2.37).
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Where the embedded font comes from, for error messages.
const FONT_FILE: &str = "scenarios/assets/DejaVuSans.ttf";
/// The family name the font is registered under (also what SVG text asks for).
pub(super) const FAMILY: &str = "sans-serif";
/// Pixel size of every chart.
pub(super) const SIZE: (u32, u32) = (960, 560);

/// Registers the embedded font with plotters, once per process.
pub(super) fn register_font() -> Result<(), ReportError> {
    static OK: OnceLock<bool> = OnceLock::new();
    if *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        Ok(())
    } else {
        Err(ReportError::Font {
            path: PathBuf::from(FONT_FILE),
        })
    }
}

/// A drawing error of backend `DB`.
pub(super) type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// The result of drawing on backend `DB`.
pub(super) type DrawResult<DB> = Result<(), DrawError<DB>>;

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

pub(super) fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
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
pub(super) fn tick_decimals(lo: f64, hi: f64) -> usize {
    let step = (hi - lo).abs() / 10.0;
    if !(step.is_finite() && step > 0.0) {
        return 2;
    }
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// An axis label with `d` decimals, never `-0`.
pub(super) fn tick(y: f64, d: usize) -> String {
    let scale = 10f64.powi(d as i32);
    let y = if (y * scale).round() == 0.0 { 0.0 } else { y };
    format!("{y:.d$}")
}

/// Runs of consecutive years where `ok` holds, as `(year, stat)` with years from 1.
pub(super) fn segments(series: &[Stat], ok: impl Fn(&Stat) -> bool) -> Vec<Vec<(f64, Stat)>> {
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
pub(super) enum Swatch {
    /// A line (a series over years).
    Line,
    /// A filled box (bars).
    Box,
}

/// A drawing area in pixels.
pub(super) type Area<DB> = DrawingArea<DB, Shift>;

/// The chart's title on top, then the plot area and the legend column right of it.
pub(super) fn layout<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
) -> Result<(Area<DB>, Area<DB>), DrawError<DB>> {
    let body = root.margin(6, 0, 0, 0).titled(title, (FAMILY, 20))?;
    let width = body.dim_in_pixel().0;
    Ok(body.split_horizontally(width.saturating_sub(LEGEND_WIDTH)))
}

/// Draws the legend: one entry per series, then notes in grey, one line each.
pub(super) fn legend<DB: DrawingBackend>(
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

/// A grouped bar chart: one group per x label, one bar per series in each group.
pub(super) struct Bars {
    pub(super) caption: String,
    pub(super) y_desc: String,
    pub(super) groups: Vec<String>,
    /// Name, colour and one value per group (NaN: no bar).
    pub(super) series: Vec<(String, RGBColor, Vec<Stat>)>,
    /// Lines under the legend.
    pub(super) notes: Vec<String>,
}

pub(super) fn bars<DB: DrawingBackend>(b: &Bars, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
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

/// Draws one chart on both backends and writes `<stem>.png` and `<stem>.svg` into `dir`.
pub(super) fn render_both(
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

#[cfg(test)]
mod tests {
    use super::*;

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
