//! The insertion-mode rules of the tree emulation once the body has started: in body, in table
//! (rows, bodies, cells, captions, column groups), in select, and foreign content (`<svg>`,
//! `<math>`); implied end tags and table recovery as the HTML standard specifies them, where they
//! change what a reader sees.

use super::elements::*;
use super::tree::*;

impl Builder {
    pub(super) fn start_in_body_phase(
        &mut self,
        name: &str,
        self_closing: bool,
        attrs: &mut Attrs,
    ) -> Next {
        if self.in_foreign() {
            let breakout = matches!(
                name,
                "b" | "big"
                    | "blockquote"
                    | "body"
                    | "br"
                    | "center"
                    | "code"
                    | "dd"
                    | "div"
                    | "dl"
                    | "dt"
                    | "em"
                    | "embed"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "head"
                    | "hr"
                    | "i"
                    | "img"
                    | "li"
                    | "listing"
                    | "menu"
                    | "meta"
                    | "nobr"
                    | "ol"
                    | "p"
                    | "pre"
                    | "ruby"
                    | "s"
                    | "small"
                    | "span"
                    | "strong"
                    | "strike"
                    | "sub"
                    | "sup"
                    | "table"
                    | "tt"
                    | "u"
                    | "ul"
                    | "var"
            ) || (name == "font" && attrs.font_breakout);
            if breakout && self.integration == 0 {
                while self.in_foreign() {
                    self.pop();
                }
            } else {
                if !self_closing && self.foreign.len() < MAX_OPEN {
                    if self.integration > 0
                        || matches!(name, "foreignobject" | "desc" | "title")
                            && self.current_is("svg")
                    {
                        self.integration += 1;
                    }
                    let h = hash(name);
                    self.foreign.push(h);
                    *self.foreign_count.entry(h).or_insert(0) += 1;
                }
                if name == "meta" {
                    self.meta(attrs);
                }
                return None;
            }
        }
        match self.mode() {
            Mode::Body => self.start_in_body(name, self_closing, attrs),
            Mode::Cell => {
                if is_table_structure_start(name) {
                    if self.group_in_scope(CELL, TABLE_SCOPE) {
                        self.close_cell();
                        return self.start(name, self_closing, attrs);
                    }
                    return None;
                }
                self.start_in_body(name, self_closing, attrs)
            }
            Mode::Caption => {
                if is_table_structure_start(name) {
                    if self.in_scope("caption", TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("caption");
                        return self.start(name, self_closing, attrs);
                    }
                    return None;
                }
                self.start_in_body(name, self_closing, attrs)
            }
            Mode::ColGroup => match name {
                "html" => None,
                "col" => None,
                "template" => {
                    self.push("template");
                    None
                }
                _ => {
                    if self.current_is("colgroup") {
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
            },
            Mode::Row => match name {
                "th" | "td" => {
                    self.clear_to(&["tr", "template"]);
                    self.push(name);
                    None
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" | "tr" => {
                    if self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
                _ => self.start_in_table(name, self_closing, attrs),
            },
            Mode::TableBody => match name {
                "tr" => {
                    self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                    self.push("tr");
                    None
                }
                "th" | "td" => {
                    self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                    self.push("tr");
                    self.start(name, self_closing, attrs)
                }
                "caption" | "col" | "colgroup" | "tbody" | "tfoot" | "thead" => {
                    if self.group_in_scope(TBODY, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                        return self.start(name, self_closing, attrs);
                    }
                    None
                }
                _ => self.start_in_table(name, self_closing, attrs),
            },
            Mode::Table => self.start_in_table(name, self_closing, attrs),
            Mode::Select | Mode::SelectInTable => {
                if self.mode() == Mode::SelectInTable
                    && matches!(
                        name,
                        "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    )
                {
                    self.pop_until("select");
                    return self.start(name, self_closing, attrs);
                }
                self.start_in_select(name, self_closing, attrs)
            }
        }
    }

    pub(super) fn start_in_select(
        &mut self,
        name: &str,
        self_closing: bool,
        attrs: &mut Attrs,
    ) -> Next {
        match name {
            "option" => {
                if self.current_is("option") {
                    self.pop();
                }
                self.push("option");
                None
            }
            "optgroup" => {
                if self.current_is("option") {
                    self.pop();
                }
                if self.current_is("optgroup") {
                    self.pop();
                }
                self.push("optgroup");
                None
            }
            "hr" => {
                if self.current_is("option") {
                    self.pop();
                }
                if self.current_is("optgroup") {
                    self.pop();
                }
                self.void("hr");
                None
            }
            "select" => {
                if self.in_scope("select", SELECT_SCOPE) {
                    self.pop_until("select");
                }
                None
            }
            "input" | "keygen" | "textarea" => {
                if self.in_scope("select", SELECT_SCOPE) {
                    self.pop_until("select");
                    return self.start(name, self_closing, attrs);
                }
                None
            }
            "script" => self.push_raw(Raw::Text, "script"),
            "template" => {
                self.push("template");
                None
            }
            "html" => None,
            _ => None,
        }
    }

    pub(super) fn start_in_table(
        &mut self,
        name: &str,
        self_closing: bool,
        attrs: &mut Attrs,
    ) -> Next {
        match name {
            "caption" => {
                self.clear_to(&["table", "template"]);
                self.push("caption");
                None
            }
            "colgroup" => {
                self.clear_to(&["table", "template"]);
                self.push("colgroup");
                None
            }
            "col" => {
                self.clear_to(&["table", "template"]);
                self.push("colgroup");
                self.start(name, self_closing, attrs)
            }
            "tbody" | "tfoot" | "thead" => {
                self.clear_to(&["table", "template"]);
                self.push(name);
                None
            }
            "td" | "th" | "tr" => {
                self.clear_to(&["table", "template"]);
                self.push("tbody");
                self.start(name, self_closing, attrs)
            }
            "table" => {
                if self.in_scope("table", TABLE_SCOPE) {
                    self.pop_until("table");
                    return self.start(name, self_closing, attrs);
                }
                None
            }
            "style" => self.push_raw(Raw::Text, "style"),
            "script" => self.push_raw(Raw::Text, "script"),
            "template" => {
                self.push("template");
                None
            }
            "input" if attrs.hidden => None,
            "form" => {
                if self.form.is_none() && self.pos_of("template") == 0 {
                    self.push("form");
                    self.form = Some(self.stack.len() - 1);
                    self.form_serial = self.serial;
                    self.pop();
                }
                None
            }
            "br" | "img" | "image" | "input" | "wbr" | "area" | "embed" | "keygen"
                if self.in_table_text_context() =>
            {
                let name = if name == "image" { "img" } else { name };
                if let Some(t) = tracked_void(name) {
                    self.foster(|r| {
                        r.open(t);
                        r.close(t);
                    });
                }
                None
            }
            // Other foster-parented elements are rendered in place: blocks start new lines
            // anyway, inline elements have no events (their text is fostered above).
            _ => self.start_in_body(name, self_closing, attrs),
        }
    }

    pub(super) fn start_in_body(
        &mut self,
        name: &str,
        self_closing: bool,
        attrs: &mut Attrs,
    ) -> Next {
        match name {
            "html" | "body" | "frameset" | "head" => None,
            "base" | "basefont" | "bgsound" | "link" => None,
            "meta" => {
                self.meta(attrs);
                None
            }
            "noframes" | "style" => self.push_raw(Raw::Text, name),
            "script" => self.push_raw(Raw::Text, "script"),
            "title" => self.push_raw(Raw::Rcdata, "title"),
            "template" => {
                self.push("template");
                None
            }
            "address" | "article" | "aside" | "blockquote" | "center" | "details" | "dialog"
            | "dir" | "div" | "dl" | "fieldset" | "figcaption" | "figure" | "footer" | "header"
            | "hgroup" | "main" | "nav" | "ol" | "p" | "search" | "section" | "summary" | "ul"
            | "menu" => {
                self.close_p_in_button_scope();
                self.push(name);
                None
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.close_p_in_button_scope();
                if matches!(
                    self.current(),
                    Some("h1" | "h2" | "h3" | "h4" | "h5" | "h6")
                ) {
                    self.pop();
                }
                self.push(name);
                None
            }
            "pre" | "listing" => {
                self.close_p_in_button_scope();
                self.push(name);
                self.ignore_lf = true;
                None
            }
            "form" => {
                let template = self.pos_of("template") != 0;
                if self.form.is_some() && !template {
                    return None;
                }
                self.close_p_in_button_scope();
                self.push("form");
                if !template {
                    self.form = Some(self.stack.len() - 1);
                    self.form_serial = self.serial;
                }
                None
            }
            "li" => {
                let li = self.pos_of("li");
                if li != 0 && li >= self.last[bit(LI_STOP)] {
                    self.generate_implied_end_tags("li");
                    self.pop_until("li");
                }
                self.close_p_in_button_scope();
                self.push("li");
                None
            }
            "dd" | "dt" => {
                let dd = self.pos_of("dd");
                let dt = self.pos_of("dt");
                let top = dd.max(dt);
                if top != 0 && top >= self.last[bit(LI_STOP)] {
                    let which = if dd > dt { "dd" } else { "dt" };
                    self.generate_implied_end_tags(which);
                    self.pop_until(which);
                }
                self.close_p_in_button_scope();
                self.push(name);
                None
            }
            "plaintext" => {
                self.close_p_in_button_scope();
                self.push("plaintext");
                Some((Raw::Plaintext, "plaintext"))
            }
            "button" => {
                if self.in_scope("button", DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until("button");
                }
                self.push("button");
                None
            }
            "applet" | "marquee" | "object" => {
                self.push(name);
                None
            }
            "table" => {
                if !self.quirks {
                    self.close_p_in_button_scope();
                }
                self.push("table");
                None
            }
            "area" | "br" | "embed" | "img" | "keygen" | "wbr" | "input" | "param" | "source"
            | "track" => {
                self.void(name);
                None
            }
            "image" => {
                self.void("img");
                None
            }
            "hr" => {
                self.close_p_in_button_scope();
                self.void("hr");
                None
            }
            "textarea" => {
                self.push("textarea");
                self.ignore_lf = true;
                Some((Raw::Rcdata, "textarea"))
            }
            "xmp" => {
                self.close_p_in_button_scope();
                self.push_raw(Raw::Text, "xmp")
            }
            "iframe" | "noembed" | "noscript" => self.push_raw(Raw::Text, name),
            "select" => {
                self.push("select");
                None
            }
            "optgroup" | "option" => {
                if self.current_is("option") {
                    self.pop();
                }
                self.push(name);
                None
            }
            "svg" | "math" => {
                self.push(name);
                if self_closing {
                    self.pop();
                }
                None
            }
            "caption" | "col" | "colgroup" | "frame" | "tbody" | "td" | "tfoot" | "th"
            | "thead" | "tr" => None,
            "legend" => {
                self.push("legend");
                None
            }
            _ => None,
        }
    }

    pub(super) fn push_raw(&mut self, raw: Raw, name: &str) -> Next {
        let t = tracked_index(name)?;
        self.push(TRACKED[t]);
        // The tokenizer reads the content and pops the element at its end tag.
        Some((raw, TRACKED[t]))
    }

    pub(super) fn close_cell(&mut self) {
        self.generate_implied_end_tags("");
        self.pop_until_group(CELL);
    }

    /// Pops until the current node is one of `names` (or the stack is empty).
    pub(super) fn clear_to(&mut self, names: &[&str]) {
        while let Some(cur) = self.current() {
            if names.contains(&cur) {
                break;
            }
            self.pop();
        }
    }

    pub(super) fn end_in_body_phase(&mut self, name: &str) {
        if self.in_foreign() {
            if name == "br" || name == "p" {
                while self.in_foreign() {
                    self.pop();
                }
            } else {
                let h = hash(name);
                let open = self.foreign_count.get(&h).is_some_and(|&n| n > 0);
                if open && let Some(k) = self.foreign.iter().rposition(|&x| x == h) {
                    for x in self.foreign.drain(k..) {
                        if let Some(n) = self.foreign_count.get_mut(&x) {
                            *n = n.saturating_sub(1);
                        }
                    }
                    self.integration = self.integration.min(self.foreign.len());
                    return;
                }
                if self.current_is(name) {
                    self.pop();
                    return;
                }
            }
        }
        match self.mode() {
            Mode::Body => self.end_in_body(name),
            Mode::Cell => match name {
                "td" | "th" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" => {}
                "table" | "tbody" | "tfoot" | "thead" | "tr" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.close_cell();
                        self.end(name);
                    }
                }
                _ => self.end_in_body(name),
            },
            Mode::Caption => match name {
                "caption" | "table" => {
                    if self.in_scope("caption", TABLE_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("caption");
                        if name == "table" {
                            self.end(name);
                        }
                    }
                }
                "body" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th"
                | "thead" | "tr" => {}
                _ => self.end_in_body(name),
            },
            Mode::ColGroup => match name {
                "colgroup" => {
                    if self.current_is("colgroup") {
                        self.pop();
                    }
                }
                "col" => {}
                "template" => self.end_in_body(name),
                _ => {
                    if self.current_is("colgroup") {
                        self.pop();
                        self.end(name);
                    }
                }
            },
            Mode::Row => match name {
                "tr" | "table" => {
                    if self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        if name == "table" {
                            self.end(name);
                        }
                    }
                }
                "tbody" | "tfoot" | "thead" => {
                    if self.in_scope(name, TABLE_SCOPE) && self.in_scope("tr", TABLE_SCOPE) {
                        self.clear_to(&["tr", "template"]);
                        self.pop();
                        self.end(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" => {}
                _ => self.end_in_table(name),
            },
            Mode::TableBody => match name {
                "tbody" | "tfoot" | "thead" => {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                    }
                }
                "table" => {
                    if self.group_in_scope(TBODY, TABLE_SCOPE) {
                        self.clear_to(&["tbody", "tfoot", "thead", "template"]);
                        self.pop();
                        self.end(name);
                    }
                }
                "body" | "caption" | "col" | "colgroup" | "html" | "td" | "th" | "tr" => {}
                _ => self.end_in_table(name),
            },
            Mode::Table => self.end_in_table(name),
            Mode::Select | Mode::SelectInTable => {
                if self.mode() == Mode::SelectInTable
                    && matches!(
                        name,
                        "caption" | "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th"
                    )
                {
                    if self.in_scope(name, TABLE_SCOPE) {
                        self.pop_until("select");
                        self.end(name);
                    }
                    return;
                }
                match name {
                    "optgroup" => {
                        let n = self.stack.len();
                        if self.current_is("option")
                            && n >= 2
                            && self.stack.get(n - 2).is_some_and(|e| e.name == "optgroup")
                        {
                            self.pop();
                        }
                        if self.current_is("optgroup") {
                            self.pop();
                        }
                    }
                    "option" if self.current_is("option") => self.pop(),
                    "select" if self.in_scope("select", SELECT_SCOPE) => self.pop_until("select"),
                    "template" => self.end_in_body(name),
                    _ => {}
                }
            }
        }
    }

    pub(super) fn end_in_table(&mut self, name: &str) {
        match name {
            "table" => {
                if self.in_scope("table", TABLE_SCOPE) {
                    self.pop_until("table");
                }
            }
            "body" | "caption" | "col" | "colgroup" | "html" | "tbody" | "td" | "tfoot" | "th"
            | "thead" | "tr" => {}
            _ => self.end_in_body(name),
        }
    }

    pub(super) fn end_in_body(&mut self, name: &str) {
        match name {
            "template" => {
                if self.pos_of("template") != 0 {
                    self.generate_all_implied_end_tags();
                    self.pop_until("template");
                }
            }
            "body" | "html" => {}
            "address" | "article" | "aside" | "blockquote" | "button" | "center" | "details"
            | "dialog" | "dir" | "div" | "dl" | "fieldset" | "figcaption" | "figure" | "footer"
            | "header" | "hgroup" | "listing" | "main" | "menu" | "nav" | "ol" | "pre"
            | "search" | "section" | "summary" | "ul" | "applet" | "marquee" | "object" => {
                if self.in_scope(name, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until(name);
                }
            }
            "form" => {
                if self.pos_of("template") != 0 {
                    if self.in_scope("form", DEFAULT_SCOPE) {
                        self.generate_implied_end_tags("");
                        self.pop_until("form");
                    }
                    return;
                }
                let Some(idx) = self.form.take() else {
                    return;
                };
                // The pointer must still name an open element, in scope.
                let open = self.serials.get(idx) == Some(&self.form_serial)
                    && self
                        .stack
                        .get(idx)
                        .is_some_and(|e| e.name == "form" && !e.dead);
                let idx1 = u32::try_from(idx + 1).unwrap_or(u32::MAX);
                if !open || idx1 < self.boundary(DEFAULT_SCOPE) {
                    return;
                }
                self.generate_implied_end_tags("");
                if self.stack.len() == idx + 1 {
                    self.pop();
                } else if let Some(e) = self.stack.get_mut(idx) {
                    e.dead = true;
                }
            }
            "p" => {
                if !self.in_scope("p", BUTTON_SCOPE) {
                    self.push("p");
                }
                self.generate_implied_end_tags("p");
                self.pop_until("p");
            }
            "li" => {
                if self.in_scope("li", LIST_SCOPE) {
                    self.generate_implied_end_tags("li");
                    self.pop_until("li");
                }
            }
            "dd" | "dt" => {
                if self.in_scope(name, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags(name);
                    self.pop_until(name);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                if self.group_in_scope(HEADING, DEFAULT_SCOPE) {
                    self.generate_implied_end_tags("");
                    self.pop_until_group(HEADING);
                }
            }
            "br" => {
                self.void("br");
            }
            _ => {
                // Any other end tag: close the element if no special element is above it.
                let p = self.pos_of(name);
                if p != 0 && p >= self.last[bit(SPECIAL)] {
                    self.generate_implied_end_tags(name);
                    self.pop_until(name);
                }
            }
        }
    }
}
