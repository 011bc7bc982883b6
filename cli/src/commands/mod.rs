//! One module per subcommand. Each exposes an argument struct and a `run` returning the exit code.

pub mod bless;
pub mod check;
pub mod companion;
pub mod draft;
pub mod expected;
pub mod extract;
pub mod plugin;
pub mod plugin_sdk;
pub mod route;
pub mod show;
pub mod test;

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
    mailex_core::Engine::load(config).map_err(|e| {
        eprintln!("{e}");
        2
    })
}
