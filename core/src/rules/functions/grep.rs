//! `grep(pattern)`: the items of a list that match a regular expression.

use super::*;

use crate::textops::BudgetedRegex;
use std::sync::Arc;

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

struct GrepStep(Arc<BudgetedRegex>);

impl Step for GrepStep {
    fn apply<'c>(&self, input: Value<'c>, cx: &'c Cx<'c>) -> Option<Value<'c>> {
        // A spent budget ends the scan (`map_while`); the evaluator then stops the run.
        let keep = |s: &str| self.0.is_match(s, &cx.budget).ok();
        match input {
            Value::List(items) => Value::list(
                items
                    .into_iter()
                    .map_while(|s| Some((keep(&s)?, s)))
                    .filter(|(k, _)| *k)
                    .map(|(_, s)| s),
            ),
            Value::Text(std::borrow::Cow::Borrowed(s)) => Value::list(
                crate::textops::lines_iter(s)
                    .map_while(|l| Some((keep(l)?, l)))
                    .filter(|(k, _)| *k)
                    .map(|(_, l)| std::borrow::Cow::Borrowed(l)),
            ),
            Value::Text(std::borrow::Cow::Owned(s)) => Value::list(
                crate::textops::lines_iter(&s)
                    .map_while(|l| Some((keep(l)?, l)))
                    .filter(|(k, _)| *k)
                    .map(|(_, l)| std::borrow::Cow::Owned(l.to_owned())),
            ),
            _ => None,
        }
    }
}
