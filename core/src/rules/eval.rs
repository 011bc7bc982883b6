//! The evaluator: runs a compiled rule file on one email.

use std::borrow::Cow;

use mailex_grammar::ast::CondOp;
use mailex_grammar::codes;

use super::compiler::{CAlt, CAtom, CHead, CProfile, Program};
use super::functions::{Cx, Value};
use super::value::MAX_FIELD_LEN;
use crate::extractor::{Completeness, Extraction};
use crate::message::Email;
use crate::record::Issue;
use crate::textops::find_ci;

fn issue_code(code: mailex_grammar::Code) -> String {
    code.name().replace('-', "_")
}

/// A record issue about one field, its message led by the code (`E202: ...`).
fn field_issue(code: mailex_grammar::Code, field: &str, detail: String) -> Issue {
    Issue::for_field(issue_code(code), field, format!("{code}: {detail}"))
}

/// Evaluates one alternative to a value.
fn eval_alt<'c>(alt: &CAlt, cx: &'c Cx<'c>) -> Option<Value<'c>> {
    let mut v = match &alt.head {
        CHead::Literal(s) => Value::Text(Cow::Owned(s.clone())),
        CHead::Call(step) => step.apply(Value::Message(cx.root), cx)?,
    };
    for step in &alt.steps {
        v = step.apply(v, cx)?;
    }
    Some(v)
}

fn atom_holds<'c>(a: &CAtom, cx: &'c Cx<'c>) -> bool {
    holds_inner(a, cx) != a.negated
}

fn holds_inner<'c>(a: &CAtom, cx: &'c Cx<'c>) -> bool {
    let Some(v) = eval_alt(&a.subject, cx) else {
        return false;
    };
    if a.op == CondOp::Exists {
        return true;
    }
    let needle = a.value.as_str();
    v.texts().iter().any(|t| match a.op {
        CondOp::Contains => find_ci(t, needle).is_some(),
        CondOp::Equals => {
            t.trim().eq_ignore_ascii_case(needle.trim())
                || t.trim().to_lowercase() == needle.trim().to_lowercase()
        }
        CondOp::StartsWith => {
            let t = t.trim_start();
            t.get(..needle.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(needle))
        }
        CondOp::EndsWith => {
            let t = t.trim_end();
            t.len() >= needle.len()
                && t.is_char_boundary(t.len() - needle.len())
                && t[t.len() - needle.len()..].eq_ignore_ascii_case(needle)
        }
        CondOp::Matches => a.regex.as_ref().is_some_and(|re| re.is_match(t)),
        CondOp::Exists => true,
    })
}

/// Picks the profile for an email: highest priority first, then file order.
pub(crate) fn select<'p, 'c>(
    program: &'p Program,
    order: &[usize],
    cx: &'c Cx<'c>,
) -> Option<&'p CProfile> {
    order.iter().map(|&i| &program.profiles[i]).find(|p| {
        p.conditions
            .iter()
            .all(|any| any.iter().any(|a| atom_holds(a, cx)))
    })
}

/// Runs the program on an email.
pub(crate) fn extract(program: &Program, order: &[usize], email: &Email<'_>) -> Extraction {
    let cx = Cx::new(email);
    let mut out = Extraction::new();
    let Some(profile) = select(program, order, &cx) else {
        out.completeness = Completeness::Failed;
        out.errors.push(Issue::new(
            issue_code(codes::NO_PROFILE_MATCHED),
            format!("{}: no profile of the rule file matched this email; the sender may have changed its layout", codes::NO_PROFILE_MATCHED),
        ));
        return out;
    };
    out.profile = Some(profile.name.clone());
    out.sensitive = profile.sensitive.clone();
    for field in &profile.fields {
        let n = field.alternatives.len();
        let mut rejected: Vec<(usize, String)> = Vec::new();
        let mut found = None;
        for (i, alt) in field.alternatives.iter().enumerate() {
            let Some(v) = eval_alt(alt, &cx) else {
                continue;
            };
            let Some(raw) = v.as_text() else { continue };
            let mut raw = raw;
            if raw.len() > MAX_FIELD_LEN {
                let mut end = MAX_FIELD_LEN;
                while !raw.is_char_boundary(end) {
                    end -= 1;
                }
                raw = &raw[..end];
                out.warnings.push(field_issue(
                    codes::VALUE_TRUNCATED,
                    &field.name,
                    format!(
                        "field `{}` was longer than {MAX_FIELD_LEN} bytes and was cut",
                        field.name
                    ),
                ));
            }
            match field.ty.normalize(raw) {
                Ok(value) => {
                    found = Some((i, value));
                    break;
                }
                Err(e) => rejected.push((i, e.to_string())),
            }
        }
        for (i, why) in &rejected {
            if found.as_ref().is_some_and(|(j, _)| j < i) {
                continue;
            }
            out.warnings.push(field_issue(
                codes::NORMALIZE_FAILED,
                &field.name,
                format!(
                    "field `{}`: alternative {}/{n} found a value its type rejects: {why}",
                    field.name,
                    i + 1
                ),
            ));
        }
        match found {
            Some((i, value)) => {
                let alt = &field.alternatives[i];
                out.provenance
                    .insert(field.name.clone(), format!("{}/{n}: {}", i + 1, alt.source));
                if field.required && i > 0 {
                    out.warnings.push(field_issue(codes::DEGRADED, &field.name, format!("required field `{}` came from alternative {}/{n} (`{}`), not the first; the layout may have changed", field.name,
                            i + 1,
                            alt.source)));
                }
                out.fields.insert(field.name.clone(), value);
            }
            None if field.required => {
                out.completeness = Completeness::Partial;
                out.errors.push(field_issue(
                    codes::MISSING_REQUIRED,
                    &field.name,
                    format!(
                        "required field `{}` has no value (tried {n} alternative{})",
                        field.name,
                        if n == 1 { "" } else { "s" }
                    ),
                ));
            }
            None => {}
        }
    }
    out
}
