//! One module per subcommand. Each exposes an argument struct and a `run` returning the exit code.

pub mod analytics;
pub mod bless;
pub mod check;
pub mod companion;
pub mod deliver;
pub mod draft;
pub mod expected;
pub mod extract;
pub mod plugin;
pub mod plugin_sdk;
pub mod route;
pub mod secrets;
pub mod show;
pub mod test;

/// How a command prints its result: for people, or as one JSON document for scripts and CI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people (the default).
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// `mailex schema`: prints the JSON Schema of records.
pub fn schema() -> anyhow::Result<u8> {
    println!(
        "{}",
        serde_json::to_string_pretty(&mailex_core::record_schema())?
    );
    Ok(0)
}

/// Loads the engine, or prints every configuration problem.
pub fn load_engine(config: &std::path::Path) -> Result<mailex_core::Engine, u8> {
    mailex_core::Engine::load_with(config, &load_options()).map_err(|e| {
        eprintln!("{e}");
        2
    })
}

/// How the CLI loads configurations: plugins compiled once into the cache directory its
/// environment names (`MAILEX_PLUGIN_CACHE`, `XDG_CACHE_HOME`, `HOME`).
pub fn load_options() -> mailex_core::LoadOptions {
    mailex_core::LoadOptions {
        plugins: mailex_core::plugin::LazyPluginHost::new(plugin_host_config()),
    }
}

/// The CLI's plugin host settings: the defaults, with the cache directory of the environment.
pub fn plugin_host_config() -> mailex_core::plugin::HostConfig {
    mailex_core::plugin::HostConfig {
        cache_dir: mailex_core::plugin::cache_dir_from_env(|name| std::env::var_os(name)),
        ..mailex_core::plugin::HostConfig::default()
    }
}
