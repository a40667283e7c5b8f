//! `catalogue`: puts every model's card into a models index, so the page lists the models from
//! `index.json` alone (it fetches a model file only when the model is chosen).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use fairscreen_core::format::sha256_hex;

use crate::artifacts::{model_entry, read_index, write_index};

/// `fairscreen-train catalogue`.
#[derive(clap::Args)]
pub struct CatalogueArgs {
    /// Directory of the models and their `index.json`.
    #[arg(long, default_value = "www/models")]
    dir: PathBuf,
}

/// Runs `catalogue`: reads every indexed model file, checks its size and sha256 against the
/// index, and writes the index again with each file's card.
pub fn run(a: CatalogueArgs) -> Result<()> {
    let mut index = read_index(&a.dir)?;
    for entry in &mut index.assets {
        let path = a.dir.join(&entry.file);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let (size, sha256) = (bytes.len(), sha256_hex(&bytes));
        if (size, &sha256) != (entry.bytes, &entry.sha256) {
            bail!(
                "{}: {size} bytes, sha256 {sha256}; the index says {} bytes, {}",
                path.display(),
                entry.bytes,
                entry.sha256
            );
        }
        let read = model_entry(&entry.file, &bytes)?;
        if read.name != entry.name {
            bail!(
                "{}: the card's name is {}, the index says {}",
                path.display(),
                read.name,
                entry.name
            );
        }
        *entry = read;
    }
    write_index(&a.dir, &index)?;
    println!(
        "{}: {} model cards",
        a.dir.join("index.json").display(),
        index.assets.len()
    );
    Ok(())
}
