//! Deployed configs in S3: immutable, content-addressed versions and a pointer written last.
//!
//! ```text
//! s3://<bucket>/<prefix>current.json                         {"version": ID, "previous": [ID, ...], "pushed_at": ...}
//! s3://<bucket>/<prefix>versions/<ID>/manifest.json          {"version": ID, "files": [{"path", "sha256", "bytes"}]}
//! s3://<bucket>/<prefix>versions/<ID>/mailex.toml            and the rule files and plugins its routes name
//! ```
//!
//! A version holds exactly `mailex.toml` and the files its routes reference (no test fixtures:
//! loading does not need them). Its id is derived from the files' paths and SHA-256 digests, so
//! the same files give the same id. [`push`] uploads a version's files, then its manifest, and
//! moves the pointer last: the function never sees a half-uploaded config. The pointer keeps the
//! ids it named before (`previous`, newest first): when the current version does not load, a
//! cold start serves the newest previous one that does, and [`activate`] rolls back to any
//! version still stored.
//!
//! The function reads the pointer, the manifest and the listed files (verifying each digest);
//! `mailex-config` (and `mailex config`, `mailex check --config s3://...`) writes and checks them.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bridge;
use crate::error::HostError;
use crate::store::S3Store;

/// The pointer's key under the config prefix.
pub const POINTER: &str = "current.json";

/// How many earlier versions the pointer remembers.
pub const MAX_HISTORY: usize = 5;

/// Largest file of a config (plugins included).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Most files in one config.
const MAX_FILES: usize = 256;

/// Largest pointer or manifest.
const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// The pointer: which version is current, and which were before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// The current version's id.
    pub version: String,
    /// Earlier versions, newest first (at most [`MAX_HISTORY`]).
    #[serde(default)]
    pub previous: Vec<String>,
    /// When the pointer was written (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<String>,
}

/// A version's list of files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The version's id.
    pub version: String,
    /// Every file of the version, sorted by path; `mailex.toml` is one of them.
    pub files: Vec<ManifestFile>,
}

/// One file of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to `mailex.toml`'s folder, `/`-separated.
    pub path: String,
    /// SHA-256 (hex) of the content.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// A config in a local folder: exactly the files of one version (staged for upload, or
/// downloaded to be loaded).
#[derive(Debug)]
pub struct ConfigDir {
    dir: Dir,
    /// Its manifest.
    pub manifest: Manifest,
}

#[derive(Debug)]
enum Dir {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl ConfigDir {
    /// The folder.
    pub fn path(&self) -> &Path {
        match &self.dir {
            Dir::Temporary(dir) => dir.path(),
            Dir::Kept(path) => path,
        }
    }

    /// Its `mailex.toml`.
    pub fn config(&self) -> PathBuf {
        self.path().join("mailex.toml")
    }

    /// The version id.
    pub fn version(&self) -> &str {
        &self.manifest.version
    }

    /// Keeps a temporary folder alive inside a loaded engine (the files stay while it serves).
    pub(crate) fn into_temp_dir(self) -> Option<tempfile::TempDir> {
        match self.dir {
            Dir::Temporary(dir) => Some(dir),
            Dir::Kept(_) => None,
        }
    }
}

/// The key of a version's file.
fn version_key(prefix: &str, version: &str, path: &str) -> String {
    format!("{prefix}versions/{version}/{path}")
}

/// The id of a version made of `files`: 16 hex digits of the SHA-256 over their sorted paths
/// and digests.
pub fn version_id(files: &[ManifestFile]) -> String {
    let mut sorted: Vec<&ManifestFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hash = Sha256::new();
    for file in sorted {
        hash.update(file.path.as_bytes());
        hash.update([0]);
        hash.update(file.sha256.as_bytes());
        hash.update([b'\n']);
    }
    hex::encode(hash.finalize())[..16].to_owned()
}

/// A relative, `/`-separated path that stays inside its folder, or why not.
fn safe_relative(path: &str) -> Result<PathBuf, String> {
    let candidate = Path::new(path);
    if path.is_empty()
        || path.contains('\\')
        || candidate
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "`{path}` is not a plain relative path inside the config's folder"
        ));
    }
    Ok(candidate.to_path_buf())
}

/// Stages a config for upload: copies `mailex.toml` and the files its routes name (rule files,
/// plugins; never test fixtures) into `out` (a fresh temporary folder when `None`), then loads
/// the copy as the function will. What loads here is exactly what [`push`] uploads.
pub fn stage(config: &Path, out: Option<&Path>) -> Result<ConfigDir, HostError> {
    let engine = bridge::load_engine(config)
        .map_err(|e| HostError::config(format!("{} does not load:\n{e}", config.display())))?;
    let base = config.parent().unwrap_or(Path::new("."));
    let mut paths = vec!["mailex.toml".to_owned()];
    for route in engine.router().routes() {
        let spec = route.extractor_spec.as_str();
        if spec.starts_with("builtin:") {
            continue;
        }
        safe_relative(spec).map_err(|why| {
            HostError::config(format!(
                "route `{}`: extractor {why}; a deployed config holds only files under the folder of mailex.toml",
                route.name
            ))
        })?;
        paths.push(spec.to_owned());
    }
    paths.sort();
    paths.dedup();
    if paths.len() > MAX_FILES {
        return Err(HostError::config(format!(
            "the config names {} files; at most {MAX_FILES} are supported",
            paths.len()
        )));
    }
    let dir = match out {
        None => Dir::Temporary(
            tempfile::Builder::new()
                .prefix("mailex-stage-")
                .tempdir()
                .map_err(|e| HostError::io(std::env::temp_dir(), e))?,
        ),
        Some(path) => {
            let occupied = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some());
            if occupied {
                return Err(HostError::config(format!(
                    "{} is not empty; stage into a new folder",
                    path.display()
                )));
            }
            Dir::Kept(path.to_path_buf())
        }
    };
    let root = match &dir {
        Dir::Temporary(t) => t.path().to_path_buf(),
        Dir::Kept(p) => p.clone(),
    };
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let source = if path == "mailex.toml" {
            config.to_path_buf()
        } else {
            base.join(&path)
        };
        let bytes = std::fs::read(&source).map_err(|e| HostError::io(&source, e))?;
        let target = root.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| HostError::io(parent, e))?;
        }
        std::fs::write(&target, &bytes).map_err(|e| HostError::io(&target, e))?;
        files.push(ManifestFile {
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            path,
        });
    }
    let manifest = Manifest {
        version: version_id(&files),
        files,
    };
    let staged = ConfigDir { dir, manifest };
    bridge::load_engine(&staged.config()).map_err(|e| {
        HostError::config(format!(
            "the staged copy in {} does not load:\n{e}",
            staged.path().display()
        ))
    })?;
    Ok(staged)
}

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The version was uploaded and the pointer now names it.
    Activated(Pointer),
    /// The pointer already named this version; nothing was written.
    Unchanged(Pointer),
}

/// Uploads a staged config under `s3://bucket/prefix` and moves the pointer to it, last.
pub async fn push(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    staged: &ConfigDir,
) -> Result<Pushed, HostError> {
    let before = read_pointer(store, bucket, prefix).await?;
    let version = staged.version();
    if let Some(pointer) = &before
        && pointer.version == version
    {
        return Ok(Pushed::Unchanged(pointer.clone()));
    }
    for file in &staged.manifest.files {
        let local = staged.path().join(&file.path);
        let bytes = tokio::fs::read(&local)
            .await
            .map_err(|e| HostError::io(&local, e))?;
        store
            .put(
                bucket,
                &version_key(prefix, version, &file.path),
                "application/octet-stream",
                bytes,
            )
            .await?;
    }
    store
        .put_json(
            bucket,
            &version_key(prefix, version, "manifest.json"),
            to_json(&staged.manifest)?,
        )
        .await?;
    let pointer = next_pointer(before.as_ref(), version);
    store
        .put_json(bucket, &format!("{prefix}{POINTER}"), to_json(&pointer)?)
        .await?;
    Ok(Pushed::Activated(pointer))
}

/// Moves the pointer to a version already stored (a rollback), after checking that it
/// downloads, matches its manifest and loads.
pub async fn activate(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    version: &str,
) -> Result<Pointer, HostError> {
    let downloaded = download(store, bucket, prefix, version).await?;
    bridge::load_engine(&downloaded.config()).map_err(|e| {
        HostError::config(format!(
            "version {version} does not load: {}",
            bridge::describe_config_error(&e, downloaded.path())
        ))
    })?;
    let before = read_pointer(store, bucket, prefix).await?;
    let pointer = next_pointer(before.as_ref(), version);
    store
        .put_json(bucket, &format!("{prefix}{POINTER}"), to_json(&pointer)?)
        .await?;
    Ok(pointer)
}

fn next_pointer(before: Option<&Pointer>, version: &str) -> Pointer {
    let mut previous: Vec<String> = before
        .into_iter()
        .flat_map(|p| std::iter::once(p.version.clone()).chain(p.previous.iter().cloned()))
        .filter(|v| v != version)
        .collect();
    let mut seen = std::collections::HashSet::new();
    previous.retain(|v| seen.insert(v.clone()));
    previous.truncate(MAX_HISTORY);
    Pointer {
        version: version.to_owned(),
        previous,
        pushed_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, HostError> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| HostError::config(format!("cannot serialise: {e}")))
}

async fn get_document<T: for<'de> Deserialize<'de>>(
    store: &S3Store,
    bucket: &str,
    key: &str,
) -> Result<T, HostError> {
    let fetched = store.get_capped(bucket, key, MAX_DOCUMENT_BYTES).await?;
    if fetched.over_cap {
        return Err(HostError::config(format!(
            "s3://{bucket}/{key} is larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    serde_json::from_slice(&fetched.bytes)
        .map_err(|e| HostError::config(format!("s3://{bucket}/{key} is not valid: {e}")))
}

/// Reads the pointer; `None` when there is none yet.
pub async fn read_pointer(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
) -> Result<Option<Pointer>, HostError> {
    let key = format!("{prefix}{POINTER}");
    match get_document::<Pointer>(store, bucket, &key).await {
        Ok(pointer) => {
            check_version_id(&pointer.version)?;
            for v in &pointer.previous {
                check_version_id(v)?;
            }
            Ok(Some(pointer))
        }
        Err(HostError::Unreadable {
            code: mailex_core::IssueCode::SourceMissing,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn check_version_id(version: &str) -> Result<(), HostError> {
    if version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(HostError::config(format!(
            "`{version}` is not a config version id"
        )))
    }
}

/// Downloads a version into a fresh temporary folder, verifying every file against its
/// manifest. A version that is incomplete, altered or unsafe is a [`HostError::Config`].
pub async fn download(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    version: &str,
) -> Result<ConfigDir, HostError> {
    check_version_id(version)?;
    let manifest: Manifest = get_document(
        store,
        bucket,
        &version_key(prefix, version, "manifest.json"),
    )
    .await?;
    let location = format!("s3://{bucket}/{prefix}versions/{version}/");
    if manifest.version != version || version_id(&manifest.files) != version {
        return Err(HostError::config(format!(
            "{location}manifest.json does not describe version {version}"
        )));
    }
    if manifest.files.len() > MAX_FILES || !manifest.files.iter().any(|f| f.path == "mailex.toml") {
        return Err(HostError::config(format!(
            "{location}manifest.json must list mailex.toml and at most {MAX_FILES} files"
        )));
    }
    let dir = tempfile::Builder::new()
        .prefix("mailex-config-")
        .tempdir()
        .map_err(|e| HostError::io(std::env::temp_dir(), e))?;
    for file in &manifest.files {
        let relative = safe_relative(&file.path)
            .map_err(|why| HostError::config(format!("{location}manifest.json: {why}")))?;
        let fetched = store
            .get_capped(
                bucket,
                &version_key(prefix, version, &file.path),
                MAX_FILE_BYTES.min(file.bytes),
            )
            .await?;
        if fetched.over_cap
            || fetched.size != file.bytes
            || hex::encode(Sha256::digest(&fetched.bytes)) != file.sha256
        {
            return Err(HostError::config(format!(
                "{location}{} does not match the manifest (size or SHA-256)",
                file.path
            )));
        }
        let target = dir.path().join(relative);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| HostError::io(parent, e))?;
        }
        tokio::fs::write(&target, &fetched.bytes)
            .await
            .map_err(|e| HostError::io(&target, e))?;
    }
    Ok(ConfigDir {
        dir: Dir::Temporary(dir),
        manifest,
    })
}

/// The versions stored under the prefix (those with a manifest), sorted by id.
pub async fn list_versions(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, HostError> {
    let root = format!("{prefix}versions/");
    let mut versions: Vec<String> = store
        .list(bucket, &root)
        .await?
        .into_iter()
        .filter_map(|o| {
            let rest = o.key.strip_prefix(&root)?;
            let (version, file) = rest.split_once('/')?;
            (file == "manifest.json").then(|| version.to_owned())
        })
        .collect();
    versions.sort();
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, digest: &str) -> ManifestFile {
        ManifestFile {
            path: path.into(),
            sha256: digest.into(),
            bytes: 1,
        }
    }

    #[test]
    fn version_ids_depend_on_paths_and_contents_only() {
        let a = [file("mailex.toml", "aa"), file("rules/x.rules", "bb")];
        let b = [file("rules/x.rules", "bb"), file("mailex.toml", "aa")];
        assert_eq!(version_id(&a), version_id(&b));
        assert_eq!(version_id(&a).len(), 16);
        assert_ne!(
            version_id(&a),
            version_id(&[file("mailex.toml", "aa"), file("rules/x.rules", "bc")])
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in ["../x.rules", "/etc/passwd", "a/../../b", "", "a\\b", "./x"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
        assert!(safe_relative("rules/zillow.rules").is_ok());
    }

    #[test]
    fn the_pointer_remembers_earlier_versions_newest_first() {
        let first = next_pointer(None, "a");
        assert!(first.previous.is_empty());
        let second = next_pointer(Some(&first), "b");
        assert_eq!(second.previous, ["a"]);
        let back = next_pointer(Some(&second), "a");
        assert_eq!(back.previous, ["b"]);
        let mut p = back;
        for v in ["c", "d", "e", "f", "g", "h"] {
            p = next_pointer(Some(&p), v);
        }
        assert_eq!(p.previous.len(), MAX_HISTORY);
        assert_eq!(p.previous[0], "g");
    }
}
