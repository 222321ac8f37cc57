//! The batch summary's charts: each output against each input, and Sobol index bars.

use super::ReportError;
use super::chart::{DrawResult, FAMILY, padded, render_both};
use crate::stats::Stat;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

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
