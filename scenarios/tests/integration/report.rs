//! Charts and report of a small comparison: every file written, PNG and SVG well-formed,
//! the HTML self-contained with the charts embedded.

use civitas_scenarios::compare::{CompareOptions, compare};
use civitas_scenarios::library::load;
use civitas_scenarios::report::{Pictures, TRAJECTORY_KPIS, write_charts, write_report};
use civitas_twin::kinds::InvestmentModel;

#[test]
fn report_and_charts_of_a_small_comparison_are_complete_and_self_contained() {
    let s = load("old-small").expect("preset loads");
    let opts = CompareOptions {
        models: vec![InvestmentModel::Gov, InvestmentModel::Market],
        years: 2,
        seeds: vec![1, 2],
        jobs: 2,
    };
    let c = compare(&s, &opts, |_, _| {}).expect("comparison runs");
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("charts");
    let charts = write_charts(&c, &out).expect("charts written");
    let assumptions = vec!["gov: the government pays for everything".to_string()];
    // A "picture" of each model (any PNG will do: the viewer draws the real ones).
    let pictures: Vec<(String, std::path::PathBuf)> = opts
        .models
        .iter()
        .map(|m| {
            let p = dir.path().join(format!("view-{m}.png"));
            std::fs::copy(out.join("cost-per-resident.png"), &p).unwrap();
            (m.to_string(), p)
        })
        .collect();
    write_report(&c, &out, &charts, &Pictures::Drawn(pictures), &assumptions)
        .expect("report written");

    let stems: Vec<String> = ["cost-per-resident", "index-pillars"]
        .into_iter()
        .map(String::from)
        .chain(["gov_net", "index", "satisfaction"].map(|k| format!("trajectory-{k}")))
        .collect();
    for stem in &stems {
        for ext in ["png", "svg"] {
            let p = out.join(format!("{stem}.{ext}"));
            assert!(
                charts.contains(&p),
                "{} not among the charts returned",
                p.display()
            );
        }
    }
    assert!(charts.len() >= stems.len() * 2);
    assert!(charts.len() <= (TRAJECTORY_KPIS.len() + 2) * 2);
    for p in &charts {
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!bytes.is_empty(), "{} is empty", p.display());
        match p.extension().and_then(|e| e.to_str()) {
            Some("png") => assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{} is not a PNG",
                p.display()
            ),
            Some("svg") => {
                let text = String::from_utf8(bytes).expect("SVG is UTF-8");
                assert!(text.contains("<svg"), "{} is not an SVG", p.display());
                assert!(text.contains("<text"), "{} has no text", p.display());
            }
            other => panic!("unexpected chart file type {other:?}"),
        }
    }

    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(!md.is_empty() && !html.is_empty());
    assert!(
        md.contains("| what | KPI | unit | better | gov | market |"),
        "table header missing:\n{md}"
    );
    // The headline comes first: computed from the comparison, before any table.
    let h = civitas_scenarios::report::headline(&c);
    let short = md.find("## In short").expect("the headline section");
    assert!(short < md.find("## Side by side").unwrap());
    assert!(md.contains(&format!("- {}", h.lines[0])), "{md}");
    let short = html
        .find("<h2>In short</h2>")
        .expect("the headline section");
    assert!(short < html.find("<h2>Side by side</h2>").unwrap());
    assert_eq!(h.lines.len(), 5);
    // Then the two summary charts, before the table.
    let glance = md.find("## At a glance").expect("the summary charts");
    assert!(glance < md.find("## Side by side").unwrap());
    assert!(
        md[glance..].find("](index-pillars.png)").unwrap()
            < md[glance..].find("## Side by side").unwrap()
    );
    assert!(
        html.find("<figure id=\"cost-per-resident\">").unwrap()
            < html.find("<h2>Side by side</h2>").unwrap()
    );
    assert!(md.contains("## Who leads on what"));
    assert!(md.contains("## Assumptions that drive the ranking"));
    assert!(md.contains(&assumptions[0]));
    for m in &opts.models {
        assert!(md.contains(m.as_str()), "report.md does not name {m}");
        assert!(
            html.contains(&format!("<th>{m}</th>")),
            "report.html does not name {m}"
        );
    }
    for stem in &stems {
        assert!(
            md.contains(&format!("]({stem}.png)")),
            "report.md does not show {stem}"
        );
        assert!(
            html.contains(&format!("<figure id=\"{stem}\">")),
            "report.html does not show {stem}"
        );
    }
    // Self-contained: every chart inline, nothing fetched.
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("href=\"http"));
    assert_eq!(html.matches("<svg").count(), charts.len() / 2);
    assert!(html.contains("</html>"));
    // Each model's picture: linked from the Markdown, inline in the HTML.
    assert!(md.contains("## The community under each model at the horizon"));
    for m in &opts.models {
        assert!(md.contains(&format!("### {m}\n\n![{m}](")), "{m}'s picture");
        assert!(
            html.contains(&format!("<img alt=\"{m}\" src=\"data:image/png;base64,")),
            "{m}'s picture inline"
        );
    }

    // Without the viewer, the report says how to get the pictures.
    let why = "Pictures need the 3D viewer beside civitas: cargo build --release -p civitas-viz";
    write_report(
        &c,
        &out,
        &charts,
        &Pictures::Missing(why.into()),
        &assumptions,
    )
    .unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(md.ends_with(&format!("{why}\n")), "{md}");
    assert!(html.contains(&format!("<p>{why}</p>\n</body>")));
}
