//! `grep(pattern)`: the items of a list that match a regular expression.

use super::*;
use ::regex::Regex;

pub(crate) const FUNCTION: Function = Function {
    name: "grep",
    summary: "Keeps the items of a list (or the lines of a text) that match a regular expression. \
              Useful for unlabelled values: `text.lines.grep(r\"^\\d{1,2}/\\d{1,2}/\\d{4}$\").first`.",
    sigs: &[
        Sig {
            receiver: Ty::List,
            returns: Ty::List,
        },
        Sig {
            receiver: Ty::Text,
            returns: Ty::List,
        },
    ],
    params: &[Param {
        name: "pattern",
        kind: ParamKind::Regex,
        required: true,
        doc: "the regular expression",
    }],
    examples: &[
        Example {
            title: "an unlabelled date line",
            email: samples::TEXT,
            expr: r#"text.lines.grep(r"^\d\d/\d\d/\d{4}$").first"#,
            result: None,
        },
        Example {
            title: "lines mentioning a word",
            email: samples::TEXT,
            expr: r#"text.grep(r"(?i)tour").first"#,
            result: Some("I'd like a tour."),
        },
    ],
    compile: |_, args| Ok(Box::new(GrepStep(args.regex(0)?.clone()))),
};

struct GrepStep(Regex);

impl Step for GrepStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::List(items) => Value::list(items.into_iter().filter(|s| self.0.is_match(s))),
            Value::Text(std::borrow::Cow::Borrowed(s)) => Value::list(
                crate::textops::lines(s)
                    .into_iter()
                    .filter(|l| self.0.is_match(l))
                    .map(std::borrow::Cow::Borrowed),
            ),
            Value::Text(std::borrow::Cow::Owned(s)) => Value::list(
                crate::textops::lines(&s)
                    .into_iter()
                    .filter(|l| self.0.is_match(l))
                    .map(|l| std::borrow::Cow::Owned(l.to_owned())),
            ),
            _ => None,
        }
    }
}
