//! Sample emails the function examples run on (and `docs/dsl.md` shows).

/// A plain-text lead email.
pub(crate) const TEXT: &str = "From: Rentals Portal <leads@rentals.example>\r
Reply-To: Jane Doe <jane.doe@example.com>\r
To: Acme Office <office@acme.example>, backup@acme.example\r
Subject: New Rental Contact for Parkview\r
Message-ID: <1@rentals.example>\r
X-Lead-Source: portal\r
Content-Type: text/plain; charset=utf-8\r
\r
New lead for Parkview Apartments\r
\r
Name: Jane Doe\r
Email: Jane.Doe@Example.com\r
Phone: (202) 555-0143\r
Fax:\r
Move-in: 09/01/2026\r
\r
Message:\r
Hello,\r
I'd like a tour.\r
----\r
Sent by Rentals Portal\r
";

/// An HTML-only lead email with meta tags, a table and links.
pub(crate) const HTML: &str = "From: Homes <leads@homes.example>\r
Subject: Lead\r
Content-Type: text/html; charset=utf-8\r
\r
<html><head><meta name=\"lead_name\" content=\"Jane Doe\"></head><body>\
<table><tr><td class=\"label\">Name</td><td class=\"name\"> Jane  Doe </td></tr>\
<tr><td class=\"label\">Phone</td><td class=\"phone\">202.555.0143</td></tr></table>\
<a class=\"listing\" href=\"https://homes.example/l/42\">Parkview</a>\
<a class=\"listing\" href=\"https://homes.example/l/43\">Lakeside</a></body></html>\r
";

/// A lead with an ADF/XML attachment.
pub(crate) const ADF: &str = "From: Dealer <leads@dealer.example>\r
Subject: ADF lead\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"b1\"\r
\r
--b1\r
Content-Type: text/plain\r
\r
New lead attached.\r
--b1\r
Content-Type: application/xml; name=\"lead.xml\"\r
Content-Disposition: attachment; filename=\"lead.xml\"\r
\r
<?xml version=\"1.0\"?><adf><prospect><customer><contact><name part=\"first\">Jane</name>\
<name part=\"last\">Doe</name><email>jane@example.com</email></contact></customer></prospect></adf>\r
--b1--\r
";

/// A forwarded lead: the original is a nested `message/rfc822` part.
pub(crate) const FORWARDED: &str = "From: Office <office@acme.example>\r
Subject: Fwd: New lead\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"b2\"\r
\r
--b2\r
Content-Type: text/plain\r
\r
See below.\r
--b2\r
Content-Type: message/rfc822\r
\r
From: Portal <leads@portal.example>\r
Subject: New lead\r
Content-Type: text/plain\r
\r
Name: John Roe\r
--b2--\r
";

/// The name a sample is shown under in the reference.
pub(crate) fn name_of(email: &str) -> &'static str {
    match email {
        e if e == TEXT => "text",
        e if e == HTML => "html",
        e if e == ADF => "adf",
        e if e == FORWARDED => "forwarded",
        _ => "custom",
    }
}
