//! `mailex draft`: writes a rule file for a layout from sample emails and the values wanted
//! from them.
//!
//! ```text
//! mailex draft --set name="Jane Doe" --set phone="(555) 010-0199" sample.eml -o acme.rules
//! mailex draft a.eml b.eml          # values from a.expected.json and b.expected.json beside them
//! mailex draft --expected a.json a.eml
//! ```
//!
//! How it works:
//!
//! 1. Each wanted field gets a type (`--type NAME=TYPE`, else from its name and value: `email`,
//!    `phone(region: "US")`, `person_name`, `url`, `int`, `money(currency: "USD")`, `text`).
//!    The wanted value is normalised by that type, through core, as the field's value will be.
//! 2. Candidate expressions are generated from the samples: every label of the text view
//!    (`text.after("Label:").line`, a label on its own line, a multi-line value up to the
//!    next label), the text around each place the value occurs, every meta tag
//!    (`meta("lead_name")`), every ADF value (`adf("prospect/customer/contact/email")`), CSS
//!    paths of the HTML elements holding the value (by id, by class, by position), the
//!    address headers and the subject.
//! 3. Every candidate is compiled and run by core's rule engine on every sample, as a field of
//!    the wanted type. A candidate counts when it yields exactly the wanted value; among those,
//!    the ones right on more samples win, then the more robust kind (meta tag, ADF path, label,
//!    CSS class or id, text around the value, header, CSS position), then the shorter expression. The best two of
//!    different kinds become the field's `??` chain.
//! 4. The rule file (a profile matching the samples' sender domain, the fields, one `test`
//!    block per sample with its expected values) is compiled and run once more on every
//!    sample; what it gets right is reported on stderr (field names only, never values).
//!
//! Values of `--set` belong to the first sample; `--expected FILE.json` (repeatable, in sample
//! order) gives a sample's values in the shape of a mail test's `NAME.expected.json`
//! (`{"fields": {...}}`); without it, a sample's `NAME.expected.json` beside it is used when
//! present. Samples without values still count: a candidate that yields a value of the right
//! type on them is preferred.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use mailex_core::rules::RuleSet;
use mailex_core::{Email, FieldValue, Settings};
use serde_json::Value;

use super::bless::rule_literal;
use crate::inputs::{Contents, InputSource};

/// Arguments of `mailex draft`.
#[derive(Debug, Args)]
pub struct DraftArgs {
    /// Sample emails of one layout (the first one is the one `--set` values belong to).
    #[arg(required = true)]
    pub samples: Vec<PathBuf>,
    /// A wanted value of the first sample, as it reads in the email: `NAME=VALUE` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// A sample's wanted values as JSON, `{"fields": {"name": "Jane Doe", ...}}` (the shape of a
    /// mail test's expected file); repeatable, one per sample in order.
    #[arg(long, value_name = "FILE.json")]
    pub expected: Vec<PathBuf>,
    /// The type of a field, as a rule file writes it (`phone(region: "GB")`, `date(order:
    /// "dmy")`, `text`, ...): `NAME=TYPE` (repeatable). Default: guessed from the name and value.
    #[arg(long = "type", value_name = "NAME=TYPE")]
    pub types: Vec<String>,
    /// The profile's name (default: the sender's domain).
    #[arg(long)]
    pub profile: Option<String>,
    /// Write the rule file here (default: stdout). Test inputs are written relative to it.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// One sample email and the values wanted from it.
struct Sample {
    path: PathBuf,
    raw: Vec<u8>,
    /// Wanted values by field, as JSON (a string, or a typed value from an expected file).
    wanted: BTreeMap<String, Value>,
}

/// A field to draft.
struct Wanted {
    name: String,
    ty: String,
    /// Per sample: the wanted display value after the type's normalisation (`None`: unknown).
    values: Vec<Option<String>>,
    /// Per sample: the value as the email may write it (for locating it), when known.
    raw: Vec<Option<String>>,
}

/// How robust a kind of candidate is; lower is preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Meta,
    Adf,
    Label,
    Css,
    Around,
    Header,
    CssPosition,
}

#[derive(Debug, Clone)]
struct Candidate {
    kind: Kind,
    expr: String,
}

/// The drafted field: its expression chain and on how many samples with values it is right.
struct Drafted {
    chain: Vec<Candidate>,
    right: usize,
    known: usize,
}

/// Runs `mailex draft`.
pub fn run(args: DraftArgs) -> anyhow::Result<u8> {
    let samples = read_samples(&args)?;
    let wanted = wanted_fields(&samples, &args.types)?;
    if wanted.is_empty() {
        bail!(
            "no values to draft for: give --set NAME=VALUE, --expected FILE.json, or a NAME.expected.json beside a sample"
        );
    }
    let emails: Vec<Email<'_>> = samples
        .iter()
        .map(|s| {
            let email = Email::parse_with_limits(&s.raw, &Settings::default().message_limits())
                .with_context(|| format!("{} is not an email", s.path.display()))?;
            if email.from_address().is_none() {
                bail!(
                    "{} is not an email a rule file can route (no From address)",
                    s.path.display()
                );
            }
            Ok(email)
        })
        .collect::<anyhow::Result<_>>()?;
    let data = data_strings(&wanted);
    let mut drafted = Vec::new();
    for field in &wanted {
        let mut candidates = candidates_for(field, &emails, &data);
        // A marker made of the lead's own data (another field's value) holds on no other
        // email, and would write personal data into the rule file.
        candidates.retain(|c| {
            let expr = c.expr.to_lowercase();
            !data.iter().any(|d| expr.contains(d.as_str()))
        });
        drafted.push(choose(field, &candidates, &emails));
    }
    let base = args
        .output
        .as_deref()
        .and_then(Path::parent)
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."));
    let text = rule_file(&args, &samples, &emails, &wanted, &drafted, base)?;
    // The drafted file as a whole: it must compile (its test inputs too) and is run once more.
    let rules = RuleSet::compile("drafted.rules", &text, base).map_err(|e| {
        anyhow::anyhow!("the drafted rule file does not compile:\n{}", e.rendered())
    })?;
    for (i, email) in emails.iter().enumerate() {
        let fields = extract(&rules, email);
        let mut right = Vec::new();
        let mut wrong = Vec::new();
        for field in &wanted {
            let Some(want) = &field.values[i] else {
                continue;
            };
            if fields
                .get(&field.name)
                .map(FieldValue::to_display_string)
                .as_ref()
                == Some(want)
            {
                right.push(field.name.as_str());
            } else {
                wrong.push(field.name.as_str());
            }
        }
        eprintln!(
            "{}: {} of {} wanted fields right{}",
            samples[i].path.display(),
            right.len(),
            right.len() + wrong.len(),
            if wrong.is_empty() {
                String::new()
            } else {
                format!(" (not: {})", wrong.join(", "))
            }
        );
    }
    for (field, d) in wanted.iter().zip(&drafted) {
        if d.chain.is_empty() {
            eprintln!(
                "{}: no expression found; the rule file says where to write one",
                field.name
            );
        } else if d.right < d.known {
            eprintln!(
                "{}: right on {} of {} samples with values",
                field.name, d.right, d.known
            );
        }
    }
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

fn read_samples(args: &DraftArgs) -> anyhow::Result<Vec<Sample>> {
    let limit = Settings::default().max_input_bytes;
    let mut samples = Vec::new();
    for (i, path) in args.samples.iter().enumerate() {
        let raw = match InputSource::File(path.clone()).read(limit) {
            Ok(Contents::Bytes(raw)) => raw,
            Ok(Contents::TooLarge(_)) => bail!("{} is over {limit} bytes", path.display()),
            Err(e) => bail!("cannot read {}: {e}", path.display()),
        };
        let mut wanted = match args.expected.get(i) {
            Some(file) => expected_values(file)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no `fields` object (write {{\"fields\": {{\"name\": \"...\"}}}})",
                    file.display()
                )
            })?,
            None => {
                let beside = super::expected::expected_path(path);
                if beside.is_file() {
                    expected_values(&beside)?.unwrap_or_else(|| {
                        eprintln!(
                            "{}: no `fields` object, not used (pass --expected to use a file)",
                            beside.display()
                        );
                        BTreeMap::new()
                    })
                } else {
                    BTreeMap::new()
                }
            }
        };
        if i == 0 {
            for set in &args.set {
                let Some((name, value)) = set.split_once('=') else {
                    bail!("--set `{set}` is not NAME=VALUE");
                };
                wanted.insert(name.trim().to_owned(), Value::from(value));
            }
        }
        samples.push(Sample {
            path: path.clone(),
            raw,
            wanted,
        });
    }
    Ok(samples)
}

/// The non-null values under `fields` of an expected file; `None` when it has no `fields`.
fn expected_values(file: &Path) -> anyhow::Result<Option<BTreeMap<String, Value>>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    Ok(json.get("fields").and_then(Value::as_object).map(|fields| {
        fields
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }))
}

/// Whether `name` is a field name a rule file accepts.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// The type a field gets when none is given: from its JSON value, then its name.
fn guess_type(name: &str, value: &Value) -> &'static str {
    let lower = name.to_ascii_lowercase();
    match value {
        Value::Object(o) if o.contains_key("full") => return "person_name",
        Value::Object(o) if o.contains_key("amount") => return "money(currency: \"USD\")",
        Value::Number(n) if n.is_i64() => return "int",
        _ => {}
    }
    let text = value.as_str().unwrap_or("");
    if lower.contains("email") || lower.contains("e_mail") {
        "email"
    } else if lower.contains("phone") || lower.contains("mobile") || lower.ends_with("tel") {
        "phone(region: \"US\")"
    } else if matches!(
        lower.as_str(),
        "name" | "full_name" | "fullname" | "lead_name" | "contact_name" | "customer_name"
    ) {
        "person_name"
    } else if (lower.contains("url") || lower.contains("link")) && text.starts_with("http") {
        "url"
    } else {
        "text"
    }
}

/// A JSON value as the text a rule's test compares (`person_name` by its full name).
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("full") => o
            .get("full")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        Value::Object(o) if o.contains_key("amount") => format!(
            "{} {}",
            o.get("amount").and_then(Value::as_str).unwrap_or(""),
            o.get("currency").and_then(Value::as_str).unwrap_or("")
        ),
        other => other.to_string(),
    }
}

fn wanted_fields(samples: &[Sample], types: &[String]) -> anyhow::Result<Vec<Wanted>> {
    let mut given_types = BTreeMap::new();
    for t in types {
        let Some((name, ty)) = t.split_once('=') else {
            bail!("--type `{t}` is not NAME=TYPE");
        };
        given_types.insert(name.trim().to_owned(), ty.trim().to_owned());
    }
    let names: BTreeSet<&String> = samples.iter().flat_map(|s| s.wanted.keys()).collect();
    let mut fields = Vec::new();
    for name in names {
        if !is_identifier(name) || matches!(name.as_str(), "profile" | "status") {
            bail!(
                "`{name}` cannot be a field name (letters, digits and `_`; not profile or status)"
            );
        }
        let first = samples
            .iter()
            .find_map(|s| s.wanted.get(name))
            .cloned()
            .unwrap_or(Value::Null);
        let ty = given_types
            .get(name)
            .cloned()
            .unwrap_or_else(|| guess_type(name, &first).to_owned());
        let raw: Vec<Option<String>> = samples
            .iter()
            .map(|s| s.wanted.get(name).map(display))
            .collect();
        // Each wanted value normalised by the type, through core, as the field will be; a type
        // that rejects the values falls back to `text`.
        let (ty, values) = match normalise(&ty, &raw) {
            Some(values) => (ty, values),
            None if ty != "text" && !given_types.contains_key(name) => {
                let values = normalise("text", &raw).unwrap_or_else(|| raw.clone());
                ("text".to_owned(), values)
            }
            None => bail!("the values of `{name}` are not valid as `{ty}`"),
        };
        fields.push(Wanted {
            name: name.clone(),
            ty,
            values,
            raw,
        });
    }
    Ok(fields)
}

/// The values as the type displays them, or `None` when the type rejects one.
fn normalise(ty: &str, raw: &[Option<String>]) -> Option<Vec<Option<String>>> {
    let mut text = String::from("version 1\nprofile \"normalise\" {\n");
    for (i, value) in raw.iter().enumerate() {
        if let Some(value) = value {
            let _ = writeln!(
                text,
                "  field v{i}: {ty} optional = {}",
                rule_literal(value)
            );
        }
    }
    text.push_str("  field unused: text optional = subject\n}\n");
    let rules = RuleSet::compile("normalise.rules", &text, Path::new(".")).ok()?;
    let email = Email::parse(b"From: a@b.example\r\n\r\n").ok()?;
    let fields = extract(&rules, &email);
    raw.iter()
        .enumerate()
        .map(|(i, value)| match value {
            None => Some(None),
            Some(_) => fields
                .get(&format!("v{i}"))
                .map(|v| Some(v.to_display_string())),
        })
        .collect()
}

fn extract(rules: &RuleSet, email: &Email<'_>) -> BTreeMap<String, FieldValue> {
    super::bless::run_rules(rules, email).fields
}

/// The wanted values as they may be written, lower-cased, that no marker may contain: each
/// word of a name, an address or a phone number, a short one-line value.
fn data_strings(wanted: &[Wanted]) -> Vec<String> {
    let mut data = BTreeSet::new();
    for field in wanted {
        for value in field.raw.iter().chain(&field.values).flatten() {
            let value = value.trim().to_lowercase();
            if field.ty == "person_name" {
                data.extend(
                    value
                        .split_whitespace()
                        .filter(|w| w.chars().count() >= 3)
                        .map(str::to_owned),
                );
            } else if (3..=60).contains(&value.chars().count()) && !value.contains('\n') {
                data.insert(value);
            }
        }
    }
    data.into_iter().collect()
}

/// Most candidates tried per field (each sample's labels, meta tags, ADF values, ...).
const MAX_CANDIDATES: usize = 3000;

/// Most labels taken from one email's text view.
const MAX_LABELS: usize = 400;

/// Longest label or marker taken from an email.
const MAX_MARKER_CHARS: usize = 60;

fn candidates_for(field: &Wanted, emails: &[Email<'_>], data: &[String]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |kind: Kind, expr: String| out.push(Candidate { kind, expr });
    for (i, email) in emails.iter().enumerate() {
        let text = email.text();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let labels = label_lines(&lines);
        for (at, marker) in &labels {
            let quoted = rule_literal(marker);
            push(Kind::Label, format!("text.after({quoted}).line"));
            if let Some((_, next)) = labels.iter().find(|(j, _)| j > at) {
                let until = format!("text.after({quoted}).until({})", rule_literal(next));
                push(Kind::Label, format!("{until} | trim"));
                push(Kind::Label, format!("{until}.lines.join(\"\\n\")"));
            }
        }
        for (name, _) in email.meta_tags() {
            push(Kind::Meta, format!("meta({})", rule_literal(name)));
        }
        if let Some((document, _)) = mailex_core::adf::find_in_email(email) {
            for (path, _) in super::show::adf_values(&document) {
                push(Kind::Adf, format!("adf({})", rule_literal(&path)));
            }
        }
        for header in [
            "reply_to.address",
            "reply_to.name",
            "from.address",
            "from.name",
            "to.address",
            "subject",
        ] {
            push(Kind::Header, header.to_owned());
        }
        let Some(raw) = &field.raw[i] else {
            continue;
        };
        for occurrence in occurrences(text, raw, &field.ty) {
            around(text, &occurrence, "text", data, &mut push);
        }
        if let Some(subject) = email.subject() {
            for occurrence in occurrences(subject, raw, &field.ty) {
                around(subject, &occurrence, "subject", data, &mut push);
            }
        }
        css_candidates(email, raw, &mut push);
    }
    let mut seen = BTreeSet::new();
    out.retain(|c| seen.insert(c.expr.clone()));
    out.truncate(MAX_CANDIDATES);
    out
}

/// Lines that look like labels: `Label: value` (the marker is `Label:`), or a short line of
/// words standing alone above its value. Returns (line index, marker).
fn label_lines(lines: &[&str]) -> Vec<(usize, String)> {
    let mut labels = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if labels.len() >= MAX_LABELS {
            break;
        }
        if let Some(colon) = line.find(':') {
            let marker = &line[..=colon];
            let chars = marker.chars().count();
            if (2..=MAX_MARKER_CHARS).contains(&chars)
                && marker.chars().any(char::is_alphabetic)
                && !marker.contains("http")
            {
                labels.push((i, marker.to_owned()));
                // Without decoration (`*Phone:`, `- Email:`): the same label where another
                // template writes it plainly.
                let plain = marker.trim_start_matches(|c: char| !c.is_alphanumeric());
                if plain.len() != marker.len() && plain.chars().count() >= 2 {
                    labels.push((i, plain.to_owned()));
                }
                continue;
            }
        }
        let chars = line.chars().count();
        let next_has_value = lines[i + 1..].iter().any(|l| !l.is_empty());
        if (2..=40).contains(&chars)
            && next_has_value
            && line.chars().any(char::is_alphabetic)
            && line.split_whitespace().count() <= 5
        {
            labels.push((i, (*line).to_owned()));
        }
    }
    labels
}

/// Where a wanted value is written in `haystack`: byte ranges. A phone is found by its digits
/// (any punctuation), anything else as written, ignoring case.
fn occurrences(haystack: &str, raw: &str, ty: &str) -> Vec<std::ops::Range<usize>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Vec::new();
    }
    if ty.starts_with("phone") {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let Ok(pattern) = regex::Regex::new(r"\+?[\d(][\d\s().\-]{5,20}\d") else {
            return Vec::new();
        };
        return pattern
            .find_iter(haystack)
            .filter(|m| {
                let found: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
                found.len() >= 7 && (digits.ends_with(&found) || found.ends_with(&digits))
            })
            .map(|m| m.range())
            .take(8)
            .collect();
    }
    if ty == "person_name" {
        let words: Vec<String> = raw.split_whitespace().map(regex::escape).collect();
        let Ok(pattern) = regex::Regex::new(&format!("(?i){}", words.join(r"\s+"))) else {
            return Vec::new();
        };
        return pattern
            .find_iter(haystack)
            .map(|m| m.range())
            .take(8)
            .collect();
    }
    let lower_haystack = haystack.to_lowercase();
    let needle = raw.to_lowercase();
    if lower_haystack.len() != haystack.len() {
        return haystack
            .match_indices(raw)
            .map(|(i, m)| i..i + m.len())
            .take(8)
            .collect();
    }
    lower_haystack
        .match_indices(&needle)
        .map(|(i, m)| i..i + m.len())
        .filter(|r| haystack.is_char_boundary(r.start) && haystack.is_char_boundary(r.end))
        .take(8)
        .collect()
}

/// Candidates built from the text around one occurrence of the value in `source` (the text
/// view or the subject).
fn around(
    haystack: &str,
    at: &std::ops::Range<usize>,
    source: &str,
    data: &[String],
    push: &mut impl FnMut(Kind, String),
) {
    let line_start = haystack[..at.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = haystack[at.end..]
        .find('\n')
        .map_or(haystack.len(), |i| at.end + i);
    // The text beside the value on its line, without other values of the lead in it: what
    // follows the last one before, what precedes the first one after.
    let before = without_data(&haystack[line_start..at.start], data, true);
    let after = without_data(&haystack[at.end..line_end], data, false);
    let short = |s: &str| -> String {
        let chars: Vec<char> = s.chars().collect();
        chars[chars.len().saturating_sub(MAX_MARKER_CHARS)..]
            .iter()
            .collect()
    };
    let head = |s: &str| -> String { s.chars().take(MAX_MARKER_CHARS).collect() };
    if !before.is_empty() {
        let marker = rule_literal(&short(before));
        if after.is_empty() {
            push(Kind::Around, format!("{source}.after({marker}).line"));
        } else {
            for end in [head(after), first_token(after)] {
                push(
                    Kind::Around,
                    format!(
                        "{source}.after({marker}).line.before({}) | trim",
                        rule_literal(&end)
                    ),
                );
            }
        }
    } else if !after.is_empty() {
        for end in [head(after), first_token(after)] {
            push(
                Kind::Around,
                format!("{source}.before({}).lines.last | trim", rule_literal(&end)),
            );
        }
    } else {
        // The value stands on its own lines: the line above it is the marker, the next line
        // after it the end.
        let above = haystack[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty());
        let value_end = haystack[at.end..]
            .find('\n')
            .map_or(haystack.len(), |i| at.end + i);
        let below = haystack[value_end..]
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty());
        // The n-th line below each of the lines above it (blank lines do not count).
        let value_lines = haystack[at.start..at.end].lines().count().max(1);
        let mut nth = 0;
        for line in haystack[..line_start].lines().rev().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            nth += 1;
            if nth > 6 {
                break;
            }
            let marker = rule_literal(&short(line));
            if value_lines == 1 {
                push(
                    Kind::Around,
                    format!("{source}.after({marker}).lines.nth({nth})"),
                );
            } else if nth == 1 {
                push(
                    Kind::Around,
                    format!("{source}.after({marker}).lines.take({value_lines}).join(\" \")"),
                );
            }
        }
        if let Some(above) = above {
            let marker = rule_literal(&short(above));
            push(Kind::Around, format!("{source}.after({marker}).line"));
            if let Some(below) = below {
                push(
                    Kind::Around,
                    format!(
                        "{source}.after({marker}).until({}) | trim",
                        rule_literal(&head(below))
                    ),
                );
            }
        }
    }
}

/// The start of the text after a value that is most likely the same on other emails: a run
/// of punctuation (`(` of `(16 days away!)`, `,` of `, CA`), else the first word.
fn first_token(after: &str) -> String {
    let punctuation: String = after
        .chars()
        .take_while(|c| !c.is_alphanumeric() && !c.is_whitespace())
        .collect();
    if punctuation.is_empty() {
        after.split_whitespace().next().unwrap_or("").to_owned()
    } else {
        punctuation
    }
}

/// `text` cut at the values of `data` it holds: what follows the last one (`keep_end`), or what
/// precedes the first one; trimmed.
fn without_data<'t>(text: &'t str, data: &[String], keep_end: bool) -> &'t str {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return text.trim();
    }
    let mut cut = text;
    for d in data {
        // Offsets of the lower-cased text are used only where they are offsets of `cut`.
        if keep_end {
            if let Some(rest) = cut
                .to_lowercase()
                .rfind(d.as_str())
                .and_then(|i| cut.get(i + d.len()..))
            {
                cut = rest;
            }
        } else if let Some(head) = cut
            .to_lowercase()
            .find(d.as_str())
            .and_then(|i| cut.get(..i))
        {
            cut = head;
        }
    }
    cut.trim()
}

/// CSS candidates: the elements whose text is the value, selected by id, by class, and by
/// their position among their ancestors (the last few steps of the path).
fn css_candidates(email: &Email<'_>, raw: &str, push: &mut impl FnMut(Kind, String)) {
    // The innermost elements holding exactly the value.
    for element in email.elements_with_text(raw, 4) {
        let tag = &element.tag;
        if let Some(id) = element.id.as_deref().filter(|id| is_css_identifier(id)) {
            push(
                Kind::Css,
                format!("css({}).text", rule_literal(&format!("#{id}"))),
            );
        }
        let classes: Vec<&str> = element
            .classes
            .iter()
            .map(String::as_str)
            .filter(|c| is_css_identifier(c))
            .collect();
        if !classes.is_empty() {
            push(
                Kind::Css,
                format!(
                    "css({}).text",
                    rule_literal(&format!("{tag}.{}", classes.join(".")))
                ),
            );
        }
        let steps: Vec<String> = element
            .path
            .iter()
            .map(|step| format!("{}:nth-of-type({})", step.tag, step.index))
            .collect();
        for keep in [3usize, 6, 10] {
            let tail = &steps[steps.len().saturating_sub(keep)..];
            let selector = tail.join(" > ");
            if mailex_core::is_css_selector(&selector) {
                push(
                    Kind::CssPosition,
                    format!("css({}).text", rule_literal(&selector)),
                );
            }
            if tail.len() == steps.len() {
                break;
            }
        }
    }
}

fn is_css_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.len() <= 64
}

/// Fields per compiled batch of candidates (a profile holds at most 128 fields).
const BATCH: usize = 100;

/// Runs every candidate on every sample as a field of the wanted type and picks the chain.
fn choose(field: &Wanted, candidates: &[Candidate], emails: &[Email<'_>]) -> Drafted {
    let known = field.values.iter().filter(|v| v.is_some()).count();
    // Per candidate: samples where it is right, samples without values where it yields one.
    let mut scores: Vec<(usize, usize)> = vec![(0, 0); candidates.len()];
    let mut start = 0;
    while start < candidates.len() {
        let end = (start + BATCH).min(candidates.len());
        for (offset, result) in evaluate(&field.ty, &candidates[start..end], emails)
            .into_iter()
            .enumerate()
        {
            for (i, value) in result.iter().enumerate() {
                match (&field.values[i], value) {
                    (Some(want), Some(got)) if want == got => scores[start + offset].0 += 1,
                    (None, Some(_)) => scores[start + offset].1 += 1,
                    _ => {}
                }
            }
        }
        start = end;
    }
    let mut ranked: Vec<usize> = (0..candidates.len()).filter(|&i| scores[i].0 > 0).collect();
    ranked.sort_by_key(|&i| {
        (
            std::cmp::Reverse(scores[i]),
            candidates[i].kind,
            candidates[i].expr.len(),
        )
    });
    let Some(&best) = ranked.first() else {
        return Drafted {
            chain: Vec::new(),
            right: 0,
            known,
        };
    };
    let mut chain = vec![candidates[best].clone()];
    if let Some(&second) = ranked
        .iter()
        .find(|&&i| candidates[i].kind != candidates[best].kind && scores[i].0 == scores[best].0)
    {
        chain.push(candidates[second].clone());
    }
    Drafted {
        chain,
        right: scores[best].0,
        known,
    }
}

/// Each candidate's display value on each sample (`None`: no value). A batch that does not
/// compile is split until the candidates that break it are left out.
fn evaluate(ty: &str, batch: &[Candidate], emails: &[Email<'_>]) -> Vec<Vec<Option<String>>> {
    let mut text = String::from("version 1\nprofile \"candidates\" {\n");
    for (i, candidate) in batch.iter().enumerate() {
        let _ = writeln!(text, "  field c{i}: {ty} optional = {}", candidate.expr);
    }
    text.push_str("}\n");
    match RuleSet::compile("candidates.rules", &text, Path::new(".")) {
        Ok(rules) => {
            let per_email: Vec<BTreeMap<String, FieldValue>> =
                emails.iter().map(|e| extract(&rules, e)).collect();
            (0..batch.len())
                .map(|i| {
                    per_email
                        .iter()
                        .map(|fields| {
                            fields
                                .get(&format!("c{i}"))
                                .map(FieldValue::to_display_string)
                        })
                        .collect()
                })
                .collect()
        }
        Err(_) if batch.len() > 1 => {
            let (left, right) = batch.split_at(batch.len() / 2);
            let mut out = evaluate(ty, left, emails);
            out.extend(evaluate(ty, right, emails));
            out
        }
        Err(_) => vec![vec![None; emails.len()]],
    }
}

/// The rule file: a profile for the samples' sender domains, the drafted fields, and a test
/// block per sample.
fn rule_file(
    args: &DraftArgs,
    samples: &[Sample],
    emails: &[Email<'_>],
    wanted: &[Wanted],
    drafted: &[Drafted],
    base: &Path,
) -> anyhow::Result<String> {
    let domains: BTreeSet<String> = emails
        .iter()
        .filter_map(|e| e.from_address())
        .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
        .collect();
    let profile = args
        .profile
        .clone()
        .or_else(|| domains.iter().next().cloned())
        .unwrap_or_else(|| "drafted".to_owned());
    let mut out = String::from("version 1\n\n");
    let _ = writeln!(
        out,
        "# Drafted by `mailex draft` from {} sample{}: check each expression, mark the fields\n# that must be there `required`, and run `mailex test` on this file.",
        samples.len(),
        if samples.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "profile {} {{", rule_literal(&profile));
    if !domains.is_empty() {
        let conditions: Vec<String> = domains
            .iter()
            .take(32)
            .map(|d| format!("from.address ends_with {}", rule_literal(&format!("@{d}"))))
            .collect();
        let _ = writeln!(out, "  match {{ {} }}", conditions.join(" or "));
    }
    for (field, d) in wanted.iter().zip(drafted) {
        if d.chain.is_empty() {
            let _ = writeln!(
                out,
                "  # field {}: {} optional = ...   (no expression found in the samples)",
                field.name, field.ty
            );
            continue;
        }
        let chain: Vec<&str> = d.chain.iter().map(|c| c.expr.as_str()).collect();
        let _ = writeln!(
            out,
            "  field {}: {} optional =\n        {}",
            field.name,
            field.ty,
            chain.join("\n     ?? ")
        );
    }
    out.push_str("}\n");
    let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let mut names = BTreeSet::new();
    for (i, sample) in samples.iter().enumerate() {
        let stem = sample
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("sample {}", i + 1));
        let mut name = stem.clone();
        let mut n = 1;
        while !names.insert(name.clone()) {
            n += 1;
            name = format!("{stem} ({n})");
        }
        let input = std::fs::canonicalize(&sample.path)
            .map(|p| relative(&p, &base))
            .unwrap_or_else(|_| sample.path.clone());
        let _ = writeln!(out, "\ntest {} {{", rule_literal(&name));
        let _ = writeln!(out, "  input {}", rule_literal(&input.to_string_lossy()));
        out.push_str("  expect {\n");
        for (field, d) in wanted.iter().zip(drafted) {
            if d.chain.is_empty() {
                continue;
            }
            if let Some(value) = &field.values[i] {
                let _ = writeln!(out, "    {} = {}", field.name, rule_literal(value));
            }
        }
        out.push_str("    status = \"extracted\"\n  }\n}\n");
    }
    Ok(out)
}

/// `path` relative to the directory `base` (both canonical).
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path_parts: Vec<_> = path.components().collect();
    let base_parts: Vec<_> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..base_parts.len() {
        out.push("..");
    }
    for part in &path_parts[common..] {
        out.push(part);
    }
    out
}
