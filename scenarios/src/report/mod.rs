//! Charts and reports: a planners' comparison ([`crate::compare::Comparison`]) and a
//! researcher's batch summary.
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
//!
//! - [`chart`]: the toolkit (font, backends, axes, legends, bars);
//! - [`comparison`]: the comparison's charts; [`document`]: its report; [`headline()`]:
//!   what the report and the terminal say first;
//! - [`assumptions()`]: the inputs of the scenario a comparison's ranking rests on, as
//!   sentences generated from the parameters in force (for the report);
//! - [`batch`]: the batch summary's charts ([`write_scatter`], [`write_index_bars`]).

mod assumptions;
mod batch;
mod chart;
mod comparison;
mod document;
mod headline;

pub use assumptions::assumptions;
pub use batch::{IndexBars, Scatter, write_index_bars, write_scatter};
pub use comparison::{TRAJECTORY_KPIS, write_charts};
pub use document::{Pictures, write_report};
pub use headline::{Headline, headline, practical, yuan};

use std::path::PathBuf;

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
