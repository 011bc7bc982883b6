//! What the plugin integration tests share: where the workspace and the built plugins are, and
//! one plugin host per test binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mailex_core::plugin::{HostConfig, PluginHost};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// A plugin built by `scripts/build-plugins.sh` into `target/plugins/`.
pub fn wasm(name: &str) -> PathBuf {
    let path = root().join("target/plugins").join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh before cargo test",
        path.display()
    );
    path
}

/// One host for the whole test binary, caching compiled plugins in a private temp dir.
pub fn host() -> &'static PluginHost {
    static HOST: OnceLock<(PluginHost, tempfile::TempDir)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let config = HostConfig {
                cache_dir: Some(dir.path().join("cache")),
                ..HostConfig::default()
            };
            (PluginHost::new(config).expect("plugin host"), dir)
        })
        .0
}
