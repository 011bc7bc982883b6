//! `strip_tags`: markup removed from a piece of HTML source, line breaks kept.

use super::*;

pub(crate) const FUNCTION: Function = Function {
    name: "strip_tags",
    summary: "Removes HTML tags and comments from a piece of HTML source (as cut from `html`) and \
              decodes character references, keeping the source's own line breaks; `<br>` and \
              `</p>` become line breaks. Use it when the line structure of the source matters and \
              the rendered text view would collapse it.",
    sigs: TEXT_TO_TEXT,
    params: &[],
    examples: &[
        Example {
            title: "a cell's source",
            email: samples::HTML,
            expr: "html.between(\"class=\\\"name\\\">\", \"</tr>\") | strip_tags | trim",
            result: Some("Jane  Doe"),
        },
        Example {
            title: "entities",
            email: samples::HTML,
            expr: "\"Tom &amp; Jerry<br>&quot;Hi&quot;&nbsp;&#33;\" | strip_tags",
            result: Some("Tom & Jerry\n\"Hi\" !"),
        },
    ],
    compile: |_, _| Ok(Box::new(MapText(Box::new(|s| Some(strip(s)))))),
};

/// Strips tags and decodes entities.
pub(crate) fn strip(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        decode_into(&rest[..i], &mut out);
        let after = &rest[i..];
        if let Some(comment) = after.strip_prefix("<!--") {
            rest = comment.find("-->").map(|e| &comment[e + 3..]).unwrap_or("");
            continue;
        }
        let Some(end) = after.find('>') else {
            decode_into(after, &mut out);
            rest = "";
            break;
        };
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(name, "br")
            || (tag.starts_with('/') && matches!(name, "p" | "div" | "tr" | "li"))
        {
            out.push('\n');
        }
        rest = &after[end + 1..];
    }
    decode_into(rest, &mut out);
    out
}

fn decode_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "nbsp" => ' ',
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "ndash" => '–',
                "mdash" => '—',
                "rsquo" | "lsquo" => '\'',
                "ldquo" | "rdquo" => '"',
                _ => {
                    let n = name.strip_prefix('#')?;
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}
