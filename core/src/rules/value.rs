//! Runtime values and the evaluation context of one email.

use std::borrow::Cow;
use std::cell::OnceCell;

use scraper::ElementRef;

use crate::adf::AdfDocument;
use crate::budget::Budget;
use crate::message::{Address, Email};

/// Longest text a single step may produce, in bytes; longer text is cut (on a char boundary).
pub const MAX_TEXT_LEN: usize = 1 << 20;
/// Most items a list (or a node set) may hold; extra items are dropped.
pub const MAX_LIST_LEN: usize = 1000;
/// Longest field value handed to a normaliser, in bytes.
pub const MAX_FIELD_LEN: usize = 16 * 1024;

/// The static type of a value in an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// An email (the root, or a nested message).
    Message,
    /// One piece of text.
    Text,
    /// Several pieces of text.
    List,
    /// HTML elements selected with `css(...)`.
    Nodes,
    /// Addresses of a header such as `from`.
    Addresses,
}

impl Ty {
    /// How messages name the type.
    pub fn describe(self) -> &'static str {
        match self {
            Ty::Message => "an email",
            Ty::Text => "a text",
            Ty::List => "a list of texts",
            Ty::Nodes => "a set of HTML elements",
            Ty::Addresses => "a list of addresses",
        }
    }

    /// The short name used in the reference (`text`, `list`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Ty::Message => "email",
            Ty::Text => "text",
            Ty::List => "list",
            Ty::Nodes => "nodes",
            Ty::Addresses => "addresses",
        }
    }

    /// How to get from this type to one text, for `help:` lines.
    pub fn to_text_help(self) -> &'static str {
        match self {
            Ty::Message => {
                "start from a source such as `text`, `html`, `subject` or `header(\"Name\")`"
            }
            Ty::Text => "",
            Ty::List => "pick one value with `.first`, `.last`, `.nth(1)` or `.join(\", \")`",
            Ty::Nodes => {
                "take the element's text with `.text` or an attribute with `.attr(\"href\")`"
            }
            Ty::Addresses => {
                "take the first address with `.address` or its display name with `.name`"
            }
        }
    }
}

/// A value during evaluation. Everything borrows from the email for `'c`.
#[derive(Clone)]
pub(crate) enum Value<'c> {
    Message(&'c Email<'c>),
    Text(Cow<'c, str>),
    List(Vec<Cow<'c, str>>),
    Nodes(Vec<ElementRef<'c>>),
    Addresses(Vec<Address>),
}

impl<'c> Value<'c> {
    /// Builds a text value, cutting it at [`MAX_TEXT_LEN`]; `None` when blank.
    pub(crate) fn text(s: impl Into<Cow<'c, str>>) -> Option<Value<'c>> {
        let s = cap(s.into());
        if s.trim().is_empty() {
            None
        } else {
            Some(Value::Text(s))
        }
    }

    /// Builds a list, dropping blank items and capping its length; `None` when empty.
    pub(crate) fn list(items: impl IntoIterator<Item = Cow<'c, str>>) -> Option<Value<'c>> {
        let v: Vec<Cow<'c, str>> = items
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(cap)
            .take(MAX_LIST_LEN)
            .collect();
        if v.is_empty() {
            None
        } else {
            Some(Value::List(v))
        }
    }

    /// Heap bytes the value owns (borrowed text costs nothing), for the budget.
    pub(crate) fn owned_bytes(&self) -> u64 {
        let cow = |s: &Cow<'_, str>| match s {
            Cow::Borrowed(_) => 0,
            Cow::Owned(o) => o.len() as u64,
        };
        let item = std::mem::size_of::<Cow<'_, str>>() as u64;
        match self {
            Value::Message(_) => 0,
            Value::Text(t) => cow(t),
            Value::List(items) => items.iter().map(|s| cow(s) + item).sum(),
            Value::Nodes(nodes) => (nodes.len() * std::mem::size_of::<ElementRef<'_>>()) as u64,
            Value::Addresses(list) => list
                .iter()
                .map(|a| {
                    (std::mem::size_of::<Address>()
                        + a.name.as_ref().map_or(0, String::len)
                        + a.email.as_ref().map_or(0, String::len)) as u64
                })
                .sum(),
        }
    }

    /// The text of a text value.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Every text a match condition looks at (all items of a list, each address, each node).
    /// Element texts are read under `budget` (each at most [`MAX_TEXT_LEN`] bytes); when it is
    /// spent, the texts read so far are returned.
    pub(crate) fn texts(&self, budget: &Budget) -> Vec<Cow<'_, str>> {
        match self {
            Value::Message(m) => vec![Cow::Borrowed(m.text())],
            Value::Text(t) => vec![Cow::Borrowed(t.as_ref())],
            Value::List(l) => l.iter().map(|s| Cow::Borrowed(s.as_ref())).collect(),
            Value::Nodes(n) => n
                .iter()
                .map_while(|e| crate::css::text_within(e, MAX_TEXT_LEN, budget).ok())
                .map(Cow::Owned)
                .collect(),
            Value::Addresses(a) => a
                .iter()
                .filter_map(|a| a.email.as_deref().map(Cow::Borrowed))
                .collect(),
        }
    }
}

fn cap(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.len() <= MAX_TEXT_LEN {
        return s;
    }
    let mut end = MAX_TEXT_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..end]),
        Cow::Owned(mut o) => {
            o.truncate(end);
            Cow::Owned(o)
        }
    }
}

/// Per-email evaluation state: views computed at most once per email, and the run's budget.
pub(crate) struct Cx<'c> {
    pub(crate) root: &'c Email<'c>,
    /// What this run may spend; every step draws from it and stops when it is spent.
    pub(crate) budget: Budget,
    nested: OnceCell<Vec<Email<'c>>>,
    adf: OnceCell<Option<AdfDocument>>,
    html_text: OnceCell<Option<String>>,
}

impl<'c> Cx<'c> {
    pub(crate) fn new(root: &'c Email<'c>, budget: Budget) -> Self {
        Cx {
            root,
            budget,
            nested: OnceCell::new(),
            adf: OnceCell::new(),
            html_text: OnceCell::new(),
        }
    }

    /// The first nested message of the root email.
    pub(crate) fn nested(&'c self) -> Option<&'c Email<'c>> {
        self.nested.get_or_init(|| self.root.nested()).first()
    }

    /// The text view of an email's HTML body (the same rendering as [`Email::text`] gives an
    /// HTML-only email), computed once for the root email. No DOM is built. The rendering is
    /// linear but runs in one go, so it starts only if it fits the budget
    /// ([`crate::html::admit_text_view`]).
    pub(crate) fn html_text(&'c self, email: &'c Email<'c>) -> Option<Cow<'c, str>> {
        let render = |html: &str| -> Option<String> {
            crate::html::admit_text_view(html, &self.budget).ok()?;
            let view = crate::html::text_view_str(html);
            self.budget.retain(view.len() as u64).ok()?;
            Some(view)
        };
        if std::ptr::eq(email, self.root) {
            if let Some(cached) = self.html_text.get() {
                return cached.as_deref().map(Cow::Borrowed);
            }
            let view = match self.root.html() {
                Some(html) => Some(render(html)?),
                None => None,
            };
            return self
                .html_text
                .get_or_init(|| view)
                .as_deref()
                .map(Cow::Borrowed);
        }
        email.html().and_then(render).map(Cow::Owned)
    }

    /// The ADF document of the root email, found as `builtin:adf` finds it
    /// ([`crate::adf::find_in_email`]: attachments, bodies, HTML, forwarded messages).
    pub(crate) fn adf(&'c self) -> Option<&'c AdfDocument> {
        if let Some(cached) = self.adf.get() {
            return cached.as_ref();
        }
        let found = crate::adf::find_in_email_within(self.root, &self.budget)
            .ok()?
            .map(|(doc, _origin)| doc);
        self.adf.get_or_init(|| found).as_ref()
    }
}
