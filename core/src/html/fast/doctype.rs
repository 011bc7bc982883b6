//! Doctype sniffing: whether a `<!DOCTYPE ...>` puts the document in quirks mode (the public and
//! system identifier lists of the HTML standard).

use super::tokenizer::is_ascii_ws;

/// Whether a doctype (the text after `<!DOCTYPE`, without `>`) puts the document in quirks mode.
pub(super) fn doctype_quirks(body: &str) -> bool {
    let s = body.trim_start_matches(is_ascii_ws);
    let name_end = s.find(is_ascii_ws).unwrap_or(s.len());
    let name = &s[..name_end];
    if !name.eq_ignore_ascii_case("html") {
        return true;
    }
    let rest = s[name_end..].trim_start_matches(is_ascii_ws);
    if rest.is_empty() {
        return false;
    }
    let (public, system) = if rest.len() >= 6
        && rest.is_char_boundary(6)
        && rest[..6].eq_ignore_ascii_case("public")
    {
        let Some((public, after)) = quoted(&rest[6..]) else {
            return true;
        };
        let after = after.trim_start_matches(is_ascii_ws);
        if after.is_empty() {
            (Some(public), None)
        } else {
            match quoted(after) {
                Some((system, tail)) if tail.trim_matches(is_ascii_ws).is_empty() => {
                    (Some(public), Some(system))
                }
                _ => return true,
            }
        }
    } else if rest.len() >= 6
        && rest.is_char_boundary(6)
        && rest[..6].eq_ignore_ascii_case("system")
    {
        match quoted(&rest[6..]) {
            Some((system, tail)) if tail.trim_matches(is_ascii_ws).is_empty() => {
                (None, Some(system))
            }
            _ => return true,
        }
    } else {
        return true;
    };
    let public = public.map(str::to_ascii_lowercase);
    let system = system.map(str::to_ascii_lowercase);
    if let Some(p) = public.as_deref() {
        if QUIRKY_PUBLIC_MATCHES.contains(&p)
            || QUIRKY_PUBLIC_PREFIXES.iter().any(|x| p.starts_with(x))
        {
            return true;
        }
        if system.is_none() && HTML4_PUBLIC_PREFIXES.iter().any(|x| p.starts_with(x)) {
            return true;
        }
    }
    if system.as_deref() == Some("http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd") {
        return true;
    }
    false
}

/// A quoted identifier at the start of `s` (after optional whitespace): its text and the rest.
pub(super) fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(is_ascii_ws);
    let q = s.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let body = &s[1..];
    let end = body.find(q)?;
    Some((&body[..end], &body[end + 1..]))
}

static QUIRKY_PUBLIC_PREFIXES: &[&str] = &[
    "-//advasoft ltd//dtd html 3.0 aswedit + extensions//",
    "-//as//dtd html 3.0 aswedit + extensions//",
    "-//ietf//dtd html 2.0 level 1//",
    "-//ietf//dtd html 2.0 level 2//",
    "-//ietf//dtd html 2.0 strict level 1//",
    "-//ietf//dtd html 2.0 strict level 2//",
    "-//ietf//dtd html 2.0 strict//",
    "-//ietf//dtd html 2.0//",
    "-//ietf//dtd html 2.1e//",
    "-//ietf//dtd html 3.0//",
    "-//ietf//dtd html 3.2 final//",
    "-//ietf//dtd html 3.2//",
    "-//ietf//dtd html 3//",
    "-//ietf//dtd html level 0//",
    "-//ietf//dtd html level 1//",
    "-//ietf//dtd html level 2//",
    "-//ietf//dtd html level 3//",
    "-//ietf//dtd html strict level 0//",
    "-//ietf//dtd html strict level 1//",
    "-//ietf//dtd html strict level 2//",
    "-//ietf//dtd html strict level 3//",
    "-//ietf//dtd html strict//",
    "-//ietf//dtd html//",
    "-//metrius//dtd metrius presentational//",
    "-//microsoft//dtd internet explorer 2.0 html strict//",
    "-//microsoft//dtd internet explorer 2.0 html//",
    "-//microsoft//dtd internet explorer 2.0 tables//",
    "-//microsoft//dtd internet explorer 3.0 html strict//",
    "-//microsoft//dtd internet explorer 3.0 html//",
    "-//microsoft//dtd internet explorer 3.0 tables//",
    "-//netscape comm. corp.//dtd html//",
    "-//netscape comm. corp.//dtd strict html//",
    "-//o'reilly and associates//dtd html 2.0//",
    "-//o'reilly and associates//dtd html extended 1.0//",
    "-//o'reilly and associates//dtd html extended relaxed 1.0//",
    "-//softquad software//dtd hotmetal pro 6.0::19990601::extensions to html 4.0//",
    "-//softquad//dtd hotmetal pro 4.0::19971010::extensions to html 4.0//",
    "-//spyglass//dtd html 2.0 extended//",
    "-//sq//dtd html 2.0 hotmetal + extensions//",
    "-//sun microsystems corp.//dtd hotjava html//",
    "-//sun microsystems corp.//dtd hotjava strict html//",
    "-//w3c//dtd html 3 1995-03-24//",
    "-//w3c//dtd html 3.2 draft//",
    "-//w3c//dtd html 3.2 final//",
    "-//w3c//dtd html 3.2//",
    "-//w3c//dtd html 3.2s draft//",
    "-//w3c//dtd html 4.0 frameset//",
    "-//w3c//dtd html 4.0 transitional//",
    "-//w3c//dtd html experimental 19960712//",
    "-//w3c//dtd html experimental 970421//",
    "-//w3c//dtd w3 html//",
    "-//w3o//dtd w3 html 3.0//",
    "-//webtechs//dtd mozilla html 2.0//",
    "-//webtechs//dtd mozilla html//",
];

static QUIRKY_PUBLIC_MATCHES: &[&str] = &[
    "-//w3o//dtd w3 html strict 3.0//en//",
    "-/w3c/dtd html 4.0 transitional/en",
    "html",
];

static HTML4_PUBLIC_PREFIXES: &[&str] = &[
    "-//w3c//dtd html 4.01 frameset//",
    "-//w3c//dtd html 4.01 transitional//",
];
