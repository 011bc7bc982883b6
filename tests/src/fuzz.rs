//! The fuzz targets' bodies and their seed corpora, shared by `cargo fuzz` (the `fuzz/` crate,
//! nightly) and the stable test suite (`tests/tests/integration/fuzz_seeds.rs`), so CI replays
//! every seed and every committed regression input through exactly the code the fuzzer runs.
//!
//! Each body takes arbitrary bytes and must neither panic nor run unbounded; the invariants it
//! checks beyond that are asserted inside the body (a failed assertion is a crash the fuzzer
//! reports). Seeds come from the repository's fixtures, so a fresh clone can build the corpus:
//! `cargo run -p mailex-tests --bin fuzz-seeds -- DIR` writes one folder per target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mailex_core::auth::{AuthSettings, AuthSource};
use mailex_core::rules::RuleSet;
use mailex_core::{Email, Engine, ExtractContext, Extractor, Input};

use crate::{files_below, fixture, workspace_root};

/// A fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` binary) and its body.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
    /// Collects the seed inputs from the repository's fixtures.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "engine",
        run: engine,
        seeds: engine_seeds,
    },
    Target {
        name: "auth_results",
        run: auth_results,
        seeds: auth_results_seeds,
    },
    Target {
        name: "rules_compiler",
        run: rules_compiler,
        seeds: rules_compiler_seeds,
    },
    Target {
        name: "adf",
        run: adf,
        seeds: adf_seeds,
    },
    Target {
        name: "html_text",
        run: html_text,
        seeds: html_text_seeds,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}

/// The committed regression inputs of a target (`fuzz/regressions/<name>/`): inputs the fuzzer
/// once crashed on, kept so the fix stays fixed.
pub fn regressions(name: &str) -> Vec<PathBuf> {
    files_below(&workspace_root().join("fuzz/regressions").join(name), &[])
}

/// The example configuration plus a catch-all rule-file route, so that any sender reaches an
/// extractor and extraction code is fuzzed, not only routing.
fn fuzz_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let examples = workspace_root().join("examples");
        let config = examples.join("mailex.toml");
        let mut text = std::fs::read_to_string(&config).unwrap_or_default();
        text.push_str(
            "\n[[route]]\nname = \"fuzz-catch-all\"\nsender_regex = '(?s).*'\npriority = -100\nrequire_auth = \"none\"\nextractor = \"rules/generic.rules\"\n",
        );
        match Engine::from_toml_str(&text, &config, &examples) {
            Ok(engine) => engine,
            Err(e) => panic!("the fuzz engine's config does not load:\n{e}"),
        }
    })
}

/// The whole engine on arbitrary bytes: exactly one record, which serialises.
pub fn engine(data: &[u8]) {
    let record = fuzz_engine().process(&Input::new(data, "fuzz"));
    let json = serde_json::to_string(&record);
    assert!(json.is_ok(), "a record must serialise");
}

/// The receiver's header block and its `Authentication-Results`, on arbitrary header text.
/// Whatever the bytes, a header set with no `Received:` line the receiver wrote yields no
/// verdicts and no virus verdict: only the receiver's own block is trusted.
pub fn auth_results(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = mailex_core::auth::results::parse(&text) {
        let _ = format!("{parsed:?}");
    }
    let _ = mailex_core::auth::results::authserv_id(&text);
    let block = AuthSettings::default().read_receiver_block(data);
    let _ = block.verdicts.summary();
    if !text.to_ascii_lowercase().contains("received") {
        assert_eq!(
            block.verdicts.source,
            AuthSource::None,
            "verdicts without a trusted Received line"
        );
        assert!(
            !block.virus,
            "a virus verdict without a trusted Received line"
        );
    }
}

/// The rule-file compiler on arbitrary text; a file that compiles is run over two real mails.
pub fn rules_compiler(data: &[u8]) {
    static MAILS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let mails = MAILS.get_or_init(|| {
        ["leads/zillow.eml", "lead-meta/body-meta.eml"]
            .iter()
            .filter_map(|rel| std::fs::read(fixture(rel)).ok())
            .collect()
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Test inputs resolve against a folder with nothing in it: the fuzzer must not read files.
    let Ok(rules) = RuleSet::compile("fuzz.rules", text, Path::new("/nonexistent-fuzz-base"))
    else {
        return;
    };
    let settings = BTreeMap::new();
    let context = ExtractContext {
        route: "fuzz",
        settings: &settings,
    };
    for raw in mails {
        if let Ok(email) = Email::parse(raw) {
            let _ = rules.extract(&email, &context);
        }
    }
}

/// The tolerant ADF/XML parser, and path lookups on what it returns.
pub fn adf(data: &[u8]) {
    if let Ok(doc) = mailex_core::adf::AdfDocument::parse_bytes(data) {
        for path in [
            "prospect/customer/contact/name",
            "prospect/vehicle/year",
            "prospect",
        ] {
            let _ = doc.values(path);
        }
    }
}

/// The streaming HTML text scanner and meta-tag reader.
pub fn html_text(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let text = mailex_core::html_text_view(&html);
    assert!(
        text.len() <= html.len().saturating_mul(4) + 64,
        "the text view must not be much larger than its HTML"
    );
    let _ = mailex_core::html_meta_tags(&html);
}

fn read_all(paths: Vec<PathBuf>) -> Vec<Vec<u8>> {
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn fixture_mails() -> Vec<PathBuf> {
    let mut paths = files_below(&fixture(""), &[".eml"]);
    paths.extend(files_below(
        &workspace_root().join("examples/inbox"),
        &[".eml"],
    ));
    paths
}

fn engine_seeds() -> Vec<Vec<u8>> {
    read_all(fixture_mails())
}

fn auth_results_seeds() -> Vec<Vec<u8>> {
    // The header block of every fixture mail: the real SES blocks and the forged ones.
    read_all(fixture_mails())
        .into_iter()
        .map(|raw| {
            let end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
                .unwrap_or(raw.len());
            raw[..end].to_vec()
        })
        .collect()
}

fn rules_compiler_seeds() -> Vec<Vec<u8>> {
    let mut paths = files_below(&workspace_root().join("examples/rules"), &[".rules"]);
    paths.extend(files_below(
        &workspace_root().join("core/src/rules/diagnostics"),
        &[".rules"],
    ));
    read_all(paths)
}

fn adf_seeds() -> Vec<Vec<u8>> {
    let mut seeds = read_all(files_below(&fixture("adf"), &[".xml", ".adf"]));
    // ADF carried in mails: the document between `<?xml` or `<adf` and `</adf>`, found in the
    // raw mail (plain parts) and in its decoded text and HTML (encoded or escaped parts).
    for raw in read_all(files_below(&fixture("adf"), &[".eml"])) {
        let mut texts = vec![String::from_utf8_lossy(&raw).into_owned()];
        if let Ok(email) = Email::parse(&raw) {
            texts.push(email.text().to_string());
            texts.extend(email.html().map(str::to_owned));
        }
        for text in texts {
            let lower = text.to_ascii_lowercase();
            let start = lower.find("<?xml").or_else(|| lower.find("<adf"));
            if let (Some(start), Some(end)) = (start, lower.rfind("</adf>"))
                && start < end
            {
                seeds.push(text.as_bytes()[start..end + "</adf>".len()].to_vec());
            }
        }
    }
    seeds.sort();
    seeds.dedup();
    seeds
}

fn html_text_seeds() -> Vec<Vec<u8>> {
    // The HTML bodies of the fixture mails, decoded by the engine's own parser.
    let mut seeds = Vec::new();
    for raw in read_all(fixture_mails()) {
        if let Ok(email) = Email::parse(&raw)
            && let Some(html) = email.html()
        {
            seeds.push(html.as_bytes().to_vec());
        }
    }
    seeds
}

/// A seed's file name: its 64-bit FNV-1a hash in hex (stable across runs, so
/// writing the corpus twice does not duplicate it).
pub fn seed_name(seed: &[u8]) -> String {
    let hash = seed.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}
