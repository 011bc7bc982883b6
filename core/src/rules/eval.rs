//! The evaluator: runs a compiled rule file on one email.

use std::borrow::Cow;

use mailex_grammar::ast::CondOp;
use mailex_grammar::codes;

use super::compiler::{CAlt, CAtom, CField, CHead, CProfile, Program};
use super::explain::{
    AlternativeTrace, Explanation, FieldTrace, Outcome, ProfileTrace, quote, type_name,
};
use super::functions::{Cx, Value};
use super::types::FieldType;
use super::value::MAX_FIELD_LEN;
use crate::budget::{Budget, Exceeded};
use crate::extractor::{Completeness, Extraction};
use crate::message::Email;
use crate::normalize::NormalizeError;
use crate::record::{FieldValue, Issue, IssueCode};
use crate::textops::find_ci;

/// A record issue about one field, its message led by the rule diagnostic's number
/// (`E202: ...`).
fn field_issue(code: IssueCode, field: &str, detail: String) -> Issue {
    let message = match code.rule_diagnostic() {
        Some(diagnostic) => format!("{diagnostic}: {detail}"),
        None => detail,
    };
    Issue::for_field(code, field, message)
}

/// Evaluates one alternative to a value. Every intermediate value is charged to the budget
/// (the caller releases the charge when the alternative is done); a spent budget ends the
/// alternative with no value, and the caller sees [`crate::budget::Budget::exceeded`].
fn eval_alt<'c>(alt: &CAlt, cx: &'c Cx<'c>) -> Option<Value<'c>> {
    eval_alt_or_failed_call(alt, cx).ok()
}

/// [`eval_alt`], or the index in [`CAlt::call_sources`] of the call that gave no value.
fn eval_alt_or_failed_call<'c>(alt: &CAlt, cx: &'c Cx<'c>) -> Result<Value<'c>, usize> {
    let mut v = match &alt.head {
        CHead::Literal(s) => Value::Text(Cow::Owned(s.clone())),
        CHead::Call(step) => step.apply(Value::Message(cx.root), cx).ok_or(0usize)?,
    };
    // With a literal head, the first step is call 0.
    let first_step = usize::from(matches!(alt.head, CHead::Call(_)));
    cx.budget.charge(v.owned_bytes()).map_err(|_| 0usize)?;
    for (i, step) in alt.steps.iter().enumerate() {
        v = step.apply(v, cx).ok_or(first_step + i)?;
        cx.budget
            .charge(v.owned_bytes().max(1))
            .map_err(|_| first_step + i)?;
    }
    Ok(v)
}

/// Normalises the value of one alternative to the field's type (`None` when the value is not a
/// text); a value longer than [`MAX_FIELD_LEN`] is cut first, with a warning.
fn normalize_alternative(
    field: &CField,
    value: &Value<'_>,
    out: &mut Extraction,
) -> Option<Result<FieldValue, NormalizeError>> {
    let mut raw = value.as_text()?;
    if raw.len() > MAX_FIELD_LEN {
        raw = &raw[..crate::budget::floor_char_boundary(raw, MAX_FIELD_LEN)];
        out.warnings.push(field_issue(
            IssueCode::ValueTruncated,
            &field.name,
            format!(
                "field `{}` was longer than {MAX_FIELD_LEN} bytes and was cut",
                field.name
            ),
        ));
    }
    if let FieldType::Money {
        currency,
        currency_from: Some(source),
    } = &field.ty
    {
        // The currency another field found (an ADF `<price currency="EUR">`), else the type's.
        let found = out.fields.get(source).map(FieldValue::to_display_string);
        let currency = found
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
            .or_else(|| currency.clone());
        return Some(crate::normalize::money(raw, currency.as_deref()).map(FieldValue::Money));
    }
    Some(field.ty.normalize(raw))
}

/// The failed extraction of a run whose budget was spent, naming what was being evaluated.
fn budget_spent(cx: &Cx<'_>, what: Exceeded, during: &str) -> Extraction {
    let budget = &cx.budget;
    let message = match what {
        Exceeded::Time => format!(
            "the rule file ran past its {} ms deadline ({}) and was stopped",
            budget.time_limit().as_millis(),
            during
        ),
        Exceeded::Memory => format!(
            "the rule file needed more than its {} MiB memory budget ({}) and was stopped",
            budget.memory_limit() / (1024 * 1024),
            during
        ),
    };
    let mut out = Extraction::failed(Issue::new(what.code(), message));
    out.peak_memory_bytes = Some(budget.peak_bytes());
    out
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
    v.texts(&cx.budget).iter().any(|t| match a.op {
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
        CondOp::Matches => a
            .regex
            .as_ref()
            .is_some_and(|re| re.is_match(t, &cx.budget).unwrap_or(false)),
        CondOp::Exists => true,
    })
}

/// Picks the profile for an email: highest priority first, then file order. With `trace`,
/// records each profile looked at and the condition line that ruled it out.
pub(crate) fn select<'p, 'c>(
    program: &'p Program,
    order: &[usize],
    cx: &'c Cx<'c>,
    mut trace: Option<&mut Explanation>,
) -> Option<&'p CProfile> {
    order.iter().map(|&i| &program.profiles[i]).find(|p| {
        let failed = p.conditions.iter().find(|any| {
            !any.iter().any(|a| {
                let mark = cx.budget.scratch_mark();
                let holds = atom_holds(a, cx);
                cx.budget.release_scratch(mark);
                holds
            })
        });
        if let Some(trace) = trace.as_deref_mut() {
            trace.profiles.push(ProfileTrace {
                name: p.name.clone(),
                failed_condition: failed.map(|any| {
                    any.iter()
                        .map(|a| a.source.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                }),
            });
        }
        failed.is_none() && cx.budget.exceeded().is_none()
    })
}

/// Runs the program on an email, within `budget`.
pub(crate) fn extract(
    program: &Program,
    order: &[usize],
    email: &Email<'_>,
    budget: Budget,
) -> Extraction {
    extract_traced(program, order, email, budget, None)
}

/// [`extract`], recording what each profile and alternative did into `trace`.
pub(crate) fn extract_traced(
    program: &Program,
    order: &[usize],
    email: &Email<'_>,
    budget: Budget,
    mut trace: Option<&mut Explanation>,
) -> Extraction {
    let cx = Cx::new(email, budget);
    let mut out = evaluate(program, order, &cx, trace.as_deref_mut());
    out.peak_memory_bytes = Some(cx.budget.peak_bytes());
    if let Some(trace) = trace
        && out.completeness == Completeness::Failed
        && let Some(error) = out.errors.first()
        && cx.budget.exceeded().is_some()
    {
        trace.stopped = Some(error.message.clone());
    }
    out
}

fn evaluate<'c>(
    program: &Program,
    order: &[usize],
    cx: &'c Cx<'c>,
    mut trace: Option<&mut Explanation>,
) -> Extraction {
    let mut out = Extraction::new();
    let selected = select(program, order, cx, trace.as_deref_mut());
    if let Some(what) = cx.budget.exceeded() {
        return budget_spent(cx, what, "while choosing the profile");
    }
    let Some(profile) = selected else {
        out.completeness = Completeness::Failed;
        out.errors.push(Issue::new(
            IssueCode::NoProfileMatched,
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
        let mut outcomes: Vec<Outcome> = Vec::new();
        for (i, alt) in field.alternatives.iter().enumerate() {
            let mark = cx.budget.scratch_mark();
            let value = match eval_alt_or_failed_call(alt, cx) {
                Ok(value) => Some(value),
                Err(call) => {
                    if trace.is_some() {
                        outcomes.push(Outcome::NoValue {
                            call: alt.call_sources.get(call).unwrap_or(&alt.source).clone(),
                        });
                    }
                    None
                }
            };
            if let Some(what) = cx.budget.exceeded() {
                return budget_spent(
                    cx,
                    what,
                    &format!(
                        "while evaluating field `{}`, alternative {}/{n}",
                        field.name,
                        i + 1
                    ),
                );
            }
            let normalized = value
                .as_ref()
                .and_then(|v| normalize_alternative(field, v, &mut out));
            if trace.is_some()
                && let Some(value) = &value
            {
                outcomes.push(match (&normalized, value.as_text()) {
                    (Some(Ok(v)), _) => Outcome::Chosen {
                        value: quote(&v.to_display_string()),
                    },
                    (Some(Err(e)), Some(found)) => Outcome::Rejected {
                        found: quote(found),
                        why: e.to_string(),
                    },
                    _ => Outcome::NotText,
                });
            }
            drop(value);
            cx.budget.release_scratch(mark);
            match normalized {
                Some(Ok(value)) => {
                    found = Some((i, value));
                    break;
                }
                Some(Err(e)) => rejected.push((i, e.to_string())),
                None => {}
            }
        }
        if let Some(trace) = trace.as_deref_mut() {
            outcomes.resize(field.alternatives.len(), Outcome::NotTried);
            trace.fields.push(FieldTrace {
                name: field.name.clone(),
                ty: type_name(&field.ty).to_owned(),
                required: field.required,
                alternatives: field
                    .alternatives
                    .iter()
                    .zip(outcomes)
                    .map(|(alt, outcome)| AlternativeTrace {
                        source: alt.source.clone(),
                        outcome,
                    })
                    .collect(),
            });
        }
        for (i, why) in &rejected {
            if found.as_ref().is_some_and(|(j, _)| j < i) {
                continue;
            }
            out.warnings.push(field_issue(
                IssueCode::NormalizeFailed,
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
                    out.warnings.push(field_issue(IssueCode::Degraded, &field.name, format!("required field `{}` came from alternative {}/{n} (`{}`), not the first; the layout may have changed", field.name,
                            i + 1,
                            alt.source)));
                }
                out.fields.insert(field.name.clone(), value);
            }
            None if field.required => {
                out.completeness = Completeness::Partial;
                out.errors.push(field_issue(
                    IssueCode::MissingRequired,
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
