//! Contract compatibility: a plugin built for an earlier 1.x contract loads and runs on this
//! host (minor versions only add).

use std::path::Path;

use mailex_core::{FieldValue, Status};
use mailex_tests::workspace_root;

/// `plugins/compat/contract-1-0`, built from the frozen 1.0.0 WIT (it predates the `text`
/// interface of 1.1.0), loads through a config and extracts with its 1.0.0 imports.
#[test]
fn a_plugin_built_for_contract_1_0_runs_on_this_host() {
    let root = workspace_root();
    let wasm = root.join("target/plugins/compat_contract_1_0.wasm");
    assert!(
        wasm.is_file(),
        "{} missing: run scripts/build-plugins.sh (the test command does)",
        wasm.display()
    );
    let frozen =
        std::fs::read_to_string(root.join("plugins/compat/contract-1-0/wit/extractor.wit"))
            .unwrap();
    assert!(frozen.contains("package mailex:extractor@1.0.0;"));
    assert!(
        !frozen.contains("interface text"),
        "the 1.0.0 contract is frozen"
    );
    let current = std::fs::read_to_string(root.join("plugins/wit/extractor.wit")).unwrap();
    assert!(
        !current.contains("package mailex:extractor@1.0.0;"),
        "the test proves nothing unless the current contract is newer"
    );

    let config = format!(
        "[[route]]\nname = \"acme\"\nsender = \"*@leads.acme.example\"\nrequire_auth = \"none\"\nextractor = {:?}\n",
        wasm.display().to_string()
    );
    let engine = mailex_core::Engine::from_toml_str(&config, Path::new("compat.toml"), &root)
        .unwrap_or_else(|e| panic!("the 1.0.0 plugin does not load:\n{e}"));
    let record = mailex_tests::process_file(
        &engine,
        &root.join("plugins/examples/acme-leads/fixtures/lead-card.eml"),
    );
    assert_eq!(record.status, Status::Extracted, "{:?}", record.errors);
    let extractor = record.extractor.as_ref().expect("extractor named");
    assert_eq!(extractor.name, "compat-contract-1-0");
    assert_eq!(
        record.fields.get("name"),
        Some(&FieldValue::Text("Dana Whitfield".into()))
    );
    assert_eq!(
        record.fields.get("phone"),
        Some(&FieldValue::Text("+13125550187".into()))
    );
}
