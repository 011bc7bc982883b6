//! Lowering pest pairs into the typed AST of [`crate::ast`].

use pest::iterators::Pair;

use crate::ast::*;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::limits;
use crate::parser::{Context, Rule, explain_bad};
use crate::span::{Span, Spanned};

type Diags = Vec<Diagnostic>;

fn span(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

/// Counts the items of one list against its limit. Items past the limit are reported once
/// (`E010`, on the first of them) and left out of the tree, so later stages never see more.
struct Quota {
    what: &'static str,
    container: &'static str,
    limit: usize,
    used: usize,
}

impl Quota {
    fn new(what: &'static str, container: &'static str, limit: usize) -> Self {
        Quota {
            what,
            container,
            limit,
            used: 0,
        }
    }

    /// Whether one more item at `at` fits; reports the first item that does not.
    fn take(&mut self, at: Span, diags: &mut Diags) -> bool {
        self.used += 1;
        if self.used == self.limit + 1 {
            diags.push(
                Diagnostic::new(
                    codes::TOO_MANY_ITEMS,
                    format!(
                        "too many {} in {}: the limit is {}",
                        self.what, self.container, self.limit
                    ),
                )
                .primary(at, format!("{} number {} is over the limit", singular(self.what), self.limit + 1))
                .help("rule files are bounded so that checking one always stays fast; split the work across profiles or rule files (see \"Limits\" in docs/dsl.md)"),
            );
        }
        self.used <= self.limit
    }
}

fn singular(what: &str) -> &str {
    match what {
        "alternatives" => "alternative",
        "arguments" => "argument",
        "condition atoms" => "atom",
        "conditions" => "condition",
        "expectations" => "expectation",
        "fields" => "field",
        "profiles" => "profile",
        "sensitive names" => "name",
        "steps" => "step",
        "tests" => "test",
        other => other,
    }
}

/// Reports a literal or identifier longer than its limit (`E011`).
fn check_length(kind: &str, len: usize, limit: usize, at: Span, diags: &mut Diags) {
    if len > limit {
        diags.push(
            Diagnostic::new(
                codes::TOO_LONG,
                format!("{kind} is {len} bytes long: the limit is {limit}"),
            )
            .primary(at, format!("longer than {limit} bytes"))
            .help("rule files are bounded so that checking one always stays fast (see \"Limits\" in docs/dsl.md)"),
        );
    }
}

pub(crate) fn file(pair: Pair<'_, Rule>, diags: &mut Diags) -> RuleFile {
    let mut out = RuleFile::default();
    let mut first_item = true;
    let mut profiles = Quota::new("profiles", "one rule file", limits::MAX_PROFILES);
    let mut tests = Quota::new("tests", "one rule file", limits::MAX_TESTS);
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::version_decl => {
                let sp = span(&p);
                let Some(int) = p.into_inner().next() else {
                    continue;
                };
                let int_span = span(&int);
                let Some(v) = integer(&int, diags) else {
                    continue;
                };
                if out.version.is_some() || !first_item {
                    diags.push(
                        Diagnostic::new(
                            codes::SYNTAX_ERROR,
                            "the `version` line must come first, once",
                        )
                        .primary(sp, "misplaced `version` line")
                        .help("keep a single `version 1` at the top of the file"),
                    );
                } else if v != 1 {
                    diags.push(
                        Diagnostic::new(
                            codes::UNSUPPORTED_VERSION,
                            format!("unsupported language version {v}"),
                        )
                        .primary(int_span, "this build speaks version 1 only")
                        .help("write `version 1`"),
                    );
                }
                if out.version.is_none() {
                    out.version = Some(Spanned::new(v, int_span));
                }
            }
            Rule::profile if profiles.take(head_span(&p), diags) => {
                out.profiles.push(profile(p, diags));
            }
            Rule::test if tests.take(head_span(&p), diags) => {
                out.tests.push(test(p, diags));
            }
            Rule::profile | Rule::test => {}
            Rule::bad_item => diags.push(explain_bad(
                p.as_str(),
                p.as_span().start(),
                Context::TopLevel,
            )),
            _ => {}
        }
        first_item = false;
    }
    if out.version.is_none() {
        diags.push(
            Diagnostic::new(codes::MISSING_VERSION, "missing `version` line")
                .primary(
                    Span::new(0, 0),
                    "the file should start with its language version",
                )
                .help("add `version 1` as the first line"),
        );
    }
    out
}

/// The `profile "name"` / `test "name"` head of a block, for labels.
fn head_span(p: &Pair<'_, Rule>) -> Span {
    let sp = span(p);
    p.clone()
        .into_inner()
        .find(|c| c.as_rule() == Rule::string)
        .map(|name| Span::new(sp.start, span(&name).end))
        .unwrap_or(sp)
}

fn integer(p: &Pair<'_, Rule>, diags: &mut Diags) -> Option<i64> {
    match p.as_str().parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            diags.push(
                Diagnostic::new(codes::INTEGER_OUT_OF_RANGE, "integer literal out of range")
                    .primary(span(p), "does not fit in 64 bits")
                    .help(format!("use a value between {} and {}", i64::MIN, i64::MAX)),
            );
            None
        }
    }
}

fn string(p: Pair<'_, Rule>, diags: &mut Diags) -> Spanned<String> {
    let sp = span(&p);
    let raw = p.as_rule() == Rule::raw_string;
    let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
    // Escapes only shorten a literal, so its source length bounds its value.
    check_length(
        "string literal",
        inner.len(),
        limits::MAX_LITERAL_BYTES,
        sp,
        diags,
    );
    if raw {
        return Spanned::new(inner.to_owned(), sp);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, other)) => {
                let at = sp.start + 1 + i;
                diags.push(
                    Diagnostic::new(codes::INVALID_ESCAPE, format!("unknown escape sequence `\\{other}`"))
                        .primary(Span::new(at, at + 1 + other.len_utf8()), "not a known escape")
                        .help("the escapes are `\\n`, `\\t`, `\\r`, `\\\"` and `\\\\`; for regex escapes use a raw string `r\"...\"`"),
                );
                out.push(other);
            }
            None => {}
        }
    }
    Spanned::new(out, sp)
}

fn ident(p: Pair<'_, Rule>, diags: &mut Diags) -> Ident {
    let sp = span(&p);
    check_length(
        "identifier",
        p.as_str().len(),
        limits::MAX_IDENT_BYTES,
        sp,
        diags,
    );
    Spanned::new(p.as_str().to_owned(), sp)
}

fn literal(p: Pair<'_, Rule>, diags: &mut Diags) -> Option<Literal> {
    let p = if p.as_rule() == Rule::literal {
        p.into_inner().next()?
    } else {
        p
    };
    let sp = span(&p);
    let value = match p.as_rule() {
        Rule::string | Rule::raw_string => LiteralValue::Str(string(p, diags).node),
        Rule::integer => LiteralValue::Int(integer(&p, diags)?),
        Rule::boolean => LiteralValue::Bool(p.as_str() == "true"),
        _ => return None,
    };
    Some(Literal { value, span: sp })
}

fn profile(p: Pair<'_, Rule>, diags: &mut Diags) -> Profile {
    let sp = span(&p);
    let mut name = Spanned::new(String::new(), sp);
    let mut out = Profile {
        name: name.clone(),
        priority: None,
        conditions: vec![],
        match_span: None,
        fields: vec![],
        sensitive: vec![],
        span: sp,
        head_span: sp,
    };
    let mut fields = Quota::new("fields", "one profile", limits::MAX_FIELDS);
    let mut conditions = Quota::new("conditions", "one profile", limits::MAX_CONDITIONS);
    let mut sensitive = Quota::new("sensitive names", "one profile", limits::MAX_SENSITIVE);
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::string => {
                name = string(c, diags);
                out.head_span = Span::new(sp.start, name.span.end);
            }
            Rule::priority => {
                if let Some(int) = c.into_inner().next() {
                    let isp = span(&int);
                    out.priority = integer(&int, diags).map(|v| Spanned::new(v, isp));
                }
            }
            Rule::match_block => {
                out.match_span.get_or_insert(span(&c));
                for cond in c.into_inner() {
                    if conditions.take(span(&cond), diags) {
                        out.conditions.push(condition(cond, diags));
                    }
                }
            }
            Rule::field => {
                if fields.take(span(&c), diags)
                    && let Some(f) = field(c, diags)
                {
                    out.fields.push(f);
                }
            }
            Rule::sensitive => {
                for name in c.into_inner() {
                    if sensitive.take(span(&name), diags) {
                        out.sensitive.push(ident(name, diags));
                    }
                }
            }
            Rule::bad_stmt => diags.push(explain_bad(
                c.as_str(),
                c.as_span().start(),
                Context::Profile,
            )),
            _ => {}
        }
    }
    out.name = name;
    out
}

fn condition(p: Pair<'_, Rule>, diags: &mut Diags) -> Condition {
    let sp = span(&p);
    let mut atoms = Quota::new(
        "condition atoms",
        "one condition",
        limits::MAX_CONDITION_ATOMS,
    );
    let mut any = Vec::new();
    for a in p.into_inner().filter(|a| a.as_rule() == Rule::cond_atom) {
        if atoms.take(span(&a), diags)
            && let Some(atom) = cond_atom(a, diags)
        {
            any.push(atom);
        }
    }
    Condition { any, span: sp }
}

fn cond_atom(p: Pair<'_, Rule>, diags: &mut Diags) -> Option<CondAtom> {
    let sp = span(&p);
    let mut negated = false;
    let mut subject = None;
    let mut op = None;
    let mut value = None;
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::negation => negated = true,
            Rule::chain => subject = Some(chain(c, vec![], diags)?),
            Rule::exists_op => op = Some(Spanned::new(CondOp::Exists, span(&c))),
            Rule::cond_op => {
                let o = match c.as_str() {
                    "contains" => CondOp::Contains,
                    "equals" => CondOp::Equals,
                    "matches" => CondOp::Matches,
                    "starts_with" => CondOp::StartsWith,
                    _ => CondOp::EndsWith,
                };
                op = Some(Spanned::new(o, span(&c)));
            }
            Rule::literal => value = literal(c, diags),
            _ => {}
        }
    }
    Some(CondAtom {
        negated,
        subject: subject?,
        op: op?,
        value,
        span: sp,
    })
}

fn field(p: Pair<'_, Rule>, diags: &mut Diags) -> Option<Field> {
    let sp = span(&p);
    let mut inner = p.into_inner();
    let name = ident(inner.next()?, diags);
    let ty = type_ref(inner.next()?, diags);
    let mut presence = None;
    let mut value = None;
    for c in inner {
        match c.as_rule() {
            Rule::presence => {
                let v = if c.as_str() == "required" {
                    Presence::Required
                } else {
                    Presence::Optional
                };
                presence = Some(Spanned::new(v, span(&c)));
            }
            Rule::expr => value = Some(expr(c, diags)),
            _ => {}
        }
    }
    Some(Field {
        name,
        ty,
        presence,
        value: value?,
        span: sp,
    })
}

fn type_ref(p: Pair<'_, Rule>, diags: &mut Diags) -> TypeRef {
    let sp = span(&p);
    let mut inner = p.into_inner();
    let name = inner
        .next()
        .map(|n| ident(n, diags))
        .unwrap_or_else(|| Spanned::new(String::new(), sp));
    let args = inner.next().map(|a| args(a, diags)).unwrap_or_default();
    TypeRef {
        name,
        args,
        span: sp,
    }
}

fn args(p: Pair<'_, Rule>, diags: &mut Diags) -> Vec<Arg> {
    let mut quota = Quota::new("arguments", "one call", limits::MAX_ARGS);
    let mut out = Vec::new();
    for a in p.into_inner() {
        let sp = span(&a);
        if !quota.take(sp, diags) {
            continue;
        }
        let mut name = None;
        let mut value = None;
        for c in a.into_inner() {
            match c.as_rule() {
                Rule::ident => name = Some(ident(c, diags)),
                _ => value = literal(c, diags),
            }
        }
        if let Some(value) = value {
            out.push(Arg {
                name,
                value,
                span: sp,
            });
        }
    }
    out
}

fn call(p: Pair<'_, Rule>, piped: bool, diags: &mut Diags) -> Option<Call> {
    let sp = span(&p);
    let mut inner = p.into_inner();
    let name = ident(inner.next()?, diags);
    let args = inner.next().map(|a| args(a, diags)).unwrap_or_default();
    Some(Call {
        name,
        args,
        piped,
        span: sp,
    })
}

fn expr(p: Pair<'_, Rule>, diags: &mut Diags) -> Expr {
    let sp = span(&p);
    let mut quota = Quota::new("alternatives", "one field", limits::MAX_ALTERNATIVES);
    let mut alternatives = Vec::new();
    for a in p.into_inner() {
        if quota.take(span(&a), diags)
            && let Some(alt) = alternative(a, diags)
        {
            alternatives.push(alt);
        }
    }
    Expr {
        alternatives,
        span: sp,
    }
}

fn alternative(p: Pair<'_, Rule>, diags: &mut Diags) -> Option<Alternative> {
    let sp = span(&p);
    let mut inner = p.into_inner();
    let head = inner.next()?;
    let mut steps = Quota::new("steps", "one alternative", limits::MAX_STEPS);
    // The chain's `.` steps come first; count them before the pipes.
    steps.used = head.clone().into_inner().count().saturating_sub(1);
    let mut pipes = Vec::new();
    for pipe in inner {
        let sp = span(&pipe);
        if !steps.take(sp, diags) {
            break;
        }
        if let Some(c) = pipe.into_inner().next().and_then(|c| call(c, true, diags)) {
            pipes.push(Call { span: sp, ..c });
        }
    }
    let mut alt = chain(head, pipes, diags)?;
    alt.span = sp;
    Some(alt)
}

fn chain(p: Pair<'_, Rule>, pipes: Vec<Call>, diags: &mut Diags) -> Option<Alternative> {
    let sp = span(&p);
    let mut inner = p.into_inner();
    let first = inner.next()?;
    let head = match first.as_rule() {
        Rule::literal => Head::Literal(literal(first, diags)?),
        _ => Head::Call(call(first, false, diags)?),
    };
    let mut quota = Quota::new("steps", "one alternative", limits::MAX_STEPS);
    let mut steps: Vec<Call> = Vec::new();
    for c in inner {
        if quota.take(span(&c), diags)
            && let Some(step) = call(c, false, diags)
        {
            steps.push(step);
        }
    }
    steps.extend(pipes);
    Some(Alternative {
        head,
        steps,
        span: sp,
    })
}

fn test(p: Pair<'_, Rule>, diags: &mut Diags) -> Test {
    let sp = span(&p);
    let mut out = Test {
        name: Spanned::new(String::new(), sp),
        inputs: vec![],
        expects: vec![],
        span: sp,
        head_span: sp,
    };
    let mut expectations = Quota::new("expectations", "one test", limits::MAX_EXPECTATIONS);
    for c in p.into_inner() {
        match c.as_rule() {
            Rule::string => {
                out.name = string(c, diags);
                out.head_span = Span::new(sp.start, out.name.span.end);
            }
            Rule::input => {
                if let Some(s) = c.into_inner().next() {
                    out.inputs.push(string(s, diags));
                }
            }
            Rule::expect_block => {
                for e in c.into_inner() {
                    let esp = span(&e);
                    if !expectations.take(esp, diags) {
                        continue;
                    }
                    let mut inner = e.into_inner();
                    let Some(field) = inner.next().map(|f| ident(f, diags)) else {
                        continue;
                    };
                    let value = match inner.next() {
                        Some(v) if v.as_rule() == Rule::string => Some(string(v, diags)),
                        _ => None,
                    };
                    out.expects.push(Expectation {
                        field,
                        value,
                        span: esp,
                    });
                }
            }
            Rule::bad_stmt => {
                diags.push(explain_bad(c.as_str(), c.as_span().start(), Context::Test))
            }
            _ => {}
        }
    }
    out
}
