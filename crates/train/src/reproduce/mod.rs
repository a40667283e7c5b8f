//! `reproduce`: a paper's experiments on SynthDerm, one subcommand per paper (`reproduce fme`,
//! `reproduce scp`, `reproduce fairtune`), each writing its results directory (JSON, Markdown, SVG plots).

mod fairtune;
mod fairtune_data;
mod fairtune_report;
mod fairtune_search;
mod fairtune_stage2;
mod fme;
mod fme_report;
mod scp;
mod scp_report;
mod scp_runs;
mod shared;

use anyhow::Result;

/// `fairscreen-train reproduce`.
#[derive(clap::Args)]
pub struct ReproduceArgs {
    /// The paper.
    #[command(subcommand)]
    paper: Paper,
}

/// Which paper to reproduce.
#[derive(clap::Subcommand)]
enum Paper {
    /// Fair multi-exit networks (seed paper 000), papers.md §2.
    Fme(fme::FmeArgs),
    /// Sensitive channel pruning with SNNL (seed paper 001), papers.md §3.
    Scp(scp::ScpArgs),
    /// FairTune: searched fine-tuning masks scored by validation fairness (seed paper 002),
    /// papers.md §4.
    Fairtune(fairtune::FairtuneArgs),
}

/// Runs the reproduction.
pub fn run(a: ReproduceArgs) -> Result<()> {
    match a.paper {
        Paper::Fme(a) => fme::run(a),
        Paper::Scp(a) => scp::run(a),
        Paper::Fairtune(a) => fairtune::run(a),
    }
}
