//! `mailex plugin new NAME` and `mailex plugin build [DIR]`: scaffold and build WASM
//! extractor plugins.
//!
//! - `new` writes a plugin crate that builds as is: `Cargo.toml` (a `cdylib` depending on
//!   `mailex-plugin-sdk`), `src/lib.rs` (a small working plugin), `fixtures/sample.eml`
//!   and `.gitignore`.
//! - `build` runs `cargo build --release --target wasm32-wasip2` in the crate, then loads
//!   the component exactly as `mailex extract` would (is it a component, of a contract major
//!   version this mailex implements, do its imports link, does `info` answer) and
//!   precompiles it into the plugin cache, so the first email does not pay for compilation.
//!
//! Exit codes: 0 success, 1 the build or the validation failed, 2 unusable arguments.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use mailex_core::PluginLimits;
use mailex_core::plugin::{HostConfig, PluginHost};

/// `mailex plugin ...` subcommands, for the clap tree.
#[derive(Debug, clap::Subcommand)]
pub enum PluginCommand {
    /// Scaffold a plugin crate that builds as is.
    New(NewArgs),
    /// Build a plugin crate for wasm32-wasip2, validate it against the contract and precompile it.
    Build(BuildArgs),
}

/// Arguments of `mailex plugin new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Plugin name: lower-case letters, digits and `-`, starting with a letter.
    pub name: String,
    /// Directory to create the crate in (default: the current directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Path of the `mailex-plugin-sdk` crate (default: `$MAILEX_PLUGIN_SDK`, else the SDK of
    /// the mailex source tree this binary was built from).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// Arguments of `mailex plugin build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The plugin crate (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Where to put the precompiled `.cwasm` (default: the plugin cache, `$MAILEX_PLUGIN_CACHE`).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Run a `mailex plugin` subcommand; returns the exit code.
pub fn run(command: &PluginCommand) -> anyhow::Result<u8> {
    let code = match command {
        PluginCommand::New(args) => run_new(&args.name, args.dir.as_deref(), args.sdk.as_deref())?,
        PluginCommand::Build(args) => run_build(args.dir.as_deref(), args.cache_dir.as_deref())?,
    };
    Ok(u8::try_from(code).unwrap_or(1))
}

/// `mailex plugin new NAME`: create `DIR/NAME/` with a plugin crate that builds as is.
pub fn run_new(name: &str, dir: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<i32> {
    if !valid_name(name) {
        eprintln!(
            "mailex plugin new: `{name}` is not a valid plugin name (lower-case letters, digits and `-`, starting with a letter)"
        );
        return Ok(2);
    }
    let parent = match dir {
        Some(d) => d.to_owned(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let root = parent.join(name);
    if root.exists() {
        eprintln!("mailex plugin new: `{}` already exists", root.display());
        return Ok(2);
    }
    let Some(sdk) = sdk_path(sdk) else {
        eprintln!(
            "mailex plugin new: cannot find mailex-plugin-sdk; pass --sdk PATH or set MAILEX_PLUGIN_SDK to the plugins/sdk directory of the mailex sources"
        );
        return Ok(2);
    };
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("cannot create {}", root.display()))?;
    std::fs::create_dir_all(root.join("fixtures"))?;
    let sdk_toml = sdk.display().to_string().replace('\\', "/");
    std::fs::write(
        root.join("Cargo.toml"),
        CARGO_TOML
            .replace("{name}", name)
            .replace("{sdk}", &sdk_toml),
    )?;
    std::fs::write(root.join("src/lib.rs"), LIB_RS.replace("{name}", name))?;
    std::fs::write(root.join("fixtures/sample.eml"), SAMPLE_EML)?;
    std::fs::write(root.join(".gitignore"), "/target\n")?;
    println!("created plugin `{name}` in {}", root.display());
    println!("next:");
    println!("  cd {}", root.display());
    println!(
        "  mailex plugin build          # builds target/wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    );
    Ok(0)
}

/// `mailex plugin build [DIR]`: build, validate against the contract, precompile.
pub fn run_build(dir: Option<&Path>, cache_dir: Option<&Path>) -> anyhow::Result<i32> {
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    if !dir.join("Cargo.toml").is_file() {
        eprintln!("mailex plugin build: `{}` has no Cargo.toml", dir.display());
        return Ok(2);
    }
    let status = Command::new(cargo())
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(&dir)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        eprintln!(
            "mailex plugin build: cargo build failed (is the target installed? `rustup target add wasm32-wasip2`)"
        );
        return Ok(1);
    }
    let wasm = match built_wasm(&dir) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("mailex plugin build: {e:#}");
            return Ok(1);
        }
    };
    let config = HostConfig {
        cache_dir: cache_dir
            .map(Path::to_owned)
            .or_else(mailex_core::plugin::default_cache_dir),
        max_instances: 4,
        reload_interval: None,
        ..HostConfig::default()
    };
    let host = PluginHost::new(config).context("cannot create the plugin host")?;
    let plugin = match host.load(&wasm, &PluginLimits::default()) {
        Ok(plugin) => plugin,
        Err(e) => {
            eprintln!("mailex plugin build: the component does not satisfy the contract: {e}");
            return Ok(1);
        }
    };
    let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    println!(
        "built {} ({} {}, contract {}, {} KiB, sha256 {})",
        wasm.display(),
        plugin.plugin_name(),
        plugin.plugin_version(),
        plugin.contract_version(),
        size.div_ceil(1024),
        &plugin.sha256()[..16]
    );
    match host.precompile(&wasm) {
        Ok(Some(artefact)) => println!("precompiled to {}", artefact.display()),
        Ok(None) => println!(
            "not precompiled: no plugin cache directory (set MAILEX_PLUGIN_CACHE or --cache-dir)"
        ),
        Err(e) => {
            eprintln!("mailex plugin build: precompiling failed: {e}");
            return Ok(1);
        }
    }
    println!("use it in mailex.toml:  extractor = \"{}\"", wasm.display());
    Ok(0)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn sdk_path(explicit: Option<&Path>) -> Option<PathBuf> {
    let candidates = [
        explicit.map(Path::to_owned),
        std::env::var_os("MAILEX_PLUGIN_SDK").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("Cargo.toml").is_file())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The `.wasm` the crate in `dir` builds, from `cargo metadata`.
fn built_wasm(dir: &Path) -> anyhow::Result<PathBuf> {
    let out = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let target_dir = meta["target_directory"]
        .as_str()
        .context("no target_directory in cargo metadata")?;
    let manifest = std::fs::canonicalize(dir.join("Cargo.toml"))?;
    let packages = meta["packages"]
        .as_array()
        .context("no packages in cargo metadata")?;
    let package = packages
        .iter()
        .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .or_else(|| packages.first())
        .context("no package in this directory")?;
    let lib = package["targets"]
        .as_array()
        .and_then(|ts| {
            ts.iter().find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
            })
        })
        .context(
            "the crate has no cdylib target: add `[lib] crate-type = [\"cdylib\"]` to Cargo.toml",
        )?;
    let name = lib["name"]
        .as_str()
        .context("target without a name")?
        .replace('-', "_");
    let path = Path::new(target_dir)
        .join("wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    if !path.is_file() {
        bail!("cargo finished but {} does not exist", path.display());
    }
    Ok(std::fs::canonicalize(&path).unwrap_or(path))
}

const CARGO_TOML: &str = r#"[package]
name = "{name}"
description = "A mailex extractor plugin."
version = "0.1.0"
edition = "2024"
rust-version = "1.95"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
mailex-plugin-sdk = { path = "{sdk}" }
log = "0.4"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# A standalone crate, even when created inside another Cargo workspace.
[workspace]
"#;

const LIB_RS: &str = r#"//! mailex plugin `{name}`.
//!
//! Build:  mailex plugin build          (or: cargo build --release --target wasm32-wasip2)
//! Run:    mailex extract --config mailex.toml fixtures/sample.eml
//!         with a route `extractor = "target/wasm32-wasip2/release/<crate>.wasm"`
//!
//! It reads `Name:`, `Email:` and `Phone:` lines from the text view; change it to fit the
//! emails of your advertiser (see docs/plugins.md for the host primitives).

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export, host};

struct MyPlugin;

impl Plugin for MyPlugin {
    const NAME: &'static str = "{name}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let line = |label: &str| host::regex_group(&format!(r"(?mi)^\s*{label}\s*:\s*(.+?)\s*$"), &message.text, 1);

        let mut fields = Fields::new();
        if let Some(name) = line("name")? {
            fields.name("name", &name);
        }
        if let Some(email) = line("e-?mail")? {
            if !fields.email("email", &email) {
                log::warn!("the Email line is not an address");
            }
        }
        if let Some(phone) = line("phone")? {
            fields.phone("phone", &phone, Some(region));
        }
        if fields.is_empty() {
            return Err(ExtractError::NotApplicable("no Name/Email/Phone lines".into()));
        }
        Ok(fields)
    }
}

export!(MyPlugin);
"#;

const SAMPLE_EML: &str = "From: Leads <leads@portal.example>\r\n\
To: sales@advertiser.example\r\n\
Subject: New lead\r\n\
Message-ID: <sample-0001@portal.example>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
New lead from the portal\r\n\
Name: Jane Example\r\n\
Email: jane@example.com\r\n\
Phone: (202) 555-0143\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names() {
        assert!(valid_name("zillow-rentals"));
        assert!(valid_name("adf2"));
        assert!(!valid_name("Zillow"));
        assert!(!valid_name("2fast"));
        assert!(!valid_name("bad_name"));
        assert!(!valid_name("trailing-"));
    }

    #[test]
    fn scaffold_files_are_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
        assert_eq!(
            run_new("my-leads", Some(dir.path()), Some(&sdk)).expect("runs"),
            0
        );
        let toml =
            std::fs::read_to_string(dir.path().join("my-leads/Cargo.toml")).expect("Cargo.toml");
        assert!(toml.contains("name = \"my-leads\"") && toml.contains("mailex-plugin-sdk"));
        let lib = std::fs::read_to_string(dir.path().join("my-leads/src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("const NAME: &'static str = \"my-leads\";"));
        assert_eq!(
            run_new("my-leads", Some(dir.path()), Some(&sdk)).expect("runs"),
            2,
            "existing dir refused"
        );
    }
}
