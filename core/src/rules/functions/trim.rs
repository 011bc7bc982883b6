//! `trim`: strip surrounding whitespace and punctuation.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "trim",
    summary: "Removes surrounding whitespace (including no-break and zero-width spaces); with \
              `chars:`, also those characters. Trailing spaces are also removed from every line.",
    sigs: TEXT_TO_TEXT,
    params: &[Param {
        name: "chars",
        kind: ParamKind::Str,
        required: false,
        doc: "extra characters to strip from both ends",
    }],
    examples: &[
        Example {
            title: "whitespace",
            email: samples::TEXT,
            expr: "text.after(\"Name:\").before(\"Email\") | trim",
            result: Some("Jane Doe"),
        },
        Example {
            title: "punctuation",
            email: samples::TEXT,
            expr: "text.after(\"Phone:\").line | trim(chars: \"()\")",
            result: Some("202) 555-0143"),
        },
    ],
    compile: |_, args| {
        let extra: Vec<char> = args.str(0).unwrap_or("").chars().collect();
        Ok(Box::new(MapText(Box::new(move |s| {
            let strip = |c: char| {
                c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}') || extra.contains(&c)
            };
            let t = s.trim_matches(strip);
            let lines: Vec<&str> = t.lines().map(str::trim_end).collect();
            Some(lines.join("\n"))
        }))))
    },
};
