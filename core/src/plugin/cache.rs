//! Ahead-of-time compilation cache: `.cwasm` artefacts that only mailex writes and reads.
//!
//! A plugin is compiled once with [`wasmtime::Engine::precompile_component`] and the
//! artefact is stored as `<sha256 of the wasm>-<engine hash>.cwasm` in the cache directory.
//! The engine hash covers [`wasmtime::Engine::precompile_compatibility_hash`] (wasmtime's
//! version and every setting that affects code generation) and mailex's version, so a stale
//! artefact simply never matches and is recompiled.
//!
//! Deserializing an artefact runs its machine code, so mailex never deserializes a file it
//! did not write itself: each artefact carries a header (magic, format version, the SHA-256
//! of the wasm it was compiled from, the SHA-256 of the payload), the header must match the
//! plugin being loaded and the payload must hash to the recorded value, and on Unix the
//! cache directory must not be writable by group or others. Anything else (a foreign
//! `.cwasm`, a truncated file, a swapped payload) is ignored and recompiled.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::plugin::error::PluginError;

/// First bytes of every artefact mailex writes.
const MAGIC: &[u8; 8] = b"MAILEXCW";
/// Layout version of the artefact header.
const FORMAT: u8 = 1;
/// Header length: magic, format, wasm SHA-256, payload SHA-256.
const HEADER_LEN: usize = 8 + 1 + 32 + 32;

/// Where compiled plugins are cached.
#[derive(Debug, Clone)]
pub(crate) struct AotCache {
    dir: Option<PathBuf>,
    engine_hash: String,
}

/// How a component was obtained, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Deserialized from a `.cwasm` artefact mailex wrote earlier.
    Cache,
    /// Compiled from the `.wasm` now (and cached, if a cache directory is set).
    Compiled,
}

impl AotCache {
    /// A cache in `dir` (created with owner-only permissions), or none.
    pub(crate) fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        let engine_hash = format!("{:016x}", hasher.finish());
        let dir = dir.and_then(|d| match prepare_dir(&d) {
            Ok(()) => Some(d),
            Err(reason) => {
                tracing::warn!(dir = %d.display(), reason, "plugin cache disabled");
                None
            }
        });
        AotCache { dir, engine_hash }
    }

    /// The artefact path for a wasm file with this SHA-256.
    pub(crate) fn artefact_path(&self, wasm_sha256: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!(
            "{}-{}.cwasm",
            hex::encode(wasm_sha256),
            self.engine_hash
        )))
    }

    /// The component for `wasm`: from a valid artefact, or compiled now (and stored).
    pub(crate) fn component(
        &self,
        engine: &Engine,
        wasm: &[u8],
        wasm_sha256: &[u8; 32],
        origin: &Path,
    ) -> Result<(Component, CompileSource), PluginError> {
        let artefact = self.artefact_path(wasm_sha256);
        if let Some(path) = &artefact
            && let Some(component) = read_artefact(engine, path, wasm_sha256)
        {
            return Ok((component, CompileSource::Cache));
        }
        let payload = engine
            .precompile_component(wasm)
            .map_err(|e| PluginError::Wasmtime {
                path: origin.to_owned(),
                stage: "compile",
                message: first_line(&e),
            })?;
        if let Some(path) = &artefact {
            write_artefact(path, wasm_sha256, &payload)?;
        }
        // SAFETY: `payload` was produced just now by `precompile_component` on this engine.
        let component = unsafe { Component::deserialize(engine, &payload) }.map_err(|e| {
            PluginError::Wasmtime {
                path: origin.to_owned(),
                stage: "load compiled code",
                message: first_line(&e),
            }
        })?;
        Ok((component, CompileSource::Compiled))
    }
}

fn prepare_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(|e| e.to_string())?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        if mode & 0o022 != 0 {
            return Err(format!(
                "the directory is writable by others (mode {:o})",
                mode & 0o777
            ));
        }
    }
    Ok(())
}

/// The component in a valid artefact, or `None` (missing, foreign, stale or damaged).
fn read_artefact(engine: &Engine, path: &Path, wasm_sha256: &[u8; 32]) -> Option<Component> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() <= HEADER_LEN
        || &bytes[..8] != MAGIC
        || bytes[8] != FORMAT
        || &bytes[9..41] != wasm_sha256
    {
        tracing::debug!(path = %path.display(), "ignoring a plugin artefact with a foreign header");
        return None;
    }
    let payload = &bytes[HEADER_LEN..];
    if Sha256::digest(payload).as_slice() != &bytes[41..73] {
        tracing::warn!(path = %path.display(), "ignoring a damaged plugin artefact");
        return None;
    }
    wasmtime::Engine::detect_precompiled(payload)?;
    // SAFETY: the payload is byte-for-byte what `write_artefact` stored after
    // `precompile_component` on an engine with the same compatibility hash (the file name
    // carries it): the header matches this wasm and the payload's SHA-256 matches the one
    // recorded at write time, in a directory only this user can write.
    unsafe { Component::deserialize(engine, payload) }.ok()
}

fn write_artefact(path: &Path, wasm_sha256: &[u8; 32], payload: &[u8]) -> Result<(), PluginError> {
    let cache_err = |source| PluginError::Cache {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    // Write to a temporary file and rename, so a reader never sees half an artefact. The name
    // is unique per write (process and counter): two threads loading the same plugin at once
    // must not write (and rename) the same temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("artefact"),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut file = std::fs::File::create(&tmp).map_err(cache_err)?;
    file.write_all(MAGIC).map_err(cache_err)?;
    file.write_all(&[FORMAT]).map_err(cache_err)?;
    file.write_all(wasm_sha256).map_err(cache_err)?;
    file.write_all(Sha256::digest(payload).as_slice())
        .map_err(cache_err)?;
    file.write_all(payload).map_err(cache_err)?;
    file.sync_all().map_err(cache_err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(cache_err)
}

/// The first line of a wasmtime error (the rest is a backtrace or context chain).
pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    crate::plugin::error::truncate(text.lines().next().unwrap_or(""), 500)
}
