//! Whether an email domain is a free-mail provider's (anyone can have an address there, so the
//! domain says nothing about a company and, for small providers, could narrow down a person).

/// Free-mail domains, matched exactly (after lower-casing).
const FREEMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "msn.com",
    "aol.com",
    "aim.com",
    "mail.com",
    "email.com",
    "usa.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "zoho.com",
    "zohomail.com",
    "fastmail.com",
    "hey.com",
    "gmx.com",
    "gmx.net",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.ru",
    "inbox.ru",
    "bk.ru",
    "list.ru",
    "rambler.ru",
    "qq.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "optonline.net",
    "juno.com",
    "rocketmail.com",
    "ymail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "libero.it",
    "virgilio.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "btinternet.com",
    "sky.com",
    "rediffmail.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
];

/// Providers with a free-mail domain under many public suffixes (`yahoo.co.uk`, `hotmail.fr`,
/// `gmx.de`): the first label of the registrable domain.
const FREEMAIL_PROVIDERS: &[&str] = &[
    "yahoo",
    "hotmail",
    "outlook",
    "live",
    "windowslive",
    "gmx",
    "yandex",
    "aol",
    "gmail",
];

/// Whether `domain` (an email address's domain, any case) belongs to a free-mail provider.
pub(crate) fn is_freemail(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if FREEMAIL_DOMAINS.contains(&domain.as_str()) {
        return true;
    }
    let registrable = psl::domain_str(&domain).unwrap_or(&domain);
    registrable
        .split('.')
        .next()
        .is_some_and(|label| FREEMAIL_PROVIDERS.contains(&label))
}

/// The registrable domain of `domain` (`mail.acme.co.uk` -> `acme.co.uk`), lower-cased, or the
/// domain itself when the Public Suffix List knows no registrable part.
pub(crate) fn registrable_domain(domain: &str) -> String {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&domain).unwrap_or(&domain).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_mail_and_company_domains() {
        for free in [
            "gmail.com",
            "GMail.com",
            "yahoo.co.uk",
            "hotmail.fr",
            "gmx.de",
            "web.de",
        ] {
            assert!(is_freemail(free), "{free}");
        }
        for company in [
            "acme.com",
            "mail.acme.co.uk",
            "example.net",
            "yahooligans.example",
        ] {
            assert!(!is_freemail(company), "{company}");
        }
        assert_eq!(registrable_domain("Mail.Acme.co.uk"), "acme.co.uk");
    }
}
