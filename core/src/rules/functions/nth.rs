//! `nth(n)`: the n-th item of a list.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "nth",
    summary: "The `n`-th item of a list, counting from 1; negative `n` counts from the end (`-1` is the last).",
    sigs: LIST_TO_TEXT,
    params: &[Param {
        name: "n",
        kind: ParamKind::Int,
        required: true,
        doc: "1-based position; negative from the end",
    }],
    examples: &[
        Example {
            title: "third line",
            email: samples::TEXT,
            expr: "text.lines.nth(3)",
            result: Some("Email: Jane.Doe@Example.com"),
        },
        Example {
            title: "from the end",
            email: samples::TEXT,
            expr: "text.lines.nth(-2)",
            result: Some("----"),
        },
        Example {
            title: "out of range",
            email: samples::TEXT,
            expr: "text.lines.nth(500)",
            result: None,
        },
    ],
    compile: |_, args| {
        let n = args.int(0).unwrap_or(0);
        if n == 0 {
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                0,
                "positions count from 1",
            )
            .help("use `nth(1)` (or `.first`) for the first item and `nth(-1)` for the last"));
        }
        Ok(Box::new(NthStep(n)))
    },
};

struct NthStep(i64);

impl Step for NthStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        let Value::List(mut items) = input else {
            return None;
        };
        let len = items.len() as i64;
        let i = if self.0 > 0 { self.0 - 1 } else { len + self.0 };
        if (0..len).contains(&i) {
            Some(Value::Text(items.swap_remove(i as usize)))
        } else {
            None
        }
    }
}
