//! `url`: absolute, validated http(s) URLs, with click-tracking redirects unwrapped.

use ::url::Url;

use super::{NormalizeError, prepare};

/// Longest URL accepted, in bytes.
const MAX_LEN: usize = 8192;

/// How many nested redirect wrappers are unwrapped at most.
const MAX_UNWRAP: usize = 5;

/// Query parameters that carry the target of a click-tracking redirect on any host.
const REDIRECT_PARAMS: &[&str] = &[
    "url",
    "u",
    "target",
    "redirect",
    "redirect_url",
    "redirect_uri",
    "redirecturl",
    "dest",
    "destination",
    "link",
];

fn err(reason: &'static str) -> NormalizeError {
    NormalizeError::Url { reason }
}

/// Normalises an absolute URL. Same as [`url_with_base`] without a base.
pub fn url(input: &str) -> Result<String, NormalizeError> {
    url_with_base(input, None)
}

/// Normalises a URL, resolving a relative one against `base`.
///
/// - surrounding `<>`, quotes and whitespace are removed; `www.example.com/x` gets `https://`;
/// - only `http` and `https` are accepted (no `javascript:`, `data:`, `mailto:`);
/// - a click-tracking redirect whose target sits, un-encoded or percent-encoded, in a query
///   parameter (`url=`, `u=`, `target=`, `redirect=`, `dest=`, `link=`, and `q=` on
///   `google.*/url`) is replaced by its target, up to five levels deep. Targets encoded any other
///   way (base64, signed tokens) are left alone;
/// - the result is serialised by the `url` crate (lower-case scheme and host, punycode, percent
///   encoding).
pub fn url_with_base(input: &str, base: Option<&str>) -> Result<String, NormalizeError> {
    let s = prepare(input, MAX_LEN)?;
    let s = strip_wrapping(s);
    if s.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(err("contains control characters"));
    }
    let parsed = match Url::parse(s) {
        Ok(u) => u,
        Err(::url::ParseError::RelativeUrlWithoutBase) => {
            if let Some(base) = base {
                let base = Url::parse(base.trim()).map_err(|_| err("the base URL is not valid"))?;
                base.join(s)
                    .map_err(|_| err("cannot be resolved against the base"))?
            } else if looks_like_bare_host(s) {
                Url::parse(&format!("https://{s}")).map_err(|_| err("malformed"))?
            } else {
                return Err(err("relative URL and no base"));
            }
        }
        Err(_) => return Err(err("malformed")),
    };
    let mut current = check(parsed)?;
    for _ in 0..MAX_UNWRAP {
        match redirect_target(&current) {
            Some(next) => current = next,
            None => break,
        }
    }
    Ok(current.into())
}

/// Removes matching wrappers: `<...>`, `"..."`, `'...'`, `(...)`, `[...]`, repeatedly.
fn strip_wrapping(mut s: &str) -> &str {
    loop {
        let t = s.trim();
        let stripped = [('<', '>'), ('"', '"'), ('\'', '\''), ('(', ')'), ('[', ']')]
            .iter()
            .find_map(|&(open, close)| t.strip_prefix(open).and_then(|r| r.strip_suffix(close)));
        match stripped {
            Some(inner) => s = inner,
            None => return t,
        }
    }
}

/// `www.example.com/path` or `example.com/path`: a host-looking first segment with a dot.
fn looks_like_bare_host(s: &str) -> bool {
    let host = s.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic))
}

fn check(u: Url) -> Result<Url, NormalizeError> {
    match u.scheme() {
        "http" | "https" => {}
        _ => return Err(err("only http and https URLs are accepted")),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(err("no host"));
    }
    Ok(u)
}

/// The absolute http(s) URL a tracking redirect points to, if `u` is one.
fn redirect_target(u: &Url) -> Option<Url> {
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let google = (host.starts_with("google.") || host.starts_with("www.google."))
        && (u.path() == "/url" || u.path() == "/search");
    for (key, value) in u.query_pairs() {
        let key = key.to_ascii_lowercase();
        let wanted = REDIRECT_PARAMS.contains(&key.as_str()) || (google && key == "q");
        if !wanted {
            continue;
        }
        let value = value.trim();
        let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            continue;
        }
        if let Ok(target) = Url::parse(value)
            && let Ok(target) = check(target)
        {
            return Some(target);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls() {
        assert_eq!(
            url("https://Example.COM/a?b=1#c").as_deref(),
            Ok("https://example.com/a?b=1#c")
        );
        assert_eq!(
            url("<http://example.com>").as_deref(),
            Ok("http://example.com/")
        );
        assert_eq!(
            url("www.example.com/listing/9").as_deref(),
            Ok("https://www.example.com/listing/9")
        );
        assert_eq!(
            url(" \"https://example.com/x y\" ").as_deref(),
            Ok("https://example.com/x%20y")
        );
    }

    #[test]
    fn unwraps_redirects() {
        for (input, want) in [
            (
                "https://www.google.com/url?q=https://example.com/home/123&sa=D&source=editors",
                "https://example.com/home/123",
            ),
            (
                "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fp%3Fid%3D7&h=AT0",
                "https://example.com/p?id=7",
            ),
            (
                "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fexample.net%2Flead&data=05",
                "https://example.net/lead",
            ),
            (
                "https://click.example.test/track?target=https%3A%2F%2Fclick2.example.test%2Fr%3Fredirect%3Dhttps%253A%252F%252Fexample.com%252Ffinal",
                "https://example.com/final",
            ),
        ] {
            assert_eq!(url(input).as_deref(), Ok(want), "input {input}");
        }
    }

    #[test]
    fn leaves_non_redirects() {
        // q= only unwraps on google.*/url.
        let s = "https://example.com/search?q=https://example.net/";
        assert_eq!(url(s).as_deref(), Ok(s));
        // base64 targets are left alone.
        let s = "https://click.example.com/t?u=aHR0cHM6Ly9leGFtcGxlLmNvbQ";
        assert_eq!(url(s).as_deref(), Ok(s));
        // A redirect to a javascript: URL is not followed.
        let s = "https://click.example.com/t?url=javascript:alert(1)";
        assert_eq!(
            url(s).as_deref(),
            Ok("https://click.example.com/t?url=javascript:alert(1)")
        );
    }

    #[test]
    fn relative_with_base() {
        assert_eq!(
            url_with_base("../c", Some("https://example.com/a/b/")).as_deref(),
            Ok("https://example.com/a/c")
        );
        assert!(url_with_base("/x", None).is_err());
        assert!(url_with_base("/x", Some("not a url")).is_err());
    }

    #[test]
    fn rejects() {
        for input in [
            "",
            "javascript:alert(1)",
            "mailto:a@example.com",
            "ftp://example.com/",
            "http://",
            "x",
            "https://exa mple.com",
        ] {
            assert!(url(input).is_err(), "input {input:?} was accepted");
        }
    }

    #[test]
    fn hostile_input() {
        assert!(url(&format!("https://example.com/{}", "a".repeat(100_000))).is_err());
        // Deep nesting is bounded.
        let mut s = String::from("https://example.com/end");
        for _ in 0..7 {
            let enc: String = ::url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            s = format!("https://r.example.com/?url={enc}");
        }
        assert!(s.len() < MAX_LEN);
        let out = url(&s).unwrap_or_default();
        assert!(out.starts_with("https://r.example.com/?url="), "{out}");
        let _ = url("https://\u{FFFD}\u{FFFD}.example.com/");
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() -> Result<(), Box<dyn std::error::Error>> {
        use crate::normalize::url;
        let wrapped = "https://www.google.com/url?q=https%3A%2F%2Fexample.com%2Flisting%2F42&sa=D";
        assert_eq!(url(wrapped).unwrap(), "https://example.com/listing/42");
        Ok(())
    }

    #[test]
    fn example_2() -> Result<(), Box<dyn std::error::Error>> {
        use crate::normalize::url::url_with_base;
        assert_eq!(
            url_with_base("/listing/42?ref=mail", Some("https://example.com/a/b")).unwrap(),
            "https://example.com/listing/42?ref=mail"
        );
        Ok(())
    }
}
