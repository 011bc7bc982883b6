//! `take(n)`: the first items of a list.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "take",
    summary: "The first `n` items of a list (all of them when it is shorter). With `join`, it \
              glues values spread over several lines, such as a first and a last name.",
    sigs: &[Sig {
        receiver: Ty::List,
        returns: Ty::List,
    }],
    params: &[Param {
        name: "n",
        kind: ParamKind::Int,
        required: true,
        doc: "how many items to keep (at least 1)",
    }],
    examples: &[Example {
        title: "two lines as one value",
        email: samples::TEXT,
        expr: "text.after(\"Message:\").lines.take(2).join(\" \")",
        result: Some("Hello, I'd like a tour."),
    }],
    compile: |_, args| {
        let n = args.int(0).unwrap_or(0);
        if n < 1 {
            return Err(ArgError::new(
                mailex_grammar::codes::BAD_ARGUMENTS,
                0,
                "`take` keeps at least one item",
            ));
        }
        Ok(Box::new(TakeStep(usize::try_from(n).unwrap_or(usize::MAX))))
    },
};

struct TakeStep(usize);

impl Step for TakeStep {
    fn apply<'c>(&self, input: Value<'c>, _cx: &'c Cx<'c>) -> Option<Value<'c>> {
        match input {
            Value::List(mut items) => {
                items.truncate(self.0);
                Some(Value::List(items))
            }
            _ => None,
        }
    }
}
