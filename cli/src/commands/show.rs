//! `mailex show`: what extractors see in one email, so rule authors need no throwaway rule file
//! to dump it.
//!
//! ```text
//! mailex show examples/inbox/lead-zillow.eml                 # headers, text view, meta, ADF, ...
//! mailex show --html --json examples/inbox/lead-zillow.eml   # the same as JSON, with the HTML
//! mailex show --config examples/mailex.toml MAIL.eml         # and the route and auth verdict
//! ```
//!
//! The email's content goes to stdout, for its author: that is the point of the command. Nothing
//! of it goes to stderr or to a log; an error names the input and the kind of problem only.
//!
//! Exit codes: 0 when the email was shown, 1 when the input could not be read or is not an
//! email, 2 when the arguments or the config are unusable.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use mailex_core::adf::{AdfDocument, AdfNode};
use mailex_core::{AuthSettings, Email, Engine, Input, Settings};
use serde_json::{Value, json};

use crate::inputs::{Contents, InputSource};

/// Arguments of `mailex show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The email file, or `-` for stdin.
    pub input: PathBuf,
    /// Also route the email under this configuration and show which route matches, why, and
    /// the verdict of its `require_auth` policy (without it: the verdicts under the default
    /// `[auth]` settings).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print the HTML body itself (by default only its size).
    #[arg(long)]
    pub html: bool,
    /// Print one JSON object instead of the human-readable sections.
    #[arg(long)]
    pub json: bool,
}

/// Runs `mailex show`.
pub fn run(args: ShowArgs) -> anyhow::Result<u8> {
    let engine = match &args.config {
        Some(config) => match super::load_engine(config) {
            Ok(engine) => Some(engine),
            Err(code) => return Ok(code),
        },
        None => None,
    };
    let settings = engine
        .as_ref()
        .map_or_else(Settings::default, |e| e.settings().clone());
    let source = if args.input.as_os_str() == "-" {
        InputSource::Stdin
    } else {
        InputSource::File(args.input.clone())
    };
    let name = source.name();
    let raw = match source.read(settings.max_input_bytes) {
        Ok(Contents::Bytes(raw)) => raw,
        Ok(Contents::TooLarge(size)) => {
            eprintln!(
                "mailex show: {name} is {size} bytes, over the limit of {} bytes",
                settings.max_input_bytes
            );
            return Ok(1);
        }
        Err(e) => {
            eprintln!("mailex show: {name}: {e} ({})", e.code);
            return Ok(1);
        }
    };
    let email = match Email::parse_with_limits(&raw, &settings.message_limits()) {
        Ok(email) => email,
        Err(e) => {
            eprintln!("mailex show: {name}: {} ({})", e, e.issue().code);
            return Ok(1);
        }
    };
    let view = view_of(&email, args.html, 0);
    let routing = routing_of(engine.as_ref(), &raw, &name);
    if args.json {
        let mut object = view;
        if let Value::Object(map) = &mut object {
            map.insert("source".to_owned(), Value::from(name));
            map.insert("routing".to_owned(), routing.json);
        }
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        print!("{}", render(&view, 0));
        print!("{}", routing.human);
    }
    Ok(0)
}

/// Deepest level of nested messages shown (mail-parser's own nesting cap is higher).
const MAX_SHOWN_NESTING: usize = 8;

/// What extractors see in `email`, as a JSON object (the human rendering is made from it).
fn view_of(email: &Email<'_>, with_html: bool, depth: usize) -> Value {
    let addresses = |list: Vec<mailex_core::Address>| -> Value {
        list.into_iter()
            .map(|a| json!({ "name": a.name, "address": a.email }))
            .collect()
    };
    let adf = mailex_core::adf::find_in_email(email).map(|(document, origin)| {
        json!({
            "origin": origin.to_string(),
            "values": adf_values(&document)
                .into_iter()
                .map(|(path, value)| json!([path, value]))
                .collect::<Vec<_>>(),
        })
    });
    let nested: Vec<Value> = if depth < MAX_SHOWN_NESTING {
        email
            .nested()
            .iter()
            .map(|n| view_of(n, with_html, depth + 1))
            .collect()
    } else {
        Vec::new()
    };
    let mut view = json!({
        "headers": decoded_headers(email),
        "from": addresses(email.from()),
        "routed_from": email.from_address(),
        "reply_to": addresses(email.reply_to()),
        "to": addresses(email.to()),
        "subject": email.subject(),
        "date": email.date().map(|d| d.to_rfc3339()),
        "message_id": email.message_id(),
        "text": email.text(),
        "html_bytes": email.html().map(str::len),
        "meta": email
            .meta_tags()
            .iter()
            .map(|(n, c)| json!([n, c]))
            .collect::<Vec<_>>(),
        "adf": adf,
        "attachments": email
            .attachments()
            .iter()
            .map(|a| json!({ "name": a.name, "content_type": a.content_type, "size": a.bytes.len() }))
            .collect::<Vec<_>>(),
        "nested": nested,
        "charset_issues": email
            .charset_issues()
            .iter()
            .map(|i| json!({ "code": i.code, "message": i.message }))
            .collect::<Vec<_>>(),
    });
    if with_html && let Value::Object(map) = &mut view {
        map.insert("html".to_owned(), json!(email.html()));
    }
    view
}

/// Every header, top to bottom, as `[name, decoded value]`.
fn decoded_headers(email: &Email<'_>) -> Vec<Value> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut decoded: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for (name, raw) in email.raw_headers() {
        let key = name.to_ascii_lowercase();
        let values = decoded
            .entry(key.clone())
            .or_insert_with(|| email.header_all(name));
        let index = seen.entry(key).or_default();
        let value = values
            .get(*index)
            .cloned()
            .unwrap_or_else(|| raw.split_whitespace().collect::<Vec<_>>().join(" "));
        *index += 1;
        out.push(json!([name, value]));
    }
    out
}

/// The values of an ADF document as `(path, value)`, each path one `adf("...")` takes: element
/// names from below `<adf>`, an `[attribute=value]` filter where an element has attributes, a
/// `#N` index where siblings share a name without one, `/@attr` for attributes.
pub fn adf_values(document: &AdfDocument) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (step, child) in children_with_paths(&document.root) {
        walk_adf(child, step, &mut out);
    }
    out
}

fn children_with_paths(node: &AdfNode) -> Vec<(String, &AdfNode)> {
    use std::collections::HashMap;
    // How many children have each name, and each (name, attribute, value).
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut attrs: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for child in &node.children {
        *names.entry(child.name.as_str()).or_default() += 1;
        for (k, v) in &child.attrs {
            *attrs
                .entry((child.name.as_str(), k.as_str(), v.as_str()))
                .or_default() += 1;
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    node.children
        .iter()
        .map(|child| {
            let name = child.name.as_str();
            let n = seen.entry(name).or_default();
            *n += 1;
            let mut step = child.name.clone();
            if names.get(name).copied().unwrap_or(0) > 1 {
                match child.attrs.first() {
                    Some((k, v))
                        if attrs.get(&(name, k.as_str(), v.as_str())) == Some(&1)
                            && !v.is_empty()
                            && v.chars()
                                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
                    {
                        let _ = write!(step, "[{k}={v}]");
                    }
                    _ => {
                        let _ = write!(step, "#{n}");
                    }
                }
            }
            (step, child)
        })
        .collect()
}

fn walk_adf(node: &AdfNode, path: String, out: &mut Vec<(String, String)>) {
    if !node.text.is_empty() {
        out.push((path.clone(), node.text.clone()));
    }
    for (name, value) in &node.attrs {
        out.push((format!("{path}/@{name}"), value.clone()));
    }
    for (step, child) in children_with_paths(node) {
        walk_adf(child, format!("{path}/{step}"), out);
    }
}

/// The routing section: human text and JSON.
struct Routing {
    human: String,
    json: Value,
}

/// Which route matches and why, and the authentication verdicts: under `engine`'s config, or
/// (without one) the verdicts the default `[auth]` settings trust.
fn routing_of(engine: Option<&Engine>, raw: &[u8], name: &str) -> Routing {
    let Some(engine) = engine else {
        let block = AuthSettings::default().read_receiver_block(raw);
        let summary = block.verdicts.summary();
        let mut human =
            String::from("\n== authentication (default [auth]; --config for a route's policy)\n");
        let _ = writeln!(human, "{}", auth_line(&summary));
        for warning in &block.warnings {
            let _ = writeln!(human, "warning: {}: {}", warning.code, warning.message);
        }
        return Routing {
            human,
            json: json!({
                "auth": summary,
                "warnings": block.warnings.iter().map(|w| json!({"code": w.code, "message": w.message})).collect::<Vec<_>>(),
            }),
        };
    };
    let input = Input::new(raw, name.to_owned());
    let record = engine.process(&input);
    let mut human = format!(
        "\n== routing and authentication ({})\n",
        engine.config_path().display()
    );
    let mut json = json!({
        "config": engine.config_path().display().to_string(),
        "auth": record.auth,
        "status": record.status.as_str(),
        "route": record.advertiser,
    });
    match engine.explain(&input) {
        Ok(report) => {
            human.push_str(&report.to_string());
            let candidates: Vec<Value> = report
                .selection
                .candidates
                .iter()
                .map(|c| {
                    let route = &report.routes[c.route];
                    json!({
                        "route": route.name,
                        "sender": route.sender.to_string(),
                        "extractor": route.extractor_spec,
                        "require_auth": route.policy.as_str(),
                        "sender_matched": c.sender_matched,
                        "failed_condition": c.failed_condition,
                        "chosen": Some(c.route) == report.selection.chosen,
                    })
                })
                .collect();
            if let Value::Object(map) = &mut json {
                map.insert("candidates".to_owned(), Value::from(candidates));
                map.insert(
                    "auth_failure".to_owned(),
                    match &report.auth {
                        Some(Err(failure)) => {
                            json!({"code": failure.code, "message": failure.message})
                        }
                        _ => Value::Null,
                    },
                );
            }
        }
        Err(why) => {
            let _ = writeln!(human, "{name}\n  result: failed: {why}");
        }
    }
    let _ = writeln!(human, "  verdicts: {}", auth_line(&record.auth));
    let _ = writeln!(human, "  record status: {}", record.status.as_str());
    Routing { human, json }
}

fn auth_line(summary: &mailex_core::record::AuthSummary) -> String {
    let mut line = format!(
        "source={} spf={} dkim={} dmarc={}",
        summary.source,
        verdict(summary.spf),
        verdict(summary.dkim),
        verdict(summary.dmarc)
    );
    if let Some(id) = &summary.authserv_id {
        let _ = write!(line, " authserv-id={id}");
    }
    if !summary.dkim_domains.is_empty() {
        let _ = write!(line, " dkim-domains={}", summary.dkim_domains.join(","));
    }
    if let (Some(policy), Some(passed)) = (&summary.policy, summary.passed) {
        let _ = write!(
            line,
            " require_auth={policy} ({})",
            if passed { "passed" } else { "not met" }
        );
    }
    line
}

fn verdict(v: mailex_core::Verdict) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The human rendering of a view: one `== section` per part, indented for nested messages.
fn render(view: &Value, depth: usize) -> String {
    let mut out = String::new();
    let pad = "  ".repeat(depth);
    let mut section = |title: &str, body: &str| {
        let _ = writeln!(out, "{pad}== {title}");
        for line in body.lines() {
            let _ = writeln!(out, "{pad}{line}");
        }
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let pairs = |v: &Value, sep: &str| -> String {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| format!("{}{sep}{}\n", text(&p[0]), text(&p[1])))
            .collect()
    };
    section("headers (decoded)", &pairs(&view["headers"], ": "));
    let address_list = |v: &Value| -> String {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|a| match (a["name"].as_str(), a["address"].as_str()) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                (None, Some(e)) => e.to_owned(),
                (Some(n), None) => n.to_owned(),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut addresses = format!(
        "routed From (what routing and authentication use): {}\n",
        view["routed_from"].as_str().unwrap_or("(none)")
    );
    for (label, key) in [("from", "from"), ("reply_to", "reply_to"), ("to", "to")] {
        let _ = writeln!(addresses, "{label}: {}", address_list(&view[key]));
    }
    section("addresses", &addresses);
    section("text view (`text`)", &text(&view["text"]));
    match (&view["html"], view["html_bytes"].as_u64()) {
        (Value::String(html), _) => section("html (`html`)", html),
        (_, Some(bytes)) => section(
            "html (`html`)",
            &format!("{bytes} bytes (--html prints it)"),
        ),
        _ => section("html (`html`)", "(none)"),
    }
    let meta = pairs(&view["meta"], " = ");
    section(
        "meta tags (`meta(\"NAME\")`)",
        if meta.is_empty() { "(none)" } else { &meta },
    );
    match &view["adf"] {
        Value::Object(adf) => section(
            &format!(
                "ADF (`adf(\"PATH\")`), in the {}",
                adf.get("origin").map(text).unwrap_or_default()
            ),
            &pairs(&adf["values"], " = "),
        ),
        _ => section("ADF (`adf(\"PATH\")`)", "(none)"),
    }
    let attachments: String = view["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "{}. {} ({}, {} bytes)\n",
                i + 1,
                a["name"].as_str().unwrap_or("(no name)"),
                text(&a["content_type"]),
                a["size"]
            )
        })
        .collect();
    section(
        "attachments (`attachment(\"MATCH\")`)",
        if attachments.is_empty() {
            "(none)"
        } else {
            &attachments
        },
    );
    let issues: String = view["charset_issues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| format!("{}: {}\n", text(&i["code"]), text(&i["message"])))
        .collect();
    section(
        "charset issues",
        if issues.is_empty() { "(none)" } else { &issues },
    );
    let nested = view["nested"].as_array().cloned().unwrap_or_default();
    if nested.is_empty() {
        section("nested messages (`nested`)", "(none)");
    } else {
        for (i, message) in nested.iter().enumerate() {
            section(
                &format!("nested message {} (`nested`)", i + 1),
                &render(message, 1),
            );
        }
    }
    out
}
