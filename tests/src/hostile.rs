//! Hostile emails, built to any size from a few lines of code: the resource attacks of
//! docs/security.md ("Attacks tested: resources").
//!
//! Each [`Attack`] builds an email of about `size` bytes (never more) that tries to make the
//! engine use unbounded stack, memory or time: deep nesting, millions of headers, addresses,
//! MIME parts, meta tags or HTML elements, huge encoded parts, endless lines. The regression
//! tests (`tests/integration/hostile.rs`) build them small enough for a debug build and check
//! the record; `hostile-inputs` (`scripts/hostile-inputs.sh`) builds them at 40 MB and
//! measures a release build in a fresh process. Every email is sent by a sender of
//! [`CONFIG`], so it reaches an extractor: `*@meta.hostile.example` runs `builtin:lead-meta`,
//! `*@adf.hostile.example` `builtin:adf`, `*@rules.hostile.example` `hostile.rules` (CSS
//! selection, meta tags, text regexes, headers, the nested message).

use std::fmt::Write as _;

/// The configuration the attacks are run under (relative to the workspace root).
pub const CONFIG: &str = "tests/fixtures/hostile/mailex.toml";

/// The full size of an attack: just under the 40 MB (`40 * 1024 * 1024` bytes) input cap.
pub const FULL_SIZE: usize = 40 * 1024 * 1024 - 4096;

/// What the record of an attack must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Status `failed` with this error code.
    Failed(&'static str),
    /// Any status but `failed`, with this warning code.
    Warning(&'static str),
    /// This status, whatever the issues.
    Status(&'static str),
    /// Any of these: an attack that trips several caps shows the one that fires first, which
    /// can depend on its size and the build (a 40 MB address list passes the header-bytes cap
    /// before the address count; a rule-file route's memory budget, or in a debug build its
    /// deadline, can stop a document before its element cap trims it). Each is a refusal
    /// with a clear code.
    OneOf(&'static [Expect]),
}

impl Expect {
    /// Whether a record with `status`, error codes `errors` and warning codes `warnings`
    /// shows this expectation.
    pub fn shown_by(&self, status: &str, errors: &[&str], warnings: &[&str]) -> bool {
        match *self {
            Expect::Failed(code) => status == "failed" && errors.contains(&code),
            Expect::Warning(code) => status != "failed" && warnings.contains(&code),
            Expect::Status(expected) => status == expected,
            Expect::OneOf(options) => options.iter().any(|e| e.shown_by(status, errors, warnings)),
        }
    }
}

/// One hostile email.
#[derive(Debug, Clone, Copy)]
pub struct Attack {
    /// Short name (a file name).
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Builds the email with at most `size` bytes.
    pub build: fn(usize) -> Vec<u8>,
    /// A size that keeps a debug-build test fast and still shows the same record.
    pub test_size: usize,
    /// What its record must show, at `test_size` and at [`FULL_SIZE`].
    pub expect: Expect,
}

/// Every attack.
pub fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "nested-rfc822",
            description: "message/rfc822 parts nested in each other (25 000 levels in 900 KB)",
            build: nested_rfc822,
            test_size: 900_000,
            expect: Expect::Failed("too_deep"),
        },
        Attack {
            name: "nested-rfc822-base64",
            description: "a base64-encoded message/rfc822 part holding nested messages",
            build: nested_rfc822_base64,
            test_size: 200_000,
            expect: Expect::Failed("too_deep"),
        },
        Attack {
            name: "nested-multipart",
            description: "multiparts nested in each other, each with its own boundary",
            build: nested_multipart,
            test_size: 200_000,
            expect: Expect::Failed("too_deep"),
        },
        Attack {
            name: "unclosed-multiparts",
            description: "multiparts nested 40 deep whose boundaries never come, then one huge part",
            build: unclosed_multiparts,
            test_size: 1_000_000,
            // The unterminated part is an attachment, not a body: no lead in the text view.
            expect: Expect::Status("partial"),
        },
        Attack {
            name: "many-headers",
            description: "10 million tiny header fields",
            build: many_headers,
            test_size: 200_000,
            expect: Expect::Failed("too_many_headers"),
        },
        Attack {
            name: "many-addresses",
            description: "a To list of millions of addresses",
            build: many_addresses,
            test_size: 200_000,
            expect: Expect::OneOf(&[
                Expect::Failed("too_many_addresses"),
                Expect::Failed("headers_too_large"),
            ]),
        },
        Attack {
            name: "many-reply-to",
            description: "a folded Reply-To list of millions of named addresses",
            build: many_reply_to,
            test_size: 200_000,
            expect: Expect::OneOf(&[
                Expect::Failed("too_many_addresses"),
                Expect::Failed("headers_too_large"),
            ]),
        },
        Attack {
            name: "long-subject",
            description: "one Subject folded over millions of lines",
            build: long_subject,
            test_size: 2_000_000,
            expect: Expect::Failed("headers_too_large"),
        },
        Attack {
            name: "many-encoded-words",
            description: "a Subject of millions of RFC 2047 encoded words",
            build: many_encoded_words,
            test_size: 2_000_000,
            expect: Expect::Failed("headers_too_large"),
        },
        Attack {
            name: "headers-under-caps",
            description: "9 000 header fields of encoded words, 1 MB of headers, just under the caps",
            build: headers_under_caps,
            test_size: 1_100_000,
            expect: Expect::Status("extracted"),
        },
        Attack {
            name: "many-parts",
            description: "millions of tiny MIME parts in one multipart",
            build: many_parts,
            test_size: 200_000,
            expect: Expect::Failed("too_many_parts"),
        },
        Attack {
            name: "many-boundaries",
            description: "millions of boundary lines with empty parts (5 bytes each)",
            build: many_boundaries,
            test_size: 200_000,
            expect: Expect::Failed("too_many_parts"),
        },
        Attack {
            name: "parts-under-cap",
            description: "990 MIME parts of 40 KB, just under the cap",
            build: parts_under_cap,
            test_size: 2_000_000,
            expect: Expect::Status("extracted"),
        },
        Attack {
            name: "meta-tags",
            description: "a million distinct lead_* meta tags",
            build: meta_tags,
            test_size: 500_000,
            expect: Expect::Warning("meta_tags_omitted"),
        },
        Attack {
            name: "meta-duplicates",
            description: "a million lead_email meta tags (duplicate_meta warnings)",
            build: meta_duplicates,
            test_size: 500_000,
            expect: Expect::Warning("issues_omitted"),
        },
        Attack {
            name: "meta-odd-names",
            description: "lead_* meta tags named after personal data (lead_jane.doe@example.com)",
            build: meta_odd_names,
            test_size: 100_000,
            expect: Expect::Warning("odd_meta_names"),
        },
        Attack {
            name: "html-many-elements",
            description: "millions of tiny HTML elements, selected with CSS",
            build: html_many_elements,
            test_size: 3_000_000,
            expect: Expect::OneOf(&[
                Expect::Warning("html_elements_trimmed"),
                Expect::Failed("budget_memory"),
                Expect::Failed("budget_time"),
            ]),
        },
        Attack {
            name: "html-deep",
            description: "HTML elements nested millions deep, selected with CSS",
            build: html_deep,
            test_size: 500_000,
            expect: Expect::Warning("html_nesting_trimmed"),
        },
        Attack {
            name: "html-attributes",
            description: "one HTML element with millions of attributes",
            build: html_attributes,
            test_size: 500_000,
            expect: Expect::Warning("html_attributes_trimmed"),
        },
        Attack {
            name: "html-classes",
            description: "one HTML element with a class list of millions of names",
            build: html_classes,
            test_size: 3_000_000,
            expect: Expect::Warning("html_attributes_trimmed"),
        },
        Attack {
            name: "base64-attachment",
            description: "one huge base64 attachment (ADF search reads every attachment)",
            build: base64_attachment,
            test_size: 1_000_000,
            expect: Expect::Failed("adf_not_found"),
        },
        Attack {
            name: "base64-text",
            description: "a huge base64 text body, searched with regexes",
            build: base64_text,
            test_size: 1_000_000,
            expect: Expect::Status("extracted"),
        },
        Attack {
            name: "long-line",
            description: "a text body of one line without a break",
            build: long_line,
            test_size: 1_000_000,
            expect: Expect::Status("extracted"),
        },
        Attack {
            name: "quoted-printable-html",
            description: "a huge quoted-printable HTML body of soft-broken lines",
            build: quoted_printable_html,
            test_size: 1_000_000,
            expect: Expect::Status("extracted"),
        },
    ]
}

/// The attack called `name`.
pub fn attack(name: &str) -> Option<Attack> {
    attacks().into_iter().find(|a| a.name == name)
}

/// The top header block of every attack, from a sender of [`CONFIG`]: `route` is `meta`, `adf`
/// or `rules`.
fn head(route: &str, extra: &str) -> String {
    format!(
        "From: Portal <leads@{route}.hostile.example>\r\nTo: office@agency.example\r\n\
         Subject: New lead\r\nMessage-ID: <attack@{route}.hostile.example>\r\n\
         Date: Tue, 03 Mar 2026 09:14:07 +0000\r\nMIME-Version: 1.0\r\n{extra}"
    )
}

/// A lead the extractors find (`Name:`, `Email:`, `lead_*` meta tags, a `.name` cell).
const LEAD_TEXT: &str = "Name: Jane Doe\r\nEmail: jane@example.com\r\n";
const LEAD_HTML: &str = "<meta name=\"lead_email\" content=\"jane@example.com\">\
                         <table><tr><td class=name>Jane Doe</td></tr></table>\
                         <p>Email: jane@example.com</p>";

/// `prefix`, then `unit` as often as fits, then `suffix`, in at most `size` bytes.
fn fill(prefix: &str, unit: &str, suffix: &str, size: usize) -> Vec<u8> {
    let room = size.saturating_sub(prefix.len() + suffix.len());
    let mut out = String::with_capacity(size);
    out.push_str(prefix);
    for _ in 0..room / unit.len().max(1) {
        out.push_str(unit);
    }
    out.push_str(suffix);
    out.into_bytes()
}

/// Like [`fill`], with a numbered unit (every `{i}` in the unit is replaced by a counter).
fn fill_numbered(prefix: &str, unit: &str, suffix: &str, size: usize) -> Vec<u8> {
    let room = size.saturating_sub(prefix.len() + suffix.len());
    let mut out = String::with_capacity(size);
    out.push_str(prefix);
    let pieces: Vec<&str> = unit.split("{i}").collect();
    let mut i = 0u64;
    let mut piece = String::new();
    loop {
        piece.clear();
        for (k, text) in pieces.iter().enumerate() {
            if k > 0 {
                let _ = write!(piece, "{i}");
            }
            piece.push_str(text);
        }
        if out.len() + piece.len() > prefix.len() + room {
            break;
        }
        out.push_str(&piece);
        i += 1;
    }
    out.push_str(suffix);
    out.into_bytes()
}

fn nested_rfc822(size: usize) -> Vec<u8> {
    fill(
        &head("meta", "Content-Type: message/rfc822\r\n\r\n"),
        "Content-Type: message/rfc822\r\n\r\n",
        "From: inner@example.com\r\n\r\nbody\r\n",
        size,
    )
}

fn nested_rfc822_base64(size: usize) -> Vec<u8> {
    let prefix = head(
        "meta",
        "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let inner = nested_rfc822(size.saturating_sub(prefix.len() + 4) / 4 * 3 * 76 / 78);
    let mut out = prefix.into_bytes();
    out.extend_from_slice(&base64_lines(&inner));
    out.truncate(size);
    out
}

fn nested_multipart(size: usize) -> Vec<u8> {
    fill_numbered(
        &head("meta", ""),
        "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n",
        "Content-Type: text/plain\r\n\r\nbody\r\n",
        size,
    )
}

fn unclosed_multiparts(size: usize) -> Vec<u8> {
    let mut prefix = head("rules", "");
    for i in 0..40 {
        let _ = write!(
            prefix,
            "Content-Type: multipart/mixed; boundary=\"level{i}\"\r\n\r\n--level{i}\r\n"
        );
    }
    prefix.push_str("Content-Type: text/plain\r\n\r\n");
    prefix.push_str(LEAD_TEXT);
    // Dashes everywhere, never followed by a boundary.
    fill(&prefix, "--level --lev -- x\r\n", "", size)
}

fn many_headers(size: usize) -> Vec<u8> {
    fill(&head("meta", ""), "a:\r\n", "\r\nbody\r\n", size)
}

fn many_addresses(size: usize) -> Vec<u8> {
    fill(
        &format!("{}To: ", head("meta", "")),
        "a@b,",
        "c@d\r\n\r\nbody\r\n",
        size,
    )
}

fn many_reply_to(size: usize) -> Vec<u8> {
    fill_numbered(
        &format!("{}Reply-To: ", head("meta", "")),
        "\"Lead {i}\" <lead{i}@example.com>,\r\n ",
        "last@example.com\r\n\r\nbody\r\n",
        size,
    )
}

fn long_subject(size: usize) -> Vec<u8> {
    fill(
        "From: Portal <leads@meta.hostile.example>\r\nSubject: New lead",
        "\r\n lead",
        "\r\n\r\nbody\r\n",
        size,
    )
}

fn many_encoded_words(size: usize) -> Vec<u8> {
    fill(
        "From: Portal <leads@meta.hostile.example>\r\nSubject: =?utf-8?q?New?=",
        "\r\n =?utf-8?q?l=C3=A9?= =?iso-8859-1?q?l=E9?= =?utf-8?b?bMOp?=",
        "\r\n\r\nbody\r\n",
        size,
    )
}

fn headers_under_caps(size: usize) -> Vec<u8> {
    // 9 000 fields of about 110 bytes: under 10 000 fields and 1 MiB.
    let mut out = head("rules", "Content-Type: text/plain\r\n");
    for i in 0..9_000 {
        let _ = write!(
            out,
            "X-Note-{i}: =?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?caf=E9?= plain words to pad it out\r\n"
        );
        if out.len() > size.saturating_sub(1024).min(1_000_000) {
            break;
        }
    }
    out.push_str("\r\n");
    out.push_str(LEAD_TEXT);
    out.into_bytes()
}

fn multipart_head(route: &str) -> String {
    head(
        route,
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n",
    ) + LEAD_TEXT
}

fn many_parts(size: usize) -> Vec<u8> {
    fill(
        &multipart_head("meta"),
        "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n",
        "--b--\r\n",
        size,
    )
}

fn many_boundaries(size: usize) -> Vec<u8> {
    fill(&multipart_head("meta"), "--b\n\n", "--b--\r\n", size)
}

fn parts_under_cap(size: usize) -> Vec<u8> {
    let prefix = multipart_head("rules");
    let part_size = size.saturating_sub(prefix.len() + 16) / 990;
    let part = format!(
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment\r\n\r\n{}\r\n",
        "x".repeat(part_size.saturating_sub(90))
    );
    fill(&prefix, &part, "--b--\r\n", size)
}

fn html_head(route: &str) -> String {
    head(route, "Content-Type: text/html; charset=utf-8\r\n\r\n") + LEAD_HTML
}

fn meta_tags(size: usize) -> Vec<u8> {
    fill_numbered(
        &html_head("meta"),
        "<meta name=\"lead_f{i}\" content=\"v\">",
        "",
        size,
    )
}

fn meta_duplicates(size: usize) -> Vec<u8> {
    fill(
        &html_head("meta"),
        "<meta name=\"lead_email\" content=\"jane@example.com\">",
        "",
        size,
    )
}

fn meta_odd_names(size: usize) -> Vec<u8> {
    fill_numbered(
        &html_head("meta"),
        "<meta name=\"lead_jane.doe{i}@example.com\" content=\"v\">",
        "",
        size,
    )
}

fn html_many_elements(size: usize) -> Vec<u8> {
    fill(&html_head("rules"), "<b class=name>x</b>", "", size)
}

fn html_deep(size: usize) -> Vec<u8> {
    fill(&html_head("rules"), "<div class=name>", "x", size)
}

fn html_attributes(size: usize) -> Vec<u8> {
    fill_numbered(
        &(html_head("rules") + "<div class=name"),
        " a{i}",
        ">x</div>",
        size,
    )
}

fn html_classes(size: usize) -> Vec<u8> {
    fill_numbered(
        &(html_head("rules") + "<div class=\"name"),
        " c{i}",
        "\">x</div>",
        size,
    )
}

fn base64_attachment(size: usize) -> Vec<u8> {
    let prefix = multipart_head("adf")
        + "--b\r\nContent-Type: application/octet-stream; name=\"lead.bin\"\r\n\
           Content-Disposition: attachment; filename=\"lead.bin\"\r\n\
           Content-Transfer-Encoding: base64\r\n\r\n";
    let raw = vec![b'<'; size.saturating_sub(prefix.len() + 16) / 4 * 3 * 76 / 78];
    let mut out = prefix.into_bytes();
    out.extend_from_slice(&base64_lines(&raw));
    out.extend_from_slice(b"\r\n--b--\r\n");
    out.truncate(size);
    out
}

fn base64_text(size: usize) -> Vec<u8> {
    let prefix = head(
        "rules",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let text = fill(
        LEAD_TEXT,
        "Note: a line of words that looks like a field, Email: not@an address\r\n",
        "",
        size.saturating_sub(prefix.len() + 4) / 4 * 3 * 76 / 78,
    );
    let mut out = prefix.into_bytes();
    out.extend_from_slice(&base64_lines(&text));
    out.truncate(size);
    out
}

fn long_line(size: usize) -> Vec<u8> {
    fill(
        &(head("rules", "Content-Type: text/plain\r\n\r\n") + LEAD_TEXT),
        "Name: Email: x@ ",
        "\r\n",
        size,
    )
}

fn quoted_printable_html(size: usize) -> Vec<u8> {
    fill(
        &(head(
            "rules",
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        ) + LEAD_HTML),
        "<td class=3D\"name\">caf=C3=A9 =\r\nx</td>=\r\n",
        "",
        size,
    )
}

/// Base64 of `bytes` in lines of 76 characters (CRLF), as mail carries it.
fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(bytes.len() / 3 * 4 * 78 / 76 + 8);
    let mut line = 0;
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
        line += 4;
        if line == 76 {
            out.extend_from_slice(b"\r\n");
            line = 0;
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attack_fits_its_size() {
        for attack in attacks() {
            let raw = (attack.build)(attack.test_size);
            assert!(raw.len() <= attack.test_size, "{}", attack.name);
            assert!(
                raw.len() > attack.test_size / 2,
                "{}: {} bytes",
                attack.name,
                raw.len()
            );
        }
    }

    #[test]
    fn base64_lines_encode() {
        assert_eq!(base64_lines(b"Man"), b"TWFu\r\n");
        assert_eq!(base64_lines(b"Ma"), b"TWE=\r\n");
        assert_eq!(base64_lines(b"M"), b"TQ==\r\n");
    }
}
