//! `mailex plugin new NAME` and `mailex plugin build [DIR]`: scaffold and build WASM
//! extractor plugins.
//!
//! - `new` writes a plugin crate that builds as is, on a machine with only this binary and a
//!   Rust toolchain: `Cargo.toml` (a `cdylib` depending on `mailex-plugin-sdk`), `Cargo.lock`
//!   (the SDK's pinned dependencies), `vendor/` (the SDK and the contract, see
//!   [`super::plugin_sdk`]), `src/lib.rs` (a small working plugin with unit tests),
//!   `mailex.toml` (a route running the plugin on its sample), `fixtures/sample.eml` with
//!   `fixtures/sample.expected.json` (the route's mail test) and `.gitignore`.
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

use super::plugin_sdk;

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
    /// Depend on this `mailex-plugin-sdk` crate (e.g. `plugins/sdk` of a mailex checkout)
    /// instead of the copy of the SDK this binary writes into `vendor/`.
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
    let sdk_path = match sdk {
        None => plugin_sdk::VENDORED_SDK_DIR.to_owned(),
        Some(path) if path.join("Cargo.toml").is_file() => std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_owned())
            .display()
            .to_string()
            .replace('\\', "/"),
        Some(path) => {
            eprintln!(
                "mailex plugin new: `{}` is not the mailex-plugin-sdk crate (no Cargo.toml)",
                path.display()
            );
            return Ok(2);
        }
    };
    std::fs::create_dir_all(root.join("src"))
        .with_context(|| format!("cannot create {}", root.display()))?;
    std::fs::create_dir_all(root.join("fixtures"))?;
    if sdk.is_none() {
        plugin_sdk::vendor(&root)?;
    }
    let crate_file = name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{name}", name)
            .replace("{crate_file}", &crate_file)
            .replace("{sdk}", &sdk_path)
    };
    std::fs::write(root.join("Cargo.toml"), fill(CARGO_TOML))?;
    std::fs::write(root.join("Cargo.lock"), plugin_sdk::scaffold_lock(name)?)?;
    std::fs::write(root.join("src/lib.rs"), fill(LIB_RS))?;
    std::fs::write(root.join("mailex.toml"), fill(MAILEX_TOML))?;
    std::fs::write(root.join("fixtures/sample.eml"), SAMPLE_EML)?;
    std::fs::write(
        root.join("fixtures/sample.expected.json"),
        SAMPLE_EXPECTED_JSON,
    )?;
    std::fs::write(root.join(".gitignore"), "/target\n")?;
    println!("created plugin `{name}` in {}", root.display());
    println!("next:");
    println!("  cd {}", root.display());
    println!(
        "  mailex plugin build                                # builds target/wasm32-wasip2/release/{crate_file}.wasm"
    );
    println!("  mailex extract --config mailex.toml fixtures/sample.eml");
    println!(
        "  mailex test --config mailex.toml                   # fixtures/*.eml against *.expected.json"
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
            .or_else(|| super::plugin_host_config().cache_dir),
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

# A standalone crate, even when created inside another Cargo workspace. vendor/ holds the SDK
# `mailex plugin new` wrote (a dependency, not a member).
[workspace]
exclude = ["vendor"]
"#;

const LIB_RS: &str = r#"//! mailex plugin `{name}`.
//!
//! Build:  mailex plugin build          (or: cargo build --release --target wasm32-wasip2)
//! Try:    mailex extract --config mailex.toml fixtures/sample.eml
//! Test:   mailex test --config mailex.toml     (each fixtures/NAME.eml against NAME.expected.json)
//!         cargo test                           (native unit tests of code that calls no host primitive)
//!
//! It reads the `Name:`, `Email:` and `Phone:` lines of the text view; change it to fit the
//! emails of your advertiser (docs/plugins.md lists the host primitives).

use mailex_plugin_sdk::{Config, ExtractError, Fields, Message, Plugin, export};

struct MyPlugin;

impl Plugin for MyPlugin {
    const NAME: &'static str = "{name}";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn extract(message: &Message, config: &Config) -> Result<Fields, ExtractError> {
        let region = config.get_or("phone_region", "US");
        let mut fields = Fields::new();
        if let Some(name) = labelled(&message.text, "name") {
            fields.name("name", name);
        }
        if let Some(email) = labelled(&message.text, "email") {
            if !fields.email("email", email) {
                log::warn!("the Email line is not an address");
            }
        }
        if let Some(phone) = labelled(&message.text, "phone") {
            fields.phone("phone", phone, Some(region));
        }
        if fields.is_empty() {
            return Err(ExtractError::NotApplicable("no Name/Email/Phone lines".into()));
        }
        log::debug!("{} fields", fields.len());
        Ok(fields)
    }
}

/// The value of the first `Label: value` line of `text` (the label compared
/// case-insensitively), if it is not empty.
fn labelled<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        (key.trim().eq_ignore_ascii_case(label) && !value.is_empty()).then_some(value)
    })
}

export!(MyPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labelled_lines() {
        let text = "New lead\nName: Jane Example\nEmail:\nPHONE : (202) 555-0143\n";
        assert_eq!(labelled(text, "name"), Some("Jane Example"));
        assert_eq!(labelled(text, "phone"), Some("(202) 555-0143"));
        assert_eq!(labelled(text, "email"), None, "an empty value is no value");
    }

    /// The host primitives (normalisers, regex, CSS, ADF) exist only while the plugin runs
    /// inside mailex. In a native test they panic, naming the primitive; `mailex test --config
    /// mailex.toml` runs the whole plugin, host included, on fixtures/.
    #[test]
    #[should_panic(expected = "called outside mailex")]
    fn host_primitives_run_inside_mailex_only() {
        Fields::new().phone("phone", "(202) 555-0143", Some("US"));
    }
}
"#;

const MAILEX_TOML: &str = r#"# Runs the plugin `{name}` on its sample mail:
#   mailex plugin build
#   mailex extract --config mailex.toml fixtures/sample.eml
#   mailex test --config mailex.toml
# Paths are relative to this file. docs/plugins.md explains every key.

[[route]]
name = "{name}"
sender = "leads@portal.example"
# The sample mail never went through your receiving mail server, so it carries no
# Authentication-Results header from a receiver you trust: with the default
# require_auth = "dmarc" its record would be `unauthenticated`. "none" is for trying the
# sample only; a route for real mail keeps "dmarc" and lists your receiver under [auth].
require_auth = "none"
extractor = "target/wasm32-wasip2/release/{crate_file}.wasm"
# `mailex test --config mailex.toml` runs the plugin on every NAME.eml here and compares the
# record with NAME.expected.json.
tests = "fixtures"

[route.settings]                 # the plugin's Config
phone_region = "US"
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

const SAMPLE_EXPECTED_JSON: &str = r#"{
  "status": "extracted",
  "fields": {
    "email": "jane@example.com",
    "name": { "full": "Jane Example", "first": "Jane", "last": "Example" },
    "phone": "+12025550143"
  }
}
"#;

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
        assert_eq!(
            run_new("my-leads", Some(dir.path()), None).expect("runs"),
            0
        );
        let root = dir.path().join("my-leads");
        let toml = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
        assert!(toml.contains("name = \"my-leads\""));
        assert!(toml.contains("mailex-plugin-sdk = { path = \"vendor/mailex-plugin-sdk\" }"));
        let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("const NAME: &'static str = \"my-leads\";"));
        let config = std::fs::read_to_string(root.join("mailex.toml")).expect("mailex.toml");
        assert!(config.contains("extractor = \"target/wasm32-wasip2/release/my_leads.wasm\""));
        for file in [
            "Cargo.lock",
            "vendor/mailex-plugin-sdk/Cargo.toml",
            "vendor/mailex-plugin-sdk/src/lib.rs",
            "vendor/wit/extractor.wit",
            "fixtures/sample.eml",
            "fixtures/sample.expected.json",
        ] {
            assert!(root.join(file).is_file(), "{file} missing");
        }
        assert_eq!(
            run_new("my-leads", Some(dir.path()), None).expect("runs"),
            2,
            "existing dir refused"
        );
    }
}
