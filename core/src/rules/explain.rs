//! What a rule file did with one email, step by step: `mailex extract --explain`.
//!
//! An [`Explanation`] lists every profile the evaluator looked at (and the condition that ruled
//! it out), then, for each field of the chosen profile, every `??` alternative and what became
//! of it: the value it gave, the call that gave nothing, the value its type rejected, or that it
//! was not tried because an earlier one fired. It quotes values from the email, so it is shown
//! to the author on request and never logged or stored in a record.

use std::fmt;

/// How many characters of a value an explanation quotes.
const QUOTED_CHARS: usize = 80;

/// The trace of one rule-file run on one email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    /// The profiles looked at, in evaluation order (priority, then file order), up to and
    /// including the chosen one.
    pub profiles: Vec<ProfileTrace>,
    /// The chosen profile's fields, in file order.
    pub fields: Vec<FieldTrace>,
    /// Why evaluation stopped early (a spent time or memory budget), if it did.
    pub stopped: Option<String>,
}

/// A profile and whether its `match` block held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileTrace {
    /// The profile's name.
    pub name: String,
    /// `None` when every condition held (the profile was chosen); otherwise the source text of
    /// the first `match` line none of whose conditions held (`a or b` lines are joined).
    pub failed_condition: Option<String>,
}

/// One field and its alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTrace {
    /// The field's name.
    pub name: String,
    /// Its type as written (`phone`, `person_name`, ...).
    pub ty: String,
    /// Whether it is `required`.
    pub required: bool,
    /// Every alternative, in order.
    pub alternatives: Vec<AlternativeTrace>,
}

/// One `??` alternative of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternativeTrace {
    /// The alternative's source text.
    pub source: String,
    /// What became of it.
    pub outcome: Outcome,
}

/// What became of one alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It gave this value (quoted, cut at 80 characters), and the field took it.
    Chosen {
        /// The normalised value as the record shows it.
        value: String,
    },
    /// The call with this source text gave no value (nothing found, or a blank text).
    NoValue {
        /// The source text of the call that gave nothing (`css("td.phone")`).
        call: String,
    },
    /// The chain ended on something that is not a text (elements, a list, an email).
    NotText,
    /// It found a text the field's type rejected.
    Rejected {
        /// The text found (quoted, cut at 80 characters).
        found: String,
        /// Why the type rejected it.
        why: String,
    },
    /// Not evaluated: an earlier alternative gave the value.
    NotTried,
}

/// Cuts `text` to at most [`QUOTED_CHARS`] characters for display.
pub(crate) fn quote(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(QUOTED_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}...", &text[..end]),
    }
}

/// A field type's name as written in rule files.
pub(crate) fn type_name(ty: &super::FieldType) -> &'static str {
    use super::FieldType as T;
    match ty {
        T::Text => "text",
        T::Email => "email",
        T::Phone { .. } => "phone",
        T::Url => "url",
        T::Int => "int",
        T::Decimal => "decimal",
        T::Money { .. } => "money",
        T::Date { .. } => "date",
        T::Datetime { .. } => "datetime",
        T::PersonName => "person_name",
        T::Enum(_) => "enum",
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for profile in &self.profiles {
            match &profile.failed_condition {
                None => writeln!(f, "profile `{}`: chosen", profile.name)?,
                Some(condition) => writeln!(
                    f,
                    "profile `{}`: skipped, no condition held in `{condition}`",
                    profile.name
                )?,
            }
        }
        if self.profiles.iter().all(|p| p.failed_condition.is_some()) {
            writeln!(f, "no profile matched")?;
        }
        for field in &self.fields {
            let required = if field.required { ", required" } else { "" };
            writeln!(f, "field `{}` ({}{required}):", field.name, field.ty)?;
            let n = field.alternatives.len();
            for (i, alt) in field.alternatives.iter().enumerate() {
                write!(f, "  {}/{n} {}: ", i + 1, alt.source)?;
                match &alt.outcome {
                    Outcome::Chosen { value } => writeln!(f, "chosen, {value:?}")?,
                    Outcome::NoValue { call } if *call == alt.source => writeln!(f, "no value")?,
                    Outcome::NoValue { call } => writeln!(f, "no value from `{call}`")?,
                    Outcome::NotText => writeln!(
                        f,
                        "not a text (end the chain with `.text`, `.first` or `.join`)"
                    )?,
                    Outcome::Rejected { found, why } => {
                        writeln!(f, "found {found:?}, rejected: {why}")?
                    }
                    Outcome::NotTried => writeln!(f, "not tried")?,
                }
            }
            if field
                .alternatives
                .iter()
                .all(|a| !matches!(a.outcome, Outcome::Chosen { .. }))
            {
                writeln!(f, "  => no value")?;
            }
        }
        if let Some(stopped) = &self.stopped {
            writeln!(f, "stopped: {stopped}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_cut_on_character_boundaries() {
        assert_eq!(quote("short"), "short");
        let long = "é".repeat(100);
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), QUOTED_CHARS + 3);
        assert!(quoted.ends_with("..."));
    }
}
