//! The compiler: semantic checks over the syntax tree, and the compiled form the
//! evaluator runs. Every error of a file is collected; compilation keeps going.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailex_grammar::ast::{self, CondOp, Head, LiteralValue, Presence};
use mailex_grammar::{Diagnostic, Span, codes, suggest};

use super::functions::{self, ArgError, Args, ParamKind, Prepared, Step, Ty};
use super::limits;
use super::types::FieldType;
use crate::regex_budget::{BudgetError, RegexBudget};
use crate::textops::BudgetedRegex;

/// A compiled rule file.
pub(crate) struct Program {
    pub(crate) profiles: Vec<CProfile>,
    pub(crate) tests: Vec<CTest>,
}

pub(crate) struct CProfile {
    pub(crate) name: String,
    pub(crate) priority: i64,
    pub(crate) conditions: Vec<Vec<CAtom>>,
    pub(crate) fields: Vec<CField>,
    pub(crate) sensitive: Vec<String>,
}

pub(crate) struct CAtom {
    pub(crate) negated: bool,
    pub(crate) subject: CAlt,
    pub(crate) op: CondOp,
    pub(crate) value: String,
    pub(crate) regex: Option<Arc<BudgetedRegex>>,
    /// The condition's source text, for `mailex extract --explain`.
    pub(crate) source: String,
}

pub(crate) struct CField {
    pub(crate) name: String,
    pub(crate) ty: FieldType,
    pub(crate) required: bool,
    pub(crate) alternatives: Vec<CAlt>,
}

pub(crate) struct CAlt {
    pub(crate) head: CHead,
    pub(crate) steps: Vec<Box<dyn Step>>,
    /// The alternative's source text, for provenance.
    pub(crate) source: String,
    /// The source text of the head call and of each step, in order (a literal head has none),
    /// so `mailex extract --explain` can name the step that gave nothing.
    pub(crate) call_sources: Vec<String>,
}

pub(crate) enum CHead {
    Literal(String),
    Call(Box<dyn Step>),
}

/// A compiled test block.
#[derive(Debug, Clone)]
pub(crate) struct CTest {
    pub(crate) name: String,
    /// The input path as written (relative to the rule file's directory).
    pub(crate) written: String,
    /// Where the input path is written, for diagnostics.
    pub(crate) input_span: Span,
    /// The input path joined to the rule file's directory (not yet confined; see
    /// [`super::runner::resolve_input`]).
    pub(crate) input: PathBuf,
    pub(crate) expects: Vec<(String, Option<String>)>,
}

/// Names an `expect` block may use besides fields.
pub(crate) const SPECIAL_EXPECTATIONS: &[&str] = &["profile", "status"];

/// Compiles a parsed file. With `tests = Some(base)`, the `test` blocks are compiled too and
/// their inputs resolved against `base`; with `None` they are skipped: extraction never needs
/// them, and a deployed copy of the rule files has no fixtures.
pub(crate) fn compile(
    file: &ast::RuleFile,
    source: &str,
    tests: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Program {
    let mut c = Compiler {
        source,
        diags,
        regexes: RegexBudget::new(limits::MAX_REGEXES, limits::MAX_REGEX_BYTES),
        regex_budget_reported: false,
        suggestions_left: limits::MAX_SUGGESTION_COMPARISONS,
    };
    let mut profiles = Vec::new();
    let mut seen_profiles: HashMap<&str, Span> = HashMap::new();
    for p in &file.profiles {
        if let Some(first) = seen_profiles.insert(p.name.node.as_str(), p.name.span) {
            c.diags.push(
                Diagnostic::new(
                    codes::DUPLICATE_NAME,
                    format!("profile `{}` is declared twice", p.name.node),
                )
                .primary(p.name.span, "second declaration")
                .context(first, "first declared here")
                .help("give each profile its own name"),
            );
        }
        profiles.push(c.profile(p));
    }
    if file.profiles.is_empty() {
        c.diags.push(
            Diagnostic::new(codes::NO_PROFILES, "the rule file declares no profile")
                .primary(Span::new(0, 0), "nothing to extract with")
                .help("add `profile \"name\" { field ... }`"),
        );
    }
    c.unreachable(file);
    let all_fields: BTreeSet<&str> = file
        .profiles
        .iter()
        .flat_map(|p| p.fields.iter().map(|f| f.name.node.as_str()))
        .collect();
    let Some(base) = tests else {
        return Program {
            profiles,
            tests: Vec::new(),
        };
    };
    let mut tests = Vec::new();
    let mut seen_tests: HashMap<&str, Span> = HashMap::new();
    for t in &file.tests {
        if let Some(first) = seen_tests.insert(t.name.node.as_str(), t.name.span) {
            c.diags.push(
                Diagnostic::new(
                    codes::DUPLICATE_NAME,
                    format!("test `{}` is declared twice", t.name.node),
                )
                .primary(t.name.span, "second declaration")
                .context(first, "first declared here")
                .help("give each test its own name"),
            );
        }
        if let Some(test) = c.test(t, base, &all_fields) {
            tests.push(test);
        }
    }
    Program { profiles, tests }
}

struct Compiler<'a> {
    source: &'a str,
    diags: &'a mut Vec<Diagnostic>,
    regexes: RegexBudget<Arc<BudgetedRegex>>,
    /// `E116` is reported once per file, at the first pattern over the budget.
    regex_budget_reported: bool,
    suggestions_left: usize,
}

impl Compiler<'_> {
    /// [`suggest`] within the file's [`limits::MAX_SUGGESTION_COMPARISONS`].
    fn suggest_bounded<'c>(
        &mut self,
        word: &str,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Option<&'c str> {
        let left = &mut self.suggestions_left;
        let budgeted = candidates
            .into_iter()
            .take(*left)
            .inspect(|_| *left = left.saturating_sub(1));
        suggest(word, budgeted)
    }

    /// Compiles a pattern within the file's regex budget; reports `E104` or `E116` at `span`.
    fn regex(&mut self, pattern: &str, span: Span) -> Option<Arc<BudgetedRegex>> {
        match self.regexes.compile(pattern) {
            Ok(re) => Some(re),
            Err(BudgetError::Invalid(e)) => {
                let err = functions::regex_error(e, 0);
                self.diags.push(
                    Diagnostic::new(err.code, "invalid regular expression")
                        .primary(span, err.message)
                        .help(err.help.unwrap_or_default()),
                );
                None
            }
            Err(e) => {
                if !self.regex_budget_reported {
                    self.regex_budget_reported = true;
                    self.diags.push(
                        Diagnostic::new(codes::REGEX_BUDGET_EXCEEDED, e.to_string())
                            .primary(span, "this pattern is over the file's regex budget")
                            .note(format!(
                                "a rule file may hold {} distinct patterns, compiling to {} MiB in total; this and later patterns were not compiled",
                                limits::MAX_REGEXES,
                                limits::MAX_REGEX_BYTES >> 20
                            ))
                            .help("reuse patterns (the same pattern text is compiled once), prefer `after`/`between`/`line` to regexes, and avoid large counted repetitions such as `\\w{500}`"),
                    );
                }
                None
            }
        }
    }

    /// Checks a selector's complexity and parses it; reports `E117` or `E106` at `span`.
    fn selector(&mut self, selector: &str, span: Span) -> Option<scraper::Selector> {
        if let Err(why) = limits::selector_complexity(selector) {
            self.diags.push(
                Diagnostic::new(codes::SELECTOR_TOO_COMPLEX, "CSS selector too complex")
                    .primary(span, why)
                    .help(format!(
                        "a selector may list {} selectors of {} compound parts in total, nested {} deep; select the element more directly, e.g. by its class",
                        limits::MAX_SELECTOR_LIST,
                        limits::MAX_SELECTOR_COMPOUNDS,
                        limits::MAX_SELECTOR_NESTING
                    )),
            );
            return None;
        }
        match crate::css::parse_selector(selector) {
            Ok(sel) => Some(sel),
            Err(e) => {
                let reason = match &e {
                    crate::css::CssError::Syntax { reason, .. } => reason.clone(),
                    other => other.to_string(),
                };
                self.diags.push(
                    Diagnostic::new(codes::INVALID_SELECTOR, "invalid CSS selector")
                        .primary(span, reason)
                        .help("selectors follow CSS level 3, e.g. `td.name`, `table#lead td:nth-child(2)`, `a[href*=\"listing\"]`"),
                );
                None
            }
        }
    }

    fn text(&self, span: Span) -> String {
        source_text(self.source.get(span.start..span.end).unwrap_or(""))
    }

    fn profile(&mut self, p: &ast::Profile) -> CProfile {
        let mut fields = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for f in &p.fields {
            if let Some(first) = seen.insert(f.name.node.as_str(), f.name.span) {
                self.diags.push(
                    Diagnostic::new(
                        codes::DUPLICATE_FIELD,
                        format!(
                            "field `{}` is declared twice in profile `{}`",
                            f.name.node, p.name.node
                        ),
                    )
                    .primary(f.name.span, "declared again here")
                    .context(first, "first declared here")
                    .help("combine the two with `??`: `field NAME: TYPE = first ?? second`"),
                );
                continue;
            }
            let compiled = self.field(f);
            if let Some(FieldType::Money {
                currency_from: Some(source),
                ..
            }) = compiled.as_ref().map(|cf| &cf.ty)
                && !fields
                    .iter()
                    .any(|earlier: &CField| &earlier.name == source)
            {
                self.diags.push(
                    Diagnostic::new(
                        codes::INVALID_TYPE_ARGUMENT,
                        format!(
                            "`currency_from` names `{source}`, which is not a field declared before `{}`",
                            f.name.node
                        ),
                    )
                    .primary(f.ty.span, "no such earlier field")
                    .help("declare the currency's field first, e.g. `field price_currency: text optional = adf(\"prospect/vehicle/price@currency\")`"),
                );
            }
            if let Some(cf) = compiled {
                fields.push(cf);
            }
        }
        let mut sensitive: Vec<String> = fields
            .iter()
            .filter(|f| f.ty.sensitive_by_default())
            .map(|f| f.name.clone())
            .collect();
        for s in &p.sensitive {
            if !seen.contains_key(s.node.as_str()) {
                let mut d = Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    format!("`sensitive` names an unknown field `{}`", s.node),
                )
                .primary(s.span, "no such field in this profile");
                if let Some(sug) = suggest(&s.node, seen.keys().copied()) {
                    d = d.help(format!("did you mean `{sug}`?"));
                }
                self.diags.push(d);
            } else if !sensitive.contains(&s.node) {
                sensitive.push(s.node.clone());
            }
        }
        let mut conditions = Vec::new();
        for cond in &p.conditions {
            let atoms: Vec<CAtom> = cond.any.iter().filter_map(|a| self.atom(a)).collect();
            if atoms.len() == cond.any.len() {
                conditions.push(atoms);
            }
        }
        CProfile {
            name: p.name.node.clone(),
            priority: p.priority.as_ref().map(|p| p.node).unwrap_or(0),
            conditions,
            fields,
            sensitive,
        }
    }

    fn atom(&mut self, a: &ast::CondAtom) -> Option<CAtom> {
        let (subject, ty) = self.alternative(&a.subject)?;
        if ty == Ty::Message && a.op.node != CondOp::Exists {
            self.diags.push(
                Diagnostic::new(codes::BAD_CONDITION, "a whole email cannot be compared")
                    .primary(a.subject.span, "this is an email")
                    .help(Ty::Message.to_text_help()),
            );
            return None;
        }
        let value = match &a.value {
            None => String::new(),
            Some(l) => match &l.value {
                LiteralValue::Str(s) => s.clone(),
                other => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::BAD_CONDITION,
                            format!("`{}` needs a string", self.text(a.op.span)),
                        )
                        .primary(l.span, format!("this is {}", with_article(other.kind())))
                        .help("quote the value: `subject contains \"10\"`"),
                    );
                    return None;
                }
            },
        };
        let regex = if a.op.node == CondOp::Matches {
            let span = a.value.as_ref().map(|v| v.span).unwrap_or(a.span);
            Some(self.regex(&value, span)?)
        } else {
            None
        };
        Some(CAtom {
            negated: a.negated,
            subject,
            op: a.op.node,
            value,
            regex,
            source: self.text(a.span),
        })
    }

    fn field(&mut self, f: &ast::Field) -> Option<CField> {
        let ty = FieldType::from_ast(&f.ty, self.diags);
        let mut alternatives = Vec::new();
        let mut ok = true;
        for alt in &f.value.alternatives {
            match self.alternative(alt) {
                Some((c, Ty::Text)) => alternatives.push(c),
                Some((_, other)) => {
                    ok = false;
                    self.diags.push(
                        Diagnostic::new(
                            codes::TYPE_MISMATCH,
                            format!(
                                "field `{}` needs one text, but this is {}",
                                f.name.node,
                                other.describe()
                            ),
                        )
                        .primary(alt.span, format!("this is {}", other.describe()))
                        .context(f.ty.span, "declared type")
                        .help(other.to_text_help()),
                    );
                }
                None => ok = false,
            }
        }
        let required = matches!(
            f.presence.as_ref().map(|p| p.node),
            Some(Presence::Required)
        );
        if !ok {
            return None;
        }
        Some(CField {
            name: f.name.node.clone(),
            ty: ty?,
            required,
            alternatives,
        })
    }

    /// Compiles one alternative; returns it with its result type.
    fn alternative(&mut self, alt: &ast::Alternative) -> Option<(CAlt, Ty)> {
        let mut call_sources = Vec::with_capacity(alt.steps.len() + 1);
        let (head, mut ty) = match &alt.head {
            Head::Literal(l) => {
                let text = match &l.value {
                    LiteralValue::Str(s) => s.clone(),
                    LiteralValue::Int(i) => i.to_string(),
                    LiteralValue::Bool(b) => b.to_string(),
                };
                (CHead::Literal(text), Ty::Text)
            }
            Head::Call(call) => {
                let (step, ty) = self.call(call, Ty::Message, true)?;
                call_sources.push(self.text(call.span));
                (CHead::Call(step), ty)
            }
        };
        let mut steps = Vec::new();
        let mut ok = true;
        for call in &alt.steps {
            match self.call(call, ty, false) {
                Some((step, next)) => {
                    steps.push(step);
                    call_sources.push(self.text(call.span));
                    ty = next;
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            return None;
        }
        Some((
            CAlt {
                head,
                steps,
                source: self.text(alt.span),
                call_sources,
            },
            ty,
        ))
    }

    fn call(
        &mut self,
        call: &ast::Call,
        receiver: Ty,
        is_head: bool,
    ) -> Option<(Box<dyn Step>, Ty)> {
        let name = call.name.node.as_str();
        let Some(f) = functions::lookup(name) else {
            let candidates = functions::all()
                .iter()
                .filter(|f| f.sig_for(receiver).is_some())
                .map(|f| f.name);
            let mut d = Diagnostic::new(
                codes::UNKNOWN_FUNCTION,
                format!("unknown function `{name}`"),
            )
            .primary(call.name.span, "not a function of the rule language");
            d = match suggest(name, candidates) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "functions that apply to {} are: {}",
                    receiver.describe(),
                    functions::all()
                        .iter()
                        .filter(|f| f.sig_for(receiver).is_some())
                        .map(|f| format!("`{}`", f.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.diags.push(d);
            return None;
        };
        let Some(sig) = f.sig_for(receiver) else {
            let accepts: Vec<&str> = f.sigs.iter().map(|s| s.receiver.describe()).collect();
            let (msg, label, help) = if is_head {
                (
                    format!("`{name}` cannot start an expression"),
                    format!("`{name}` applies to {}", accepts.join(" or ")),
                    format!("start from a source, e.g. `text.{name}`"),
                )
            } else if f.is_source() && receiver != Ty::Message {
                (
                    format!(
                        "`{name}` reads the email, but here it is applied to {}",
                        receiver.describe()
                    ),
                    "sources start an expression".to_owned(),
                    format!(
                        "use `{name}` at the start of an alternative, e.g. `?? {}`",
                        f.usage()
                    ),
                )
            } else {
                (
                    format!("`{name}` cannot be applied to {}", receiver.describe()),
                    format!("expects {}", accepts.join(" or ")),
                    receiver.to_text_help().to_owned(),
                )
            };
            let mut d = Diagnostic::new(codes::TYPE_MISMATCH, msg).primary(call.name.span, label);
            if !help.is_empty() {
                d = d.help(help);
            }
            self.diags.push(d);
            return None;
        };
        let args = self.args(f, call)?;
        match (f.compile)(receiver, &args) {
            Ok(step) => Some((step, sig.returns)),
            Err(ArgError {
                code,
                param,
                message,
                help,
            }) => {
                let span = param
                    .and_then(|i| self.arg_span(f, call, i))
                    .unwrap_or(call.span);
                let headline = match code {
                    c if c == codes::INVALID_REGEX => "invalid regular expression".to_owned(),
                    c if c == codes::INVALID_SELECTOR => "invalid CSS selector".to_owned(),
                    c if c == codes::UNKNOWN_REGEX_GROUP => message.clone(),
                    _ => format!("invalid argument to `{name}`"),
                };
                let mut d = Diagnostic::new(code, headline).primary(span, message);
                if let Some(h) = help {
                    d = d.help(h);
                }
                self.diags.push(d);
                None
            }
        }
    }

    fn arg_span(&self, f: &functions::Function, call: &ast::Call, param: usize) -> Option<Span> {
        let pname = f.params.get(param)?.name;
        call.args
            .iter()
            .enumerate()
            .find(|(i, a)| match &a.name {
                Some(n) => n.node == pname,
                None => *i == param,
            })
            .map(|(_, a)| a.value.span)
    }

    fn args(&mut self, f: &functions::Function, call: &ast::Call) -> Option<Args> {
        let mut values: Vec<Option<LiteralValue>> = vec![None; f.params.len()];
        let mut spans: Vec<Option<Span>> = vec![None; f.params.len()];
        let mut ok = true;
        let mut named_seen = false;
        for (i, a) in call.args.iter().enumerate() {
            let index = match &a.name {
                Some(n) => {
                    named_seen = true;
                    match f.params.iter().position(|p| p.name == n.node) {
                        Some(ix) => ix,
                        None => {
                            let mut d = Diagnostic::new(
                                codes::BAD_ARGUMENTS,
                                format!("`{}` has no parameter `{}`", f.name, n.node),
                            )
                            .primary(n.span, "unknown parameter");
                            d = match suggest(&n.node, f.params.iter().map(|p| p.name)) {
                                Some(s) => d.help(format!("did you mean `{s}`?")),
                                None => d.help(format!("usage: `{}`", f.usage())),
                            };
                            self.diags.push(d);
                            ok = false;
                            continue;
                        }
                    }
                }
                None if named_seen => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::BAD_ARGUMENTS,
                            "positional argument after a named one",
                        )
                        .primary(a.span, "positional argument")
                        .help(format!("usage: `{}`", f.usage())),
                    );
                    ok = false;
                    continue;
                }
                None if i >= f.params.len() => {
                    let expected = if f.params.is_empty() {
                        "no arguments".to_owned()
                    } else {
                        format!("at most {}", f.params.len())
                    };
                    self.diags.push(
                        Diagnostic::new(
                            codes::BAD_ARGUMENTS,
                            format!("too many arguments to `{}`", f.name),
                        )
                        .primary(a.span, format!("`{}` takes {expected}", f.name))
                        .help(format!("usage: `{}`", f.usage())),
                    );
                    ok = false;
                    continue;
                }
                None => i,
            };
            let p = &f.params[index];
            let kind_ok = matches!(
                (&a.value.value, p.kind),
                (
                    LiteralValue::Str(_),
                    ParamKind::Str | ParamKind::Regex | ParamKind::Selector
                ) | (LiteralValue::Int(_), ParamKind::Int)
                    | (LiteralValue::Bool(_), ParamKind::Bool)
            );
            if !kind_ok {
                self.diags.push(
                    Diagnostic::new(
                        codes::BAD_ARGUMENTS,
                        format!(
                            "`{}` of `{}` takes {}",
                            p.name,
                            f.name,
                            with_article(p.kind.name())
                        ),
                    )
                    .primary(
                        a.value.span,
                        format!("this is {}", with_article(a.value.value.kind())),
                    )
                    .help(format!("usage: `{}`", f.usage())),
                );
                ok = false;
                continue;
            }
            if values[index].is_some() {
                self.diags.push(
                    Diagnostic::new(codes::BAD_ARGUMENTS, format!("`{}` is given twice", p.name))
                        .primary(a.span, "given again here")
                        .help(format!("usage: `{}`", f.usage())),
                );
                ok = false;
                continue;
            }
            values[index] = Some(a.value.value.clone());
            spans[index] = Some(a.value.span);
        }
        for (i, p) in f.params.iter().enumerate() {
            if p.required && values[i].is_none() && ok {
                self.diags.push(
                    Diagnostic::new(
                        codes::BAD_ARGUMENTS,
                        format!("`{}` needs its `{}` argument", f.name, p.name),
                    )
                    .primary(call.span, format!("missing `{}`", p.name))
                    .help(format!("usage: `{}`", f.usage())),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        // Regexes and selectors are compiled here, within the file's budgets, so that the
        // functions' own compile hooks never compile a pattern themselves.
        let mut prepared: Vec<Option<Prepared>> = Vec::with_capacity(f.params.len());
        for (i, p) in f.params.iter().enumerate() {
            let (Some(LiteralValue::Str(text)), Some(span)) = (&values[i], spans[i]) else {
                prepared.push(None);
                continue;
            };
            prepared.push(match p.kind {
                ParamKind::Regex => Some(Prepared::Regex(self.regex(text, span)?)),
                ParamKind::Selector => Some(Prepared::Selector(self.selector(text, span)?)),
                _ => None,
            });
        }
        Some(Args { values, prepared })
    }

    /// A profile is unreachable when an earlier winner matches whenever it does.
    ///
    /// Each profile's conditions are interned once (as sorted ids of their normalised text),
    /// so the pairwise check costs `profiles² × conditions` integer comparisons; both counts
    /// are capped by the parser ([`limits::MAX_PROFILES`], [`limits::MAX_CONDITIONS`]).
    fn unreachable(&mut self, file: &ast::RuleFile) {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let sets: Vec<Vec<usize>> = file
            .profiles
            .iter()
            .map(|p| {
                let mut set: Vec<usize> = p
                    .conditions
                    .iter()
                    .map(|c| {
                        let next = ids.len();
                        *ids.entry(self.text(c.span)).or_insert(next)
                    })
                    .collect();
                set.sort_unstable();
                set.dedup();
                set
            })
            .collect();
        let is_subset = |a: &[usize], b: &[usize]| {
            a.len() <= b.len() && a.iter().all(|x| b.binary_search(x).is_ok())
        };
        let prio = |p: &ast::Profile| p.priority.as_ref().map(|p| p.node).unwrap_or(0);
        for (j, b) in file.profiles.iter().enumerate() {
            for (i, a) in file.profiles.iter().enumerate() {
                if i == j {
                    continue;
                }
                let a_wins = prio(a) > prio(b) || (prio(a) == prio(b) && i < j);
                if a_wins && is_subset(&sets[i], &sets[j]) {
                    let why = if a.conditions.is_empty() {
                        "it has no `match` conditions, so it matches every email".to_owned()
                    } else {
                        "it matches whenever this one does".to_owned()
                    };
                    self.diags.push(
                        Diagnostic::new(codes::UNREACHABLE_PROFILE, format!("profile `{}` can never be chosen", b.name.node))
                            .primary(b.head_span, "unreachable")
                            .context(a.head_span, format!("`{}` wins first: {why}", a.name.node))
                            .help("give this profile a higher `priority` or a more specific `match` block"),
                    );
                    break;
                }
            }
        }
    }

    fn test(&mut self, t: &ast::Test, base: &Path, fields: &BTreeSet<&str>) -> Option<CTest> {
        let mut ok = true;
        if t.inputs.len() != 1 {
            let msg = if t.inputs.is_empty() {
                "test has no `input` line"
            } else {
                "test has more than one `input` line"
            };
            let mut d = Diagnostic::new(codes::BAD_TEST, msg);
            d = match t.inputs.get(1) {
                Some(second) => d
                    .primary(second.span, "second input")
                    .context(t.inputs[0].span, "first input"),
                None => d.primary(t.head_span, "no input"),
            };
            self.diags
                .push(d.help("a test runs exactly one email: `input \"fixtures/lead.eml\"`"));
            ok = false;
        }
        let written = t.inputs.first();
        let input = written.map(|i| base.join(&i.node));
        if let (Some(path), Some(i)) = (&input, t.inputs.first())
            && !path.is_file()
        {
            self.diags.push(
                Diagnostic::new(
                    codes::MISSING_FIXTURE,
                    format!("test input `{}` not found", i.node),
                )
                .primary(i.span, format!("no file at {}", path.display()))
                .help("input paths are relative to the rule file's directory"),
            );
            ok = false;
        }
        if t.expects.is_empty() {
            self.diags.push(
                Diagnostic::new(codes::BAD_TEST, "test expects nothing")
                    .primary(t.head_span, "no `expect` block")
                    .help("add `expect { FIELD = \"VALUE\" ... }`"),
            );
            ok = false;
        }
        let mut expects = Vec::new();
        for e in &t.expects {
            let name = e.field.node.as_str();
            if !fields.contains(name) && !SPECIAL_EXPECTATIONS.contains(&name) {
                let mut d = Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    format!("test expects unknown field `{name}`"),
                )
                .primary(e.field.span, "no profile declares this field");
                if let Some(s) = self.suggest_bounded(
                    name,
                    fields
                        .iter()
                        .copied()
                        .chain(SPECIAL_EXPECTATIONS.iter().copied()),
                ) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
                ok = false;
                continue;
            }
            expects.push((name.to_owned(), e.value.as_ref().map(|v| v.node.clone())));
        }
        if !ok {
            return None;
        }
        let written = written?;
        Some(CTest {
            name: t.name.node.clone(),
            written: written.node.clone(),
            input_span: written.span,
            input: input?,
            expects,
        })
    }
}

/// `"an integer"`, `"a string"`.
fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// The source text of a construct as records show it (provenance, condition keys): comments
/// (`#` or `//` to the end of the line, outside string literals) left out, whitespace runs
/// collapsed into one space. A span that ends after a trailing comment (the parser's implicit
/// whitespace includes comments) so shows only the code.
fn source_text(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut chars = code.char_indices().peekable();
    // `Some(raw)` while inside a string literal.
    let mut in_string: Option<bool> = None;
    let mut previous: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match in_string {
            Some(raw) => {
                out.push(c);
                if c == '\\' && !raw {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                } else if c == '"' || c == '\n' {
                    in_string = None;
                }
            }
            None if c == '#' || (c == '/' && code[i + 1..].starts_with('/')) => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                out.push(' ');
            }
            None => {
                if c == '"' {
                    let raw = previous == Some('r')
                        && !code[..i.saturating_sub(1)]
                            .chars()
                            .next_back()
                            .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_');
                    in_string = Some(raw);
                }
                out.push(c);
            }
        }
        previous = Some(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
