//! Turns command-line input arguments into an ordered list of emails to read.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// One input email, not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl InputSource {
    /// The name recorded in `source`.
    pub fn name(&self) -> String {
        match self {
            InputSource::Stdin => "-".to_owned(),
            InputSource::File(path) => path.display().to_string(),
        }
    }

    /// Reads the whole input, refusing more than `limit + 1` bytes so an oversized input is
    /// detected without being held in memory.
    pub fn read(&self, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self {
            InputSource::Stdin => std::io::stdin()
                .lock()
                .take(limit + 1)
                .read_to_end(&mut bytes)?,
            InputSource::File(path) => std::fs::File::open(path)?
                .take(limit + 1)
                .read_to_end(&mut bytes)?,
        };
        Ok(bytes)
    }
}

/// Expands arguments: files as given; directories to the email files below them
/// (recursively, sorted by path): names ending in `.eml`, or with no extension at all (as
/// SES stores them), hidden files skipped; `-` to stdin (at most once).
pub fn expand(args: &[PathBuf]) -> anyhow::Result<Vec<InputSource>> {
    let mut out = Vec::new();
    let mut stdin_seen = false;
    for arg in args {
        if arg.as_os_str() == "-" {
            if stdin_seen {
                bail!("`-` (stdin) can be given only once");
            }
            stdin_seen = true;
            out.push(InputSource::Stdin);
        } else if arg.is_dir() {
            let mut files = Vec::new();
            walk(arg, &mut files)
                .with_context(|| format!("cannot list directory {}", arg.display()))?;
            files.sort();
            out.extend(files.into_iter().map(InputSource::File));
        } else if arg.exists() {
            out.push(InputSource::File(arg.clone()));
        } else {
            bail!("input {} does not exist", arg.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else if is_email_name(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_email_name(path: &Path) -> bool {
    match path.extension() {
        None => true,
        Some(ext) => ext.eq_ignore_ascii_case("eml"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_expand_sorted_and_skip_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.eml"), "x").unwrap();
        std::fs::write(dir.path().join("a.eml"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        std::fs::write(dir.path().join("a.expected.json"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.eml"), "x").unwrap();
        let inputs = expand(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = inputs.iter().map(|i| i.name()).collect();
        assert_eq!(names.len(), 3);
        assert!(
            names[0].ends_with("a.eml")
                && names[1].ends_with("b.eml")
                && names[2].ends_with("sub/c.eml")
        );
    }

    #[test]
    fn missing_inputs_and_double_stdin_are_errors() {
        assert!(expand(&[PathBuf::from("/no/such/file.eml")]).is_err());
        assert!(expand(&[PathBuf::from("-"), PathBuf::from("-")]).is_err());
    }
}
