//! `bench-floor FILE|DIR...`: the yardstick `scripts/bench.sh` measures mailex against.
//!
//! Reads every email file given (directories: their files, sorted, not recursive), parses each
//! with mail-parser configured exactly as `mailex_core::Email::parse` configures it, and reads
//! the text body of each (what any extractor needs at least). It prints one line, the number of
//! headers and text bytes seen, so the work cannot be optimised away. Nothing else: no routing,
//! no authentication, no extraction, no output per mail.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mail_parser::{HeaderName, MessageParser};

fn main() -> anyhow::Result<()> {
    let mut files = Vec::new();
    for arg in std::env::args_os().skip(1) {
        expand(Path::new(&arg), &mut files)?;
    }
    anyhow::ensure!(!files.is_empty(), "usage: bench-floor FILE|DIR...");
    let parser = MessageParser::new()
        .with_mime_headers()
        .with_date_headers()
        .with_address_headers()
        .with_message_ids()
        .header_text(HeaderName::Subject)
        .header_text(HeaderName::Comments);
    let mut seen = 0usize;
    for path in &files {
        let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(message) = parser.parse(&raw) {
            seen += message.headers().len();
            seen += message.body_text(0).map_or(0, |text| text.len());
        }
    }
    println!("{} files, {seen} headers and text bytes", files.len());
    Ok(())
}

/// A file as itself, a directory as its files (sorted).
fn expand(path: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.retain(|p| p.is_file());
        entries.sort();
        files.extend(entries);
    } else {
        files.push(path.to_owned());
    }
    Ok(())
}
