//! The plugin SDK that `mailex plugin new` writes into a new plugin crate, so the crate builds
//! on a machine that has only this binary and a Rust toolchain.
//!
//! The binary carries, from the mailex sources it was built from: the SDK's sources
//! (`plugins/sdk`), the contract (`plugins/wit/extractor.wit`), and the plugin workspace's
//! `Cargo.lock`. A new crate gets
//!
//! - `vendor/mailex-plugin-sdk/` (the SDK, its manifest made standalone: the values it
//!   inherits from the plugin workspace written out) and `vendor/wit/extractor.wit`, in the
//!   same relative layout as in the sources (the SDK reads `../wit`);
//! - a `Cargo.lock` holding exactly the packages the SDK and `log` need, at the versions the
//!   SDK is built and tested with, so the first build resolves nothing (`cargo build --locked`
//!   works, and `--offline` too once those crates are in the local cargo cache).

use anyhow::{Context, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

/// The SDK's package name.
pub const SDK_PACKAGE: &str = "mailex-plugin-sdk";

/// Where the SDK goes in a new plugin crate (the dependency's `path`).
pub const VENDORED_SDK_DIR: &str = "vendor/mailex-plugin-sdk";

/// The SDK's files, relative to `plugins/sdk` (a test checks the list is complete).
pub const SDK_FILES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../../plugins/sdk/README.md")),
    (
        "src/lib.rs",
        include_str!("../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "src/fields.rs",
        include_str!("../../../plugins/sdk/src/fields.rs"),
    ),
    (
        "src/host.rs",
        include_str!("../../../plugins/sdk/src/host.rs"),
    ),
    (
        "src/imports.rs",
        include_str!("../../../plugins/sdk/src/imports.rs"),
    ),
    (
        "src/logger.rs",
        include_str!("../../../plugins/sdk/src/logger.rs"),
    ),
];

/// The contract, `plugins/wit/extractor.wit`.
pub const WIT: &str = include_str!("../../../plugins/wit/extractor.wit");

const SDK_MANIFEST: &str = include_str!("../../../plugins/sdk/Cargo.toml");
const WORKSPACE_MANIFEST: &str = include_str!("../../../plugins/Cargo.toml");
const WORKSPACE_LOCK: &str = include_str!("../../../plugins/Cargo.lock");

/// Writes the SDK and the contract under `crate_dir/vendor/`.
pub fn vendor(crate_dir: &Path) -> anyhow::Result<()> {
    let sdk = crate_dir.join(VENDORED_SDK_DIR);
    for (rel, text) in SDK_FILES {
        let path = sdk.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    std::fs::write(sdk.join("Cargo.toml"), standalone_sdk_manifest()?)
        .context("cannot write the SDK's Cargo.toml")?;
    let wit = crate_dir.join("vendor/wit");
    std::fs::create_dir_all(&wit).with_context(|| format!("cannot create {}", wit.display()))?;
    std::fs::write(wit.join("extractor.wit"), WIT).context("cannot write the contract")?;
    Ok(())
}

/// The SDK's `Cargo.toml` with every `workspace = true` value replaced by the plugin
/// workspace's value, so it builds outside that workspace.
pub fn standalone_sdk_manifest() -> anyhow::Result<String> {
    let workspace: toml::Table = WORKSPACE_MANIFEST
        .parse()
        .context("plugins/Cargo.toml (embedded)")?;
    let mut manifest: toml::Table = SDK_MANIFEST
        .parse()
        .context("plugins/sdk/Cargo.toml (embedded)")?;
    let inherited = |section: &str, key: &str| -> anyhow::Result<toml::Value> {
        workspace
            .get("workspace")
            .and_then(|w| w.get(section))
            .and_then(|s| s.get(key))
            .cloned()
            .ok_or_else(|| anyhow!("plugins/Cargo.toml has no workspace.{section}.{key}"))
    };
    for (section, from) in [("package", "package"), ("dependencies", "dependencies")] {
        let Some(table) = manifest.get_mut(section).and_then(|t| t.as_table_mut()) else {
            continue;
        };
        for (key, value) in table.iter_mut() {
            let inherits = value
                .get("workspace")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            if inherits {
                *value = inherited(from, key)?;
            }
        }
    }
    let body = toml::to_string(&manifest).context("the SDK's manifest")?;
    Ok(format!(
        "# mailex-plugin-sdk, written by `mailex plugin new` (mailex {}); the contract is\n\
         # ../wit/extractor.wit. To upgrade, replace vendor/ with the one a newer `mailex plugin new` writes.\n\
         {body}",
        env!("CARGO_PKG_VERSION")
    ))
}

/// One `[[package]]` of a lock file.
#[derive(Debug, Clone)]
struct LockedPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    /// `(name, version)` of each dependency, in lock order.
    dependencies: Vec<(String, String)>,
}

/// The `Cargo.lock` of a new plugin crate `crate_name` (version 0.1.0) depending on the SDK
/// and `log`: the packages of the plugin workspace's lock those two need, at its versions.
pub fn scaffold_lock(crate_name: &str) -> anyhow::Result<String> {
    let packages = parse_lock(WORKSPACE_LOCK)?;
    let by_name = |name: &str| -> Vec<&LockedPackage> {
        packages.iter().filter(|p| p.name == name).collect()
    };
    let root_deps = ["log", SDK_PACKAGE];
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    let mut queue: VecDeque<(String, String)> = VecDeque::new();
    for name in root_deps {
        match by_name(name).as_slice() {
            [p] => queue.push_back((p.name.clone(), p.version.clone())),
            found => bail!(
                "plugins/Cargo.lock holds {} versions of `{name}`; expected one",
                found.len()
            ),
        }
    }
    while let Some(id) = queue.pop_front() {
        if !wanted.insert(id.clone()) {
            continue;
        }
        let package = packages
            .iter()
            .find(|p| p.name == id.0 && p.version == id.1)
            .ok_or_else(|| anyhow!("plugins/Cargo.lock lacks {} {}", id.0, id.1))?;
        queue.extend(package.dependencies.iter().cloned());
    }
    let root = LockedPackage {
        name: crate_name.to_owned(),
        version: "0.1.0".to_owned(),
        source: None,
        checksum: None,
        dependencies: root_deps
            .iter()
            .filter_map(|name| wanted.iter().find(|(n, _)| n == name).cloned())
            .collect(),
    };
    let mut out: Vec<&LockedPackage> = packages
        .iter()
        .filter(|p| wanted.contains(&(p.name.clone(), p.version.clone())))
        .collect();
    out.push(&root);
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &out {
        *versions.entry(p.name.as_str()).or_default() += 1;
    }
    let mut text = String::from(
        "# This file is automatically @generated by Cargo.\n\
         # It is not intended for manual editing.\n\
         version = 4\n",
    );
    for p in out {
        let _ = write!(
            text,
            "\n[[package]]\nname = \"{}\"\nversion = \"{}\"\n",
            p.name, p.version
        );
        if let Some(source) = &p.source {
            let _ = writeln!(text, "source = \"{source}\"");
        }
        if let Some(checksum) = &p.checksum {
            let _ = writeln!(text, "checksum = \"{checksum}\"");
        }
        if !p.dependencies.is_empty() {
            text.push_str("dependencies = [\n");
            for (name, version) in &p.dependencies {
                if versions.get(name.as_str()).copied().unwrap_or(0) > 1 {
                    let _ = writeln!(text, " \"{name} {version}\",");
                } else {
                    let _ = writeln!(text, " \"{name}\",");
                }
            }
            text.push_str("]\n");
        }
    }
    Ok(text)
}

fn parse_lock(text: &str) -> anyhow::Result<Vec<LockedPackage>> {
    let lock: toml::Table = text.parse().context("plugins/Cargo.lock (embedded)")?;
    let entries = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .context("plugins/Cargo.lock has no packages")?;
    let string =
        |v: &toml::Value, key: &str| v.get(key).and_then(|s| s.as_str()).map(str::to_owned);
    let mut packages: Vec<LockedPackage> = entries
        .iter()
        .map(|entry| {
            Ok(LockedPackage {
                name: string(entry, "name").context("a lock entry without a name")?,
                version: string(entry, "version").context("a lock entry without a version")?,
                source: string(entry, "source"),
                checksum: string(entry, "checksum"),
                dependencies: Vec::new(),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    // A dependency is written `name` when the lock holds one version of it, else `name version`.
    for (i, entry) in entries.iter().enumerate() {
        let deps = entry
            .get("dependencies")
            .and_then(toml::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut resolved = Vec::new();
        for dep in deps {
            let dep = dep.as_str().context("a dependency that is not a string")?;
            let mut words = dep.split_whitespace();
            let name = words.next().context("an empty dependency")?;
            let version = match words.next() {
                Some(v) => v.to_owned(),
                None => packages
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.version.clone())
                    .ok_or_else(|| anyhow!("plugins/Cargo.lock lacks `{name}`"))?,
            };
            resolved.push((name.to_owned(), version));
        }
        packages[i].dependencies = resolved;
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sdk_file_is_embedded() {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
        let mut on_disk = vec!["README.md".to_owned()];
        for entry in std::fs::read_dir(sdk.join("src")).unwrap().flatten() {
            on_disk.push(format!("src/{}", entry.file_name().to_string_lossy()));
        }
        on_disk.sort();
        let mut embedded: Vec<String> = SDK_FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "SDK_FILES must list every file of plugins/sdk/src"
        );
    }

    #[test]
    fn the_sdk_manifest_stands_alone() {
        let manifest = standalone_sdk_manifest().unwrap();
        assert!(!manifest.contains("workspace = true"), "{manifest}");
        let table: toml::Table = manifest.parse().unwrap();
        assert_eq!(table["package"]["name"].as_str(), Some(SDK_PACKAGE));
        assert_eq!(
            table["dependencies"]["wit-bindgen"].as_str(),
            Some("=0.61.1")
        );
    }

    #[test]
    fn the_lock_holds_what_the_sdk_needs_and_nothing_else() {
        let lock = scaffold_lock("demo-leads").unwrap();
        let packages = parse_lock(&lock).unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        for needed in ["demo-leads", SDK_PACKAGE, "log", "wit-bindgen"] {
            assert!(names.contains(&needed), "{needed} missing:\n{lock}");
        }
        for other in ["acme-leads", "zillow-rentals", "infinite-loop"] {
            assert!(!names.contains(&other), "{other} leaked into the lock");
        }
        let root = packages.iter().find(|p| p.name == "demo-leads").unwrap();
        let deps: Vec<&str> = root.dependencies.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(deps, ["log", SDK_PACKAGE]);
        assert!(lock.starts_with("# This file is automatically @generated by Cargo."));
    }
}
