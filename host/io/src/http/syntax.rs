//! The small grammar pieces of RFC 9110 and 9112 the codec shares.

use super::{Field, HttpError};

/// `tchar` of RFC 9110 section 5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A `token`: one or more `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// `field-vchar` (VCHAR / obs-text).
pub(super) fn is_field_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// A `field-value` (RFC 9110 section 5.5): visible characters, with spaces
/// and tabs only between them; no NUL, CR, LF or other control.
pub(crate) fn is_field_value(v: &[u8]) -> bool {
    let edges_ok = match (v.first(), v.last()) {
        (Some(&a), Some(&z)) => is_field_vchar(a) && is_field_vchar(z),
        _ => true,
    };
    edges_ok
        && v.iter()
            .all(|&b| is_field_vchar(b) || b == b' ' || b == b'\t')
}

/// Whether `name` is one of `names` (lowercase), ignoring ASCII case.
pub(crate) fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Fields that must not be sent as trailers because they frame, route or
/// steer the message (RFC 9110 section 6.5.1): a decoder drops them, an
/// encoder refuses them.
pub(crate) const NOT_TRAILERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// The elements of the comma-separated lists in `values` (RFC 9110 section
/// 5.6.1), spaces trimmed, empty elements skipped.
pub(crate) fn list_items<'a>(values: &[&'a [u8]]) -> Vec<&'a [u8]> {
    values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|item| item.trim_ascii())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Whether the list in `values` holds `token`, ignoring ASCII case.
pub(crate) fn list_has(values: &[&[u8]], token: &str) -> bool {
    list_items(values)
        .iter()
        .any(|item| item.eq_ignore_ascii_case(token.as_bytes()))
}

/// The value of the `Content-Length` fields in `values`: exactly one field,
/// of decimal digits only, that fits a `u64`; `status` for anything else.
pub(crate) fn content_length(values: &[&[u8]], status: u16) -> Result<u64, HttpError> {
    let [value] = values else {
        return Err(HttpError::new(status, "more than one Content-Length"));
    };
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::new(
            status,
            "Content-Length is not a decimal number",
        ));
    }
    value
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(|| HttpError::new(status, "Content-Length is too large"))
}

/// How a `Transfer-Encoding` list ends.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Codings {
    /// `chunked` alone.
    Chunked,
    /// Other codings, then `chunked`: not implemented here.
    ChunkedAfterOthers,
    /// The final coding is not `chunked`.
    NotChunked,
    /// `chunked` more than once, or an empty list.
    Invalid,
}

/// Reads the `Transfer-Encoding` fields in `values`.
pub(crate) fn codings(values: &[&[u8]]) -> Codings {
    let items = list_items(values);
    let chunked = |item: &&[u8]| item.eq_ignore_ascii_case(b"chunked");
    match items.iter().filter(|i| chunked(i)).count() {
        _ if items.is_empty() => Codings::Invalid,
        0 => Codings::NotChunked,
        1 if items.last().is_some_and(chunked) => {
            if items.len() == 1 {
                Codings::Chunked
            } else {
                Codings::ChunkedAfterOthers
            }
        }
        1 => Codings::NotChunked,
        _ => Codings::Invalid,
    }
}

/// Checks a field to be sent: a token name and a valid value, else a 500.
pub(crate) fn check_field(name: &str, value: &[u8]) -> Result<(), HttpError> {
    if !is_token(name.as_bytes()) {
        return Err(HttpError::new(500, format!("invalid field name {name:?}")));
    }
    if !is_field_value(value) {
        return Err(HttpError::new(
            500,
            format!("invalid value of field {name}"),
        ));
    }
    Ok(())
}

/// Appends `name: value` and its CRLF.
pub(crate) fn put_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Converts the fields httparse found, keeping names as sent.
pub(crate) fn fields(parsed: &[httparse::Header<'_>]) -> Vec<Field> {
    parsed
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

/// The values of the fields named `name` (ignoring case), in order.
pub(crate) fn values<'a>(fields: &'a [Field], name: &str) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .collect()
}

/// The reason phrase RFC 9110 gives `status`, or "" for one it does not name.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values() {
        assert!(is_field_value(b""));
        assert!(is_field_value(b"a b\tc"));
        assert!(is_field_value("é".as_bytes()));
        assert!(!is_field_value(b" a"));
        assert!(!is_field_value(b"a\t"));
        assert!(!is_field_value(b"a\0b"));
        assert!(!is_field_value(b"a\rb"));
        assert!(!is_field_value(b"a\nb"));
        assert!(!is_field_value(b"a\x7fb"));
    }

    #[test]
    fn content_lengths() {
        assert_eq!(content_length(&[b"0"], 400), Ok(0));
        assert_eq!(
            content_length(&[b"18446744073709551615"], 400),
            Ok(u64::MAX)
        );
        for bad in [
            &b"18446744073709551616"[..],
            b"+1",
            b"-1",
            b"1.0",
            b"0x1",
            b"",
            b"1,1",
        ] {
            assert_eq!(content_length(&[bad], 400).map_err(|e| e.status), Err(400));
        }
        assert!(content_length(&[b"1", b"1"], 400).is_err());
        assert!(content_length(&[], 400).is_err());
    }

    #[test]
    fn transfer_codings() {
        assert_eq!(codings(&[b"chunked"]), Codings::Chunked);
        assert_eq!(codings(&[b" Chunked ,"]), Codings::Chunked);
        assert_eq!(codings(&[b"gzip", b"chunked"]), Codings::ChunkedAfterOthers);
        assert_eq!(codings(&[b"gzip, chunked"]), Codings::ChunkedAfterOthers);
        assert_eq!(codings(&[b"chunked, gzip"]), Codings::NotChunked);
        assert_eq!(codings(&[b"gzip"]), Codings::NotChunked);
        assert_eq!(codings(&[b"chunked", b"chunked"]), Codings::Invalid);
        assert_eq!(codings(&[b", ,"]), Codings::Invalid);
    }

    #[test]
    fn lists() {
        assert!(list_has(&[b"keep-alive, Close"], "close"));
        assert!(list_has(&[b"a", b" close "], "close"));
        assert!(!list_has(&[b"closed"], "close"));
    }
}
