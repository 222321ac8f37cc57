//! The comparison's report: `report.md` and a self-contained `report.html` with the
//! table, who leads on what, the charts and the assumptions.

use super::ReportError;
use crate::compare::{Comparison, ModelResult, num};
use crate::metrics::{KPIS, KpiDef, kpi_index};
use crate::stats::Stat;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    /// The leader is ahead by less than the KPI's practical threshold
    /// ([`super::practical`]): no real difference, whatever the intervals.
    NoRealDifference,
}

/// Who leads on one KPI.
pub(super) struct Lead<'a> {
    /// The models with the best value (more than one when they tie).
    pub(super) leaders: Vec<(&'a ModelResult, Stat)>,
    /// The best of the rest.
    pub(super) runner_up: Option<(&'a ModelResult, Stat)>,
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
            Verdict::NoRealDifference => "no real difference (below the practical threshold)",
        };
        if self.leaders.len() > 1 && self.runner_up.is_some() {
            format!("tie for the lead; against the runner-up: {v}")
        } else {
            v.to_string()
        }
    }
}

/// Same value, up to rounding: equal within 1e-9 (relative), or written the same in the
/// report — a difference the reader sees as 0 is never called a lead.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0) || val(a) == val(b)
}

pub(super) fn lead(c: &Comparison, k: usize) -> Lead<'_> {
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
        (Some((_, a)), Some((_, b)))
            if (a.mean - b.mean).abs() < super::practical(def, a.mean, b.mean) =>
        {
            Verdict::NoRealDifference
        }
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
    // Spending less is better only for what it buys: a money KPI where lower is better
    // says, beside each model, the coverage and index that money bought.
    let buys = |m: &ModelResult| {
        if def.unit == "yuan/resident" && !def.higher_is_better {
            format!(
                "; buys coverage {}, index {}",
                val(m.finals[crate::metrics::K::Coverage as usize].mean),
                val(m.finals[crate::metrics::K::Index as usize].mean)
            )
        } else {
            String::new()
        }
    };
    let leaders = if l.leaders.is_empty() {
        "–".to_string()
    } else {
        l.leaders
            .iter()
            .map(|(m, s)| format!("{} ({}{})", m.model, val(s.mean), buys(m)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let runner_up = l.runner_up.map_or("–".to_string(), |(m, s)| {
        format!("{} ({}{})", m.model, val(s.mean), buys(m))
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
        if l.runner_up.is_none() || l.verdict == Verdict::NoRealDifference {
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

/// Pictures of the community under each model at the horizon, drawn by the 3D viewer
/// (`civitas-viz snapshot`), or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Pictures {
    /// One PNG per model, in column order.
    Drawn(Vec<(String, PathBuf)>),
    /// None: the sentence says why and how to get them.
    Missing(String),
}

/// Writes `report.md` and a self-contained `report.html` into `dir`: the side-by-side
/// table, who leads on what (from the data), the `charts` (as written by
/// [`write_charts`]; linked from the Markdown, inlined in the HTML), the `pictures` of
/// each model's community and the `assumptions` the ranking depends on (one line each,
/// filled by the caller).
pub fn write_report(
    c: &Comparison,
    dir: &Path,
    charts: &[PathBuf],
    pictures: &Pictures,
    assumptions: &[String],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = chart_files(charts);
    let md = markdown(c, dir, &files, assumptions) + &pictures_md(dir, pictures);
    let p = dir.join("report.md");
    std::fs::write(&p, md).map_err(|source| ReportError::Write {
        path: p.clone(),
        source,
    })?;
    let html = html(c, &files, assumptions)?.replace(
        "</body>\n</html>\n",
        &format!("{}</body>\n</html>\n", pictures_html(pictures)?),
    );
    let p = dir.join("report.html");
    std::fs::write(&p, html).map_err(|source| ReportError::Write {
        path: p.clone(),
        source,
    })?;
    Ok(())
}

/// `1 seed`, `3 seeds`.
pub(super) fn plural(n: usize, what: &str) -> String {
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
         95% intervals overlap, so more seeds or a larger difference are needed before the ranking means anything; \
         \"no real difference\" means the leader is ahead by less than a practical threshold (a hundredth on an index \
         or a share, 1% of an amount of money, half a year of sustained operation), so the lead does not matter \
         however narrow the intervals.",
        plural(c.seeds.len(), "seed")
    )
}

const ASSUMPTIONS_NOTE: &str = "The ranking follows from these inputs of the scenario; change them and the leaders \
                                may change. Everything else is the scenario's parameters (see `civitas scenario \
                                params`).";

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn markdown(c: &Comparison, dir: &Path, files: &[ChartFile<'_>], assumptions: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Investment models compared: {}\n",
        md_escape(&c.scenario)
    );
    let _ = writeln!(o, "Scenario **{}**: {}\n", md_escape(&c.scenario), intro(c));
    let h = super::headline(c);
    let _ = writeln!(o, "## In short\n");
    for l in &h.lines {
        let _ = writeln!(o, "- {}", md_escape(l));
    }
    if !h.flags.is_empty() {
        let _ = writeln!(o, "\n**Red flags**\n");
        for f in &h.flags {
            let _ = writeln!(o, "- {}", md_escape(f));
        }
    }
    o.push('\n');
    let (summary, by_year) = split_charts(files);
    if !summary.is_empty() {
        let _ = writeln!(o, "## At a glance\n");
        md_charts(&mut o, dir, &summary);
    }
    let _ = writeln!(o, "## Side by side\n");
    let _ = write!(o, "| what | KPI | unit | better |");
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
            "| {} | `{}` | {} | {} |",
            md_escape(def.label),
            def.name,
            md_escape(def.unit),
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
    let _ = writeln!(o, "\n## Year by year\n");
    if by_year.is_empty() {
        let _ = writeln!(o, "(no charts)\n");
    }
    md_charts(&mut o, dir, &by_year);
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

/// The two summary charts (the index and its pillars, cost by party) and the rest.
type ChartFile<'a> = (String, Option<&'a PathBuf>, Option<&'a PathBuf>);

fn split_charts<'a>(files: &[ChartFile<'a>]) -> (Vec<ChartFile<'a>>, Vec<ChartFile<'a>>) {
    const SUMMARY: [&str; 2] = ["index-pillars", "cost-per-resident"];
    let summary = SUMMARY
        .iter()
        .filter_map(|name| files.iter().find(|(s, _, _)| s == name).cloned())
        .collect();
    let rest = files
        .iter()
        .filter(|(s, _, _)| !SUMMARY.contains(&s.as_str()))
        .cloned()
        .collect();
    (summary, rest)
}

/// Charts in Markdown: the PNG shown, the SVG linked.
fn md_charts(o: &mut String, dir: &Path, files: &[ChartFile<'_>]) {
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
}

/// Charts in HTML, inline.
fn html_charts(o: &mut String, files: &[ChartFile<'_>]) -> Result<(), ReportError> {
    for (stem, png, svg) in files {
        let _ = writeln!(
            o,
            "<figure id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            esc(stem),
            embed(stem, *png, *svg)?,
            esc(&chart_title(stem))
        );
    }
    Ok(())
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

const PICTURES_TITLE: &str = "The community under each model at the horizon";

fn pictures_md(dir: &Path, pictures: &Pictures) -> String {
    let mut o = format!("\n## {PICTURES_TITLE}\n\n");
    match pictures {
        Pictures::Missing(why) => {
            let _ = writeln!(o, "{}", md_escape(why));
        }
        Pictures::Drawn(drawn) => {
            for (model, png) in drawn {
                let _ = writeln!(o, "### {model}\n\n![{model}]({})\n", link(dir, png));
            }
        }
    }
    o
}

fn pictures_html(pictures: &Pictures) -> Result<String, ReportError> {
    let mut o = format!("<h2>{}</h2>\n", esc(PICTURES_TITLE));
    match pictures {
        Pictures::Missing(why) => {
            let _ = writeln!(o, "<p>{}</p>", esc(why));
        }
        Pictures::Drawn(drawn) => {
            for (model, png) in drawn {
                let _ = writeln!(
                    o,
                    "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    embed(model, Some(png), None)?,
                    esc(model)
                );
            }
        }
    }
    Ok(o)
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
    files: &[ChartFile<'_>],
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
    let h = super::headline(c);
    let _ = writeln!(o, "<section id=\"in-short\">\n<h2>In short</h2>\n<ul>");
    for l in &h.lines {
        let _ = writeln!(o, "<li>{}</li>", esc(l));
    }
    o.push_str("</ul>\n");
    if !h.flags.is_empty() {
        let _ = writeln!(o, "<p><strong>Red flags</strong></p>\n<ul class=\"flags\">");
        for f in &h.flags {
            let _ = writeln!(o, "<li>{}</li>", esc(f));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");
    let (summary, by_year) = split_charts(files);
    if !summary.is_empty() {
        o.push_str("<h2>At a glance</h2>\n");
        html_charts(&mut o, &summary)?;
    }
    let _ = writeln!(
        o,
        "<h2>Side by side</h2>\n<table>\n<tr><th>what</th><th>KPI</th><th>unit</th><th>better</th>"
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
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{better}</td>",
            esc(def.label),
            esc(def.name),
            esc(def.unit)
        );
        let l = lead(c, k);
        for m in &c.models {
            let text = esc(&cell(&m.finals[k]));
            let leads = l.runner_up.is_some()
                && l.verdict != Verdict::NoRealDifference
                && l.leaders.iter().any(|(x, _)| x.model == m.model);
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
    o.push_str("</table>\n<h2>Year by year</h2>\n");
    if by_year.is_empty() {
        o.push_str("<p>(no charts)</p>\n");
    }
    html_charts(&mut o, &by_year)?;
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
}
