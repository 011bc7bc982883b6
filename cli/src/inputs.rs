//! Turns command-line input arguments into an ordered list of emails to read, and reads them.
//!
//! Nothing about one input stops the others: a path that does not exist, a FIFO, socket or
//! device, a directory that cannot be listed or a file that cannot be read each become an
//! [`InputError`] with its own record code, and the run goes on.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::bail;
use mailex_core::{Issue, IssueCode, Record};

/// One input email, not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// Standard input (`-`).
    Stdin,
    /// A path given on the command line or found in a directory (it may not exist, or not be
    /// a regular file: [`InputSource::read`] tells).
    File(PathBuf),
    /// A directory (given, or below one given) that could not be listed.
    Unlisted(PathBuf, std::io::ErrorKind),
}

/// Why an input could not be read; it yields a `failed` record with [`InputError::code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The record code: `not_found`, `not_a_file` or `io_error`.
    pub code: IssueCode,
    /// What went wrong (no file content, only the kind of problem).
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl InputError {
    fn io(what: &str, error: &std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::NotFound => InputError {
                code: IssueCode::NotFound,
                message: "the input does not exist".to_owned(),
            },
            kind => InputError {
                code: IssueCode::IoError,
                message: format!("cannot {what}: {kind}"),
            },
        }
    }

    /// The `failed` record for input `source`.
    pub fn record(&self, source: String) -> Record {
        Record::failed(source, 0, Issue::new(self.code, self.message.clone()))
    }
}

/// What reading an input found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// The whole input, at most the limit.
    Bytes(Vec<u8>),
    /// The input is over the limit: its size (a file's), or the bytes read before giving up
    /// (stdin). Nothing more was read.
    TooLarge(u64),
}

impl InputSource {
    /// The name recorded in `source`.
    pub fn name(&self) -> String {
        match self {
            InputSource::Stdin => "-".to_owned(),
            InputSource::File(path) | InputSource::Unlisted(path, _) => path.display().to_string(),
        }
    }

    fn path(&self) -> Option<&Path> {
        match self {
            InputSource::Stdin => None,
            InputSource::File(path) | InputSource::Unlisted(path, _) => Some(path),
        }
    }

    /// Reads the whole input if it is at most `limit` bytes. A file over the limit is not read
    /// at all (its size says so); stdin is read up to `limit + 1` bytes. Only regular files are
    /// read: a FIFO, socket or device is refused without blocking on it.
    pub fn read(&self, limit: u64) -> Result<Contents, InputError> {
        match self {
            InputSource::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| InputError::io("read stdin", &e))?;
                Ok(if bytes.len() as u64 > limit {
                    Contents::TooLarge(bytes.len() as u64)
                } else {
                    Contents::Bytes(bytes)
                })
            }
            InputSource::File(path) => read_file(path, limit),
            InputSource::Unlisted(_, kind) => Err(InputError {
                code: IssueCode::IoError,
                message: format!("cannot list the directory: {kind}"),
            }),
        }
    }
}

fn read_file(path: &Path, limit: u64) -> Result<Contents, InputError> {
    // Refuse what is not a regular file before opening it (opening a FIFO blocks until a
    // writer comes), and check the opened file again in case the path changed in between.
    let metadata = std::fs::metadata(path).map_err(|e| InputError::io("read the input", &e))?;
    not_a_file(&metadata)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| InputError::io("open the input", &e))?;
    let metadata = file
        .metadata()
        .map_err(|e| InputError::io("read the input", &e))?;
    not_a_file(&metadata)?;
    if metadata.len() > limit {
        return Ok(Contents::TooLarge(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::io("read the input", &e))?;
    Ok(if bytes.len() as u64 > limit {
        Contents::TooLarge(bytes.len() as u64)
    } else {
        Contents::Bytes(bytes)
    })
}

fn not_a_file(metadata: &std::fs::Metadata) -> Result<(), InputError> {
    if metadata.is_file() {
        return Ok(());
    }
    let what = if metadata.is_dir() {
        "a directory"
    } else {
        special_kind(metadata)
    };
    Err(InputError {
        code: IssueCode::NotAFile,
        message: format!("the input is {what}, not a regular file; it was not read"),
    })
}

#[cfg(unix)]
fn special_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::Metadata) -> &'static str {
    "a special file"
}

/// Expands arguments: files as given (whether they exist is found out when they are read);
/// directories to the email files below them (recursively, sorted by path): names ending in
/// `.eml`, or with no extension at all (as SES stores them), hidden files skipped; `-` to
/// stdin (at most once).
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
            let mut found = Vec::new();
            walk(arg, &mut found);
            found.sort_by(|a, b| a.path().cmp(&b.path()));
            out.extend(found);
        } else {
            out.push(InputSource::File(arg.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, found: &mut Vec<InputSource>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            found.push(InputSource::Unlisted(dir.to_path_buf(), e.kind()));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                found.push(InputSource::Unlisted(dir.to_path_buf(), e.kind()));
                continue;
            }
        };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Symbolic links are not followed into directories (no cycles); a link to a file is
        // an input like any other.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, found);
        } else if is_email_name(&path) {
            found.push(InputSource::File(path));
        }
    }
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
    fn a_missing_input_is_an_input_that_fails_to_read() {
        let inputs = expand(&[PathBuf::from("/no/such/file.eml")]).unwrap();
        assert_eq!(inputs.len(), 1);
        let error = inputs[0].read(100).unwrap_err();
        assert_eq!(error.code, "not_found");
        assert!(expand(&[PathBuf::from("-"), PathBuf::from("-")]).is_err());
    }

    #[test]
    fn a_file_over_the_limit_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.eml");
        std::fs::write(&path, vec![b'x'; 1000]).unwrap();
        let input = InputSource::File(path);
        assert_eq!(input.read(999).unwrap(), Contents::TooLarge(1000));
        assert_eq!(input.read(1000).unwrap(), Contents::Bytes(vec![b'x'; 1000]));
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.eml");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let inputs = expand(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(inputs, vec![InputSource::File(fifo)]);
        let error = inputs[0].read(100).unwrap_err();
        assert_eq!(error.code, "not_a_file");
        assert!(error.message.contains("FIFO"), "{}", error.message);
        let device = InputSource::File(PathBuf::from("/dev/zero"));
        assert_eq!(device.read(100).unwrap_err().code, "not_a_file");
    }
}
