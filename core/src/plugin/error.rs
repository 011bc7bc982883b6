//! Errors of the plugin host: loading (before any email) and calling (per email).

use crate::record::IssueCode;
use std::fmt;
use std::path::PathBuf;

/// Why a plugin could not be loaded, compiled or cached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin file could not be read.
    #[error("cannot read plugin `{path}`: {source}")]
    Read {
        /// The plugin file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a WebAssembly component (a core module, a precompiled artefact, or
    /// not wasm at all).
    #[error("`{path}` is not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The plugin file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The component was built for a contract major version this host does not implement.
    #[error(
        "plugin `{path}` was built for contract mailex:extractor@{found}, but this mailex implements @{supported}; \
         rebuild it with a mailex-plugin-sdk for contract {supported_major}.x"
    )]
    ContractMismatch {
        /// The plugin file.
        path: PathBuf,
        /// The version the plugin exports.
        found: String,
        /// The version the host implements.
        supported: String,
        /// The major version the host implements.
        supported_major: u64,
    },
    /// The component does not export the contract's `extractor` interface.
    #[error("plugin `{path}` does not export mailex:extractor/extractor (is it a mailex plugin?)")]
    MissingExport {
        /// The plugin file.
        path: PathBuf,
    },
    /// Compilation, linking or pre-instantiation failed (an import the host does not
    /// offer, an invalid component, ...).
    #[error("plugin `{path}` failed to {stage}: {message}")]
    Wasmtime {
        /// The plugin file.
        path: PathBuf,
        /// What the host was doing: `compile`, `link`, `instantiate`, `call info`.
        stage: &'static str,
        /// Wasmtime's message.
        message: String,
    },
    /// The `.cwasm` cache could not be written (reading problems just recompile).
    #[error("cannot write the compiled-plugin cache `{path}`: {source}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine could not be created (an invalid host configuration).
    #[error("cannot create the plugin engine: {0}")]
    Engine(String),
}

/// Why one call of a plugin failed. Each kind maps to a stable issue code on the record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallFailure {
    /// The plugin returned an error on purpose (`extract-error`).
    Plugin {
        /// `not_applicable`, `invalid_input`, `config` or `internal`.
        kind: &'static str,
        /// The plugin's message (redacted: see [`crate::redact`]).
        message: String,
    },
    /// The call ran past its wall-clock deadline (in the plugin's code, or in a host call made
    /// for it).
    Deadline {
        /// The deadline in milliseconds.
        deadline_ms: u64,
        /// The host call that was running when the deadline passed, if one was.
        host_call: Option<&'static str>,
    },
    /// The call needed more memory than its cap: the plugin's linear memory together with what
    /// the host holds for it (the HTML document, host-call arguments and results).
    Memory {
        /// The cap in MiB.
        limit_mib: u64,
        /// The host call whose allocation did not fit, if the cap was hit in one.
        host_call: Option<&'static str>,
    },
    /// The plugin overflowed the wasm stack (runaway recursion).
    StackOverflow,
    /// The plugin panicked; the SDK's hook reported the message.
    Panic {
        /// The panic message (redacted: see [`crate::redact`]).
        message: String,
    },
    /// The plugin returned more output than allowed.
    Output {
        /// The size of the output in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
    /// The plugin kept logging far past its log cap and was stopped.
    LogFlood {
        /// The cap in lines per call.
        limit: u32,
    },
    /// Any other trap (an `unreachable`, an out-of-bounds access, a failed host call).
    Trap {
        /// Wasmtime's description of the trap.
        message: String,
    },
    /// A fresh instance could not be created (e.g. the instance pool is exhausted).
    Instantiate {
        /// Wasmtime's message.
        message: String,
    },
}

impl CallFailure {
    /// The stable issue code for records: `plugin_deadline`, `plugin_memory`, ...
    pub fn code(&self) -> IssueCode {
        match self {
            CallFailure::Plugin { kind, .. } => match *kind {
                "not_applicable" => IssueCode::PluginNotApplicable,
                "invalid_input" => IssueCode::PluginInvalidInput,
                "config" => IssueCode::PluginConfig,
                _ => IssueCode::PluginError,
            },
            CallFailure::Deadline { .. } => IssueCode::PluginDeadline,
            CallFailure::Memory { .. } => IssueCode::PluginMemory,
            CallFailure::StackOverflow => IssueCode::PluginStackOverflow,
            CallFailure::Panic { .. } => IssueCode::PluginPanic,
            CallFailure::Output { .. } => IssueCode::PluginOutputLimit,
            CallFailure::LogFlood { .. } => IssueCode::PluginLogFlood,
            CallFailure::Trap { .. } => IssueCode::PluginTrap,
            CallFailure::Instantiate { .. } => IssueCode::PluginInstantiate,
        }
    }

    /// Whether the plugin itself reported the failure (as opposed to a trap or a limit).
    pub fn is_plugin_error(&self) -> bool {
        matches!(self, CallFailure::Plugin { .. })
    }
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Plugin { kind, message } => {
                write!(f, "the plugin reported {kind}: {message}")
            }
            CallFailure::Deadline {
                deadline_ms,
                host_call,
            } => {
                write!(
                    f,
                    "the plugin ran past its {deadline_ms} ms deadline{} and was stopped",
                    during(*host_call)
                )
            }
            CallFailure::Memory {
                limit_mib,
                host_call,
            } => {
                write!(
                    f,
                    "the plugin tried to use more than its {limit_mib} MiB memory cap{} and was stopped",
                    during(*host_call)
                )
            }
            CallFailure::StackOverflow => {
                write!(f, "the plugin overflowed its stack (runaway recursion)")
            }
            CallFailure::Panic { message } => write!(f, "the plugin panicked: {message}"),
            CallFailure::Output { size, limit } => {
                write!(
                    f,
                    "the plugin returned {size} bytes of fields, over the {limit} byte cap"
                )
            }
            CallFailure::LogFlood { limit } => {
                write!(
                    f,
                    "the plugin kept logging far past its cap of {limit} lines per email and was stopped"
                )
            }
            CallFailure::Trap { message } => write!(f, "the plugin trapped: {message}"),
            CallFailure::Instantiate { message } => {
                write!(f, "no instance of the plugin could be created: {message}")
            }
        }
    }
}

/// ` (in host call `name`)`, or nothing.
fn during(host_call: Option<&'static str>) -> String {
    host_call
        .map(|name| format!(" (in host call `{name}`)"))
        .unwrap_or_default()
}

/// Cut `s` to at most `max` bytes on a character boundary, marking the cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
