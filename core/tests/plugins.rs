//! Integration tests of the WASM plugin host on real plugins and real emails.
//!
//! The plugins are built by `scripts/build-plugins.sh` (the test command runs it first) into
//! `target/plugins/`. The rental-platform fixtures are the anonymised corpus emails in
//! `tests/fixtures/leads/`; the ADF fixtures live beside the ADF example plugin.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{host, root, wasm};
use mailex_core::plugin::{CallFailure, HostConfig, PluginError, PluginExtractor, PluginHost};
use mailex_core::record::FieldValue;
use mailex_core::{Completeness, Email, PluginLimits};

fn lead_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/leads").join(name)
}

fn adf_fixture(name: &str) -> PathBuf {
    root().join("plugins/examples/adf-cars/fixtures").join(name)
}

/// Limits for well-behaved plugins: the default deadline is generous in release builds, but
/// a debug test binary on a busy machine can be slow in the host primitives.
fn relaxed() -> PluginLimits {
    PluginLimits {
        deadline_ms: 2_000,
        ..PluginLimits::default()
    }
}

fn load(name: &str) -> PluginExtractor {
    let limits = if name.starts_with("hostile_") {
        PluginLimits::default()
    } else {
        relaxed()
    };
    host()
        .load(&wasm(name), &limits)
        .unwrap_or_else(|e| panic!("load {name}: {e}"))
}

fn run_file(plugin: &PluginExtractor, path: &Path) -> mailex_core::plugin::RunReport {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let email = Email::parse(&raw).expect("parses as an email");
    plugin.run(&email, &BTreeMap::new())
}

fn run_raw(plugin: &PluginExtractor, raw: &[u8]) -> mailex_core::plugin::RunReport {
    let email = Email::parse(raw).expect("parses as an email");
    plugin.run(&email, &BTreeMap::new())
}

fn text(fields: &BTreeMap<String, FieldValue>, name: &str) -> String {
    fields
        .get(name)
        .map(FieldValue::to_display_string)
        .unwrap_or_else(|| format!("<missing {name}>"))
}

/// Compare the fields the corpus' expected file lists.
fn assert_expected(report: &mailex_core::plugin::RunReport, expected_file: &Path, keys: &[&str]) {
    assert!(
        report.failure.is_none(),
        "{}: {:?}",
        expected_file.display(),
        report.failure
    );
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(expected_file).expect("expected file"))
            .expect("json");
    for key in keys {
        let want = expected[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", expected_file.display()));
        let got = text(&report.extraction.fields, key);
        assert_eq!(got, want, "field `{key}` of {}", expected_file.display());
    }
}

#[test]
fn zillow_plugin_matches_expected_fields() {
    let plugin = load("zillow_rentals");
    assert_eq!(plugin.plugin_name(), "zillow-rentals");
    for name in ["zillow", "zillow-2", "zillow-special-chars"] {
        let report = run_file(&plugin, &lead_fixture(&format!("{name}.eml")));
        assert_expected(
            &report,
            &lead_fixture(&format!("{name}.expected.json")),
            &[
                "name",
                "email",
                "phone",
                "property",
                "listing_address",
                "message",
            ],
        );
        assert_eq!(report.extraction.completeness, Completeness::Complete);
        assert!(report.extraction.sensitive.contains(&"email".to_owned()));
    }
}

#[test]
fn facebook_zapier_plugin_matches_expected_fields() {
    let plugin = load("facebook_zapier");
    for name in ["zapiermail", "zapiermail-format-2"] {
        let report = run_file(&plugin, &lead_fixture(&format!("{name}.eml")));
        assert_expected(
            &report,
            &lead_fixture(&format!("{name}.expected.json")),
            &["name", "email", "phone"],
        );
    }
}

#[test]
fn plugin_error_is_not_a_trap() {
    let plugin = load("facebook_zapier");
    let report = run_raw(
        &plugin,
        b"From: someone@example.com\r\nSubject: hello\r\n\r\nNothing here.\r\n",
    );
    let failure = report.failure.expect("not applicable");
    assert!(failure.is_plugin_error(), "{failure:?}");
    assert_eq!(failure.code(), "plugin_not_applicable");
    assert_eq!(report.extraction.completeness, Completeness::Failed);
}

#[test]
fn adf_plugin_reads_a_trade_in_vehicle() {
    let plugin = load("adf_cars");
    let report = run_file(&plugin, &adf_fixture("trade-in-vehicle.eml"));
    assert!(report.failure.is_none(), "{:?}", report.failure);
    let f = &report.extraction.fields;
    assert_eq!(text(f, "name"), "Dana Whitfield");
    assert_eq!(text(f, "email"), "dana.whitfield@example.com");
    assert_eq!(text(f, "phone"), "+16145550142");
    assert_eq!(text(f, "vehicle_make"), "Toyota");
    assert_eq!(text(f, "vehicle_price"), "32500.00 USD");
    assert_eq!(text(f, "has_trade_in"), "true");
    assert_eq!(text(f, "trade_in_make"), "Honda");
    assert_eq!(text(f, "trade_in_mileage"), "84000");
    assert_eq!(text(f, "trade_in_value"), "9500.00 USD");
    assert_eq!(text(f, "trade_in_source"), "vehicle");
    assert_eq!(text(f, "dealer"), "Example Motors");
}

#[test]
fn adf_plugin_reconciles_a_trade_in_from_comments() {
    let plugin = load("adf_cars");
    let report = run_file(&plugin, &adf_fixture("trade-in-comments.eml"));
    assert!(report.failure.is_none(), "{:?}", report.failure);
    let f = &report.extraction.fields;
    assert_eq!(text(f, "name"), "Morgan Reyes");
    assert_eq!(
        text(f, "phone"),
        "+15125550177",
        "the fax number must not win"
    );
    assert_eq!(text(f, "vehicle_model"), "F-150");
    assert_eq!(text(f, "trade_in_year"), "2012");
    assert_eq!(text(f, "trade_in_make"), "Chevrolet");
    assert_eq!(text(f, "trade_in_model"), "Silverado");
    assert_eq!(text(f, "trade_in_mileage"), "142300");
    assert_eq!(text(f, "trade_in_value"), "7250.00 USD");
    assert_eq!(text(f, "trade_in_source"), "comments");
    assert_eq!(text(f, "request_date"), "2026-11-21");
}

#[test]
fn adf_plugin_drops_a_trade_in_that_is_the_wanted_car() {
    let plugin = load("adf_cars");
    let report = run_file(&plugin, &adf_fixture("trade-in-duplicate.eml"));
    assert!(report.failure.is_none(), "{:?}", report.failure);
    let f = &report.extraction.fields;
    assert_eq!(text(f, "has_trade_in"), "false");
    assert!(!f.contains_key("trade_in_make"));
    assert_eq!(text(f, "phone"), "+442079460958");
}

const BEHAVE: &[u8] = b"From: tests@example.com\r\nSubject: behave\r\n\r\nok\r\n";
const MISBEHAVE: &[u8] = b"From: tests@example.com\r\nSubject: misbehave\r\n\r\nok\r\n";

/// The hostile plugin fails with `code` (never hangs: those that loop are ended only by a
/// limit), and the next email extracts.
fn assert_contained(name: &str, code: &str) -> CallFailure {
    let plugin = load(name);
    let report = run_raw(&plugin, MISBEHAVE);
    let failure = report
        .failure
        .clone()
        .unwrap_or_else(|| panic!("{name} did not fail"));
    assert_eq!(failure.code(), code, "{name}: {failure}");
    assert!(!failure.is_plugin_error());
    assert_eq!(report.extraction.completeness, Completeness::Failed);
    let message = &report.extraction.errors[0].message;
    assert!(
        message.contains(&format!(
            "hostile-{}",
            name.trim_start_matches("hostile_").replace('_', "-")
        )),
        "{message}"
    );

    let next = run_raw(&plugin, BEHAVE);
    assert!(
        next.failure.is_none(),
        "{name}: next email failed: {:?}",
        next.failure
    );
    assert_eq!(text(&next.extraction.fields, "status"), "ok");
    failure
}

#[test]
fn hostile_infinite_loop_hits_the_deadline() {
    let failure = assert_contained("hostile_infinite_loop", "plugin_deadline");
    assert!(failure.to_string().contains("100 ms"), "{failure}");
}

#[test]
fn hostile_memory_bomb_hits_the_memory_cap() {
    let failure = assert_contained("hostile_memory_bomb", "plugin_memory");
    assert!(failure.to_string().contains("64 MiB"), "{failure}");
}

#[test]
fn hostile_deep_recursion_overflows_the_stack() {
    assert_contained("hostile_deep_recursion", "plugin_stack_overflow");
}

#[test]
fn hostile_huge_output_hits_the_output_cap() {
    assert_contained("hostile_huge_output", "plugin_output_limit");
}

#[test]
fn hostile_log_flood_is_stopped() {
    assert_contained("hostile_log_flood", "plugin_log_flood");
}

#[test]
fn hostile_panic_reports_its_message() {
    let failure = assert_contained("hostile_panic", "plugin_panic");
    assert!(
        failure.to_string().contains("deliberate panic"),
        "{failure}"
    );
}

/// A call never sees an earlier call's memory, although the pooling allocator hands the next
/// call the same slot and, since mailex keeps up to 2 MiB of each memory resident between
/// calls, the same pages: wasmtime resets them to the module's initial image. The plugin
/// leaves a secret in a `static` and in 256 KiB of heap, then searches all of its memory for
/// it in the next calls; the control count (the reversed secret the host copied in with the
/// message) shows that the search reads memory at all.
#[test]
fn hostile_memory_residue_finds_no_earlier_call() {
    let plugin = load("hostile_memory_residue");
    for round in 0..4 {
        let secret = format!("residue-{round}-{}", std::process::id());
        let keep = format!("From: tests@example.com\r\nSubject: keep:{secret}\r\n\r\nok\r\n");
        let kept = run_raw(&plugin, keep.as_bytes());
        assert!(kept.failure.is_none(), "{:?}", kept.failure);
        assert_eq!(text(&kept.extraction.fields, "status"), "kept");

        let reversed: String = secret.chars().rev().collect();
        let scan = format!("From: tests@example.com\r\nSubject: scan:{reversed}\r\n\r\nok\r\n");
        for _ in 0..2 {
            let scanned = run_raw(&plugin, scan.as_bytes());
            assert!(scanned.failure.is_none(), "{:?}", scanned.failure);
            let fields = &scanned.extraction.fields;
            assert_eq!(text(fields, "status"), "scanned");
            assert_eq!(
                text(fields, "previous"),
                "[]",
                "round {round}: the static survived"
            );
            assert_eq!(
                text(fields, "found"),
                "0",
                "round {round}: the heap survived"
            );
            let control: usize = text(fields, "control").parse().expect("a count");
            assert!(control >= 1, "round {round}: the scan saw no memory");
        }
    }
}

#[test]
fn hostile_wrong_contract_is_refused_at_load() {
    let err = host()
        .load(&wasm("hostile_wrong_contract"), &PluginLimits::default())
        .expect_err("refused");
    assert!(matches!(err, PluginError::ContractMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("@2.0.0") && message.contains("@1.2.0"),
        "{message}"
    );
}

#[test]
fn hostile_not_wasm_is_refused_at_load() {
    let err = host()
        .load(&wasm("hostile_not_wasm"), &PluginLimits::default())
        .expect_err("refused");
    assert!(matches!(err, PluginError::NotAComponent { .. }), "{err}");
}

#[test]
fn routes_can_tighten_the_limits() {
    let limits = PluginLimits {
        deadline_ms: 20,
        ..PluginLimits::default()
    };
    let plugin = host()
        .load(&wasm("hostile_infinite_loop"), &limits)
        .expect("loads");
    // The plugin loops forever: only the route's 20 ms deadline (not the default one) ends it,
    // and the failure says so.
    let report = run_raw(&plugin, MISBEHAVE);
    let failure = report.failure.expect("stopped");
    assert_eq!(failure.code(), "plugin_deadline");
    assert!(failure.to_string().contains("20 ms"), "{failure}");
}

#[test]
fn compiled_plugins_are_cached_and_foreign_artefacts_recompiled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    let config = || HostConfig {
        cache_dir: Some(cache.clone()),
        ..HostConfig::default()
    };
    let first = PluginHost::new(config()).expect("host");
    let plugin = first
        .load(&wasm("facebook_zapier"), &PluginLimits::default())
        .expect("loads");
    assert!(!plugin.from_cache());
    let artefact = first
        .precompile(&wasm("facebook_zapier"))
        .expect("precompiles")
        .expect("cache dir set");
    assert!(artefact.is_file());

    let second = PluginHost::new(config()).expect("host");
    let plugin = second
        .load(&wasm("facebook_zapier"), &PluginLimits::default())
        .expect("loads");
    assert!(plugin.from_cache(), "a fresh host must reuse the artefact");

    // A damaged or foreign artefact is never trusted: it is recompiled (and rewritten).
    let mut bytes = std::fs::read(&artefact).expect("artefact");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&artefact, &bytes).expect("write");
    let third = PluginHost::new(config()).expect("host");
    let plugin = third
        .load(&wasm("facebook_zapier"), &PluginLimits::default())
        .expect("loads");
    assert!(!plugin.from_cache());
    let report = run_file(&plugin, &lead_fixture("zapiermail.eml"));
    assert!(report.failure.is_none());
}

#[test]
fn a_changed_plugin_file_is_swapped_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plugin.wasm");
    std::fs::copy(wasm("facebook_zapier"), &path).expect("copy");
    let config = HostConfig {
        cache_dir: None,
        reload_interval: Some(Duration::ZERO),
        ..HostConfig::default()
    };
    let host = PluginHost::new(config).expect("host");
    let plugin = host.load(&path, &PluginLimits::default()).expect("loads");
    assert_eq!(plugin.plugin_name(), "facebook-zapier");

    // A broken replacement is refused and the old plugin keeps working.
    std::fs::write(&path, b"not wasm").expect("write");
    assert!(plugin.reload_if_changed().is_err());
    assert_eq!(plugin.plugin_name(), "facebook-zapier");

    std::fs::copy(wasm("zillow_rentals"), &path).expect("copy");
    let report = run_file(&plugin, &lead_fixture("zillow.eml"));
    assert_eq!(
        report.plugin, "zillow-rentals",
        "the next call runs the new file"
    );
    assert!(report.failure.is_none(), "{:?}", report.failure);
    // The extraction names the artefact that ran (what the record carries), not the one
    // loaded first.
    let ran = report.extraction.ran.expect("a plugin names what ran");
    assert_eq!(ran.name, "zillow-rentals");
    assert_eq!(ran.hash.as_deref(), Some(plugin.sha256().as_str()));
    let new_file = std::fs::read(wasm("zillow_rentals")).expect("wasm");
    assert_eq!(ran.hash, Some(hex_sha256(&new_file)));
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_author_guide_covers_every_import_and_every_code() {
    let guide = std::fs::read_to_string(root().join("docs/plugins.md")).expect("docs/plugins.md");
    let wit =
        std::fs::read_to_string(root().join("plugins/wit/extractor.wit")).expect("extractor.wit");
    let mut interface = "";
    for line in wit.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("interface ") {
            interface = rest.trim_end_matches(" {").trim();
        } else if let Some((name, _)) = line.split_once(": func(")
            && interface != "extractor"
        {
            let import = format!("{interface}.{name}");
            let covered = guide.contains(&import)
                || (name.starts_with("normalize-") && guide.contains("normalize.normalize-*"));
            assert!(
                covered,
                "docs/plugins.md does not mention the import `{import}`"
            );
        }
    }
    for code in [
        "plugin_not_applicable",
        "plugin_invalid_input",
        "plugin_config",
        "plugin_error",
        "plugin_no_fields",
        "plugin_deadline",
        "plugin_memory",
        "plugin_stack_overflow",
        "plugin_panic",
        "plugin_output_limit",
        "plugin_log_flood",
        "plugin_trap",
        "plugin_instantiate",
        "plugin_log_truncated",
    ] {
        assert!(
            guide.contains(&format!("`{code}`")),
            "docs/plugins.md does not document `{code}`"
        );
    }
}

/// Contract 1.2: a plugin reads an ambiguous numeric date in the order the route gives
/// (`normalize.normalize-date-in-order`, which the guide's plugin calls with the route's
/// `date_order`), and month first without one, as a rule file's `date` field does.
#[test]
fn a_plugin_reads_an_ambiguous_date_in_the_route_order() {
    use mailex_core::{ExtractContext, Extractor};
    let fixture = std::fs::read(root().join("plugins/examples/acme-leads/fixtures/lead-card.eml"))
        .expect("fixture");
    let line = "E-mail: Dana.Whitfield@example.org\r\n";
    let raw = String::from_utf8(fixture).expect("ASCII fixture").replacen(
        line,
        &format!("{line}Move-in: 03/04/2026\r\n"),
        1,
    );
    assert!(raw.contains("Move-in: 03/04/2026"), "the fixture changed");
    let email = Email::parse(raw.as_bytes()).expect("email");
    let plugin = load("acme_leads");
    let move_in = |order: Option<&str>| {
        let mut settings = BTreeMap::new();
        if let Some(order) = order {
            settings.insert("date_order".to_owned(), order.to_owned());
        }
        let ctx = ExtractContext {
            route: "acme",
            settings: &settings,
        };
        let extraction = plugin.extract(&email, &ctx);
        assert!(extraction.errors.is_empty(), "{:?}", extraction.errors);
        extraction
            .fields
            .get("move_in")
            .map(FieldValue::to_display_string)
    };
    assert_eq!(move_in(None).as_deref(), Some("2026-03-04"));
    assert_eq!(move_in(Some("month_first")).as_deref(), Some("2026-03-04"));
    assert_eq!(move_in(Some("day_first")).as_deref(), Some("2026-04-03"));
}

/// The example plugins give the same values as the equivalent rule files on the same emails.
#[test]
fn plugins_agree_with_the_equivalent_rule_files() {
    use mailex_core::{ExtractContext, Extractor};
    let settings = BTreeMap::new();
    let ctx = ExtractContext {
        route: "equivalence",
        settings: &settings,
    };
    let cases = [
        (
            "zillow_rentals",
            "zillow.rules",
            &["zillow", "zillow-2", "zillow-special-chars"][..],
            &[
                "name",
                "email",
                "phone",
                "property",
                "listing_address",
                "message",
            ][..],
        ),
        (
            "facebook_zapier",
            "facebook-leads.rules",
            &["zapiermail", "zapiermail-format-2"][..],
            &["name", "email", "phone"][..],
        ),
    ];
    for (plugin, rules, fixtures, fields) in cases {
        let plugin = load(plugin);
        let rules = mailex_core::rules::load_rule_file(&root().join("examples/rules").join(rules))
            .unwrap_or_else(|e| panic!("{rules}: {e:?}"));
        for fixture in fixtures {
            let raw = std::fs::read(lead_fixture(&format!("{fixture}.eml"))).expect("fixture");
            let email = Email::parse(&raw).expect("email");
            let by_plugin = plugin.extract(&email, &ctx);
            let by_rules = rules.extract(&email, &ctx);
            for field in fields {
                assert_eq!(
                    text(&by_plugin.fields, field),
                    text(&by_rules.fields, field),
                    "`{field}` of {fixture}: plugin vs rule file"
                );
            }
        }
    }
}

/// A config's plugins and rule files are loaded on several threads at once (and several may ask
/// for the plugin host together): every broken file is reported at its route, in route order,
/// a file named twice is loaded and timed once, and each route runs its own extractor.
#[test]
fn plugins_and_rule_files_loaded_together_read_as_one_by_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = root().join("examples/rules");
    let route = |n: usize, extractor: &str| {
        format!(
            "[[route]]\nname = \"r{n}\"\nsender = \"*@r{n}.example\"\nrequire_auth = \"none\"\nextractor = \"{extractor}\"\n\n"
        )
    };
    let config = |extractors: &[String]| -> String {
        (extractors.iter().enumerate())
            .map(|(n, e)| route(n, e))
            .collect()
    };
    let path = |p: PathBuf| p.display().to_string();
    let options = || mailex_core::LoadOptions {
        plugins: mailex_core::plugin::LazyPluginHost::new(HostConfig {
            cache_dir: Some(dir.path().join("cache")),
            ..HostConfig::default()
        }),
    };
    let load = |text: String, options: &mailex_core::LoadOptions| {
        let file = dir.path().join("mailex.toml");
        std::fs::write(&file, text).expect("write");
        mailex_core::Engine::load_with(&file, options)
    };

    let broken = config(&[
        path(wasm("zillow_rentals")),
        path(wasm("hostile_not_wasm")),
        path(rules.join("zillow.rules")),
        path(wasm("hostile_wrong_contract")),
        path(wasm("facebook_zapier")),
    ]);
    let report = load(broken, &options())
        .expect_err("two broken plugins")
        .to_string();
    let at = |name: &str| {
        report
            .find(&format!("{name}.wasm"))
            .unwrap_or_else(|| panic!("{name} is not reported: {report}"))
    };
    assert!(
        at("hostile_not_wasm") < at("hostile_wrong_contract"),
        "{report}"
    );
    assert!(
        !report.contains("zillow") && !report.contains("facebook"),
        "{report}"
    );

    let options = options();
    let engine = load(
        config(&[
            path(wasm("zillow_rentals")),
            path(rules.join("zillow.rules")),
            path(wasm("facebook_zapier")),
            path(wasm("zillow_rentals")),
        ]),
        &options,
    )
    .expect("loads");
    let timed: Vec<String> = (engine.load_timings().extractors.iter())
        .map(|t| t.spec.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        timed,
        [
            "zillow_rentals.wasm",
            "zillow.rules",
            "facebook_zapier.wasm"
        ]
    );
    let zillow = std::fs::read(lead_fixture("zillow.eml")).expect("fixture");
    let zillow = String::from_utf8_lossy(&zillow);
    for (n, kind) in [(0, "plugin"), (1, "rules"), (3, "plugin")] {
        let raw = zillow.replacen(
            "From: ",
            &format!("From: leads@r{n}.example\r\nX-Original-From: "),
            1,
        );
        let record = engine.process(&mailex_core::Input::new(raw.as_bytes(), "zillow.eml"));
        let extractor = record.extractor.as_ref().expect("an extractor ran");
        assert_eq!(
            format!("{:?}", extractor.kind).to_lowercase(),
            kind,
            "route r{n}"
        );
        assert_eq!(record.route.as_deref(), Some(format!("r{n}").as_str()));
    }
}
