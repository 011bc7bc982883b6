//! `mailex route`: explains which route each email matches, and why.

use std::path::PathBuf;

use clap::Args;
use mailex_core::{Input, RouteReport, Status};
use serde_json::{Value, json};

use super::Format;

use crate::inputs::{self, Contents};

/// Arguments of `mailex route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "mailex.toml")]
    pub config: PathBuf,
    /// Email files, directories of them, or `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// `json` prints one JSON object per email (one per line): the sender, every route looked
    /// at with why it matched or not, and the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `mailex route`.
pub fn run(args: RouteArgs) -> anyhow::Result<u8> {
    let engine = match super::load_engine(&args.config) {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    for input in inputs::expand(&args.inputs)? {
        let name = input.name();
        let explanation = match input.read(engine.settings().max_input_bytes) {
            Ok(Contents::Bytes(raw)) => engine.explain(&Input::new(&raw, name.clone())),
            Ok(Contents::TooLarge(_)) => Err(format!(
                "input is over the limit of {} bytes",
                engine.settings().max_input_bytes
            )),
            Err(e) => Err(format!("{} ({})", e.message, e.code)),
        };
        match (explanation, args.format) {
            (Ok(report), Format::Text) => print!("{report}"),
            (Err(why), Format::Text) => println!("{name}\n  result: failed: {why}"),
            (Ok(report), Format::Json) => println!("{}", report_json(&report)),
            (Err(why), Format::Json) => println!(
                "{}",
                json!({ "source": name, "result": { "status": "failed", "message": why } })
            ),
        }
    }
    Ok(0)
}

/// The JSON form of a routing explanation (the same facts as its text form).
fn report_json(report: &RouteReport) -> Value {
    let candidates: Vec<Value> = (report.selection.candidates.iter())
        .map(|candidate| {
            let route = &report.routes[candidate.route];
            let (priority, pattern_kind, domain_labels, conditions) = route.rank();
            json!({
                "route": route.name,
                "sender_pattern": route.sender.to_string(),
                "extractor": route.extractor_spec,
                "chosen": report.selection.chosen == Some(candidate.route),
                "sender_matched": candidate.sender_matched,
                "failed_condition": candidate.failed_condition,
                "rank": {
                    "priority": priority,
                    "pattern_kind": pattern_kind,
                    "domain_labels": domain_labels,
                    "conditions": conditions,
                },
            })
        })
        .collect();
    let chosen = report.selection.chosen.map(|i| &report.routes[i]);
    let result = match (chosen, &report.auth) {
        (None, _) => json!({ "status": Status::Unmatched.as_str() }),
        (Some(route), Some(Err(failure))) => json!({
            "status": Status::Unauthenticated.as_str(),
            "route": route.name,
            "code": failure.code.as_str(),
            "message": failure.message,
        }),
        (Some(route), auth) => json!({
            "status": "routed",
            "route": route.name,
            "require_auth": route.policy.as_str(),
            "authenticated": matches!(auth, Some(Ok(()))),
        }),
    };
    let warnings: Vec<Value> = (report.warnings.iter())
        .map(|w| json!({ "code": w.code.as_str(), "message": w.message }))
        .collect();
    json!({
        "source": report.source,
        "sender": report.selection.sender,
        "candidates": candidates,
        "result": result,
        "warnings": warnings,
    })
}
