//! The `http:` probe: one HTTP/1.1 GET over a plain TCP connection, just enough to read a status
//! and a bounded body.
//!
//! A health endpoint needs no more, and this keeps an HTTP stack out of rave. `https://` is
//! refused with a clear message until TLS arrives (with remote hosts). Timeouts are the caller's.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::tcp::HostPort;

/// How much of a reply is read; a health endpoint's answer is far smaller.
pub(super) const RESPONSE_LIMIT: usize = 1024 * 1024;

/// An `http://` URL, split for the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Url {
    /// Where to connect.
    address: HostPort,
    /// The `Host:` header: the authority as written.
    authority: String,
    /// The request target: path and query, `/` when empty.
    target: String,
}

impl Url {
    /// Parses an `http://host[:port][/path][?query]` URL.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let scheme_end =
            text.find("://").ok_or_else(|| format!("`{text}` is not a URL: write `http://host:port/path`"))?;
        let scheme = text[..scheme_end].to_ascii_lowercase();
        if scheme == "https" {
            return Err(format!(
                "https health checks are not supported yet: `{text}` needs a TLS client, planned with remote hosts; \
                 use an `http://` URL or a `tcp:` check"
            ));
        }
        if scheme != "http" {
            return Err(format!("`{text}` is not an `http://` URL"));
        }
        let rest = &text[scheme_end + 3..];
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (authority, target) = match rest.find(['/', '?']) {
            Some(start) => (&rest[..start], &rest[start..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(format!("`{text}` names no host"));
        }
        if authority.contains('@') {
            return Err(format!("`{text}` carries credentials; a health check URL cannot"));
        }
        if target.chars().any(|character| character.is_whitespace() || character.is_control()) {
            return Err(format!("`{text}` has spaces or control characters in its path: percent-encode them"));
        }
        let target = if target.starts_with('?') { format!("/{target}") } else { target.to_owned() };
        let address = HostPort::parse(authority, Some(80))?;
        Ok(Self { address, authority: authority.to_owned(), target })
    }
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Response {
    /// The status code.
    pub(super) status: u16,
    /// The body (de-chunked), at most [`RESPONSE_LIMIT`] of the reply.
    pub(super) body: Vec<u8>,
    /// Whether the body was cut: by the size limit, or by the server closing early.
    pub(super) is_truncated: bool,
}

/// Why a GET got no readable answer.
#[derive(Debug)]
pub(super) enum HttpError {
    /// No connection.
    Connect(io::Error),
    /// The connection broke while asking or reading.
    Exchange(io::Error),
    /// The reply is not HTTP.
    Malformed(String),
}

/// Sends `GET url` and reads the reply, up to [`RESPONSE_LIMIT`] bytes.
pub(super) async fn get(url: &Url) -> Result<Response, HttpError> {
    let mut stream = url.address.connect().await.map_err(HttpError::Connect)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rave/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.target,
        url.authority,
        env!("CARGO_PKG_VERSION")
    );
    stream.write_all(request.as_bytes()).await.map_err(HttpError::Exchange)?;
    let mut reply = Vec::new();
    let mut chunk = vec![0; 16 * 1024];
    loop {
        let read = stream.read(&mut chunk).await.map_err(HttpError::Exchange)?;
        let room = RESPONSE_LIMIT - reply.len();
        reply.extend_from_slice(&chunk[..read.min(room)]);
        let is_full = reply.len() >= RESPONSE_LIMIT;
        // At the end (closed, or full) parsing always yields an answer or an error.
        if let Some(mut response) = parse_response(&reply, read == 0 || is_full).map_err(HttpError::Malformed)? {
            response.is_truncated |= is_full;
            return Ok(response);
        }
    }
}

/// Reads a reply from `bytes`: `None` while more is needed and more may come (`is_end` false).
fn parse_response(bytes: &[u8], is_end: bool) -> Result<Option<Response>, String> {
    let head_end = find(bytes, b"\r\n\r\n").map(|at| (at, 4)).or_else(|| find(bytes, b"\n\n").map(|at| (at, 2)));
    let Some((head_length, separator)) = head_end else {
        return if is_end { Err("the reply ended before its headers did".to_owned()) } else { Ok(None) };
    };
    let head = String::from_utf8_lossy(&bytes[..head_length]);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.split_whitespace();
    let status = match (words.next(), words.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") && code.len() == 3 => {
            code.parse::<u16>().map_err(|_| format!("`{status_line}` is not an HTTP status line"))?
        }
        _ => return Err(format!("`{status_line}` is not an HTTP status line")),
    };
    let mut is_chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            is_chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| format!("`{line}` is not a valid length"))?);
        }
    }
    let body = &bytes[head_length + separator..];
    let (body, is_complete) = if is_chunked {
        dechunk(body)?
    } else if let Some(length) = length {
        (body[..body.len().min(length)].to_vec(), body.len() >= length)
    } else {
        // Without framing the body runs to the end of the connection.
        (body.to_vec(), is_end)
    };
    if !is_complete && !is_end {
        return Ok(None);
    }
    Ok(Some(Response { status, body, is_truncated: !is_complete }))
}

/// Decodes a chunked body as far as it goes; `true` once the last chunk was seen.
fn dechunk(mut data: &[u8]) -> Result<(Vec<u8>, bool), String> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = find(data, b"\r\n") else { return Ok((body, false)) };
        let size_line = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("`{size_line}` is not a chunk size"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok((body, true));
        }
        if data.len() < size {
            body.extend_from_slice(data);
            return Ok((body, false));
        }
        body.extend_from_slice(&data[..size]);
        data = data[size..].strip_prefix(b"\r\n").unwrap_or(&data[size..]);
    }
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_host_and_target() {
        let url = Url::parse("http://127.0.0.1:8080/healthz?full=1#top").unwrap();
        assert_eq!(url.address, HostPort::parse("127.0.0.1:8080", None).unwrap());
        assert_eq!((url.authority.as_str(), url.target.as_str()), ("127.0.0.1:8080", "/healthz?full=1"));
        let url = Url::parse("HTTP://example.org").unwrap();
        assert_eq!(url.address, HostPort::parse("example.org:80", None).unwrap());
        assert_eq!(url.target, "/");
        assert_eq!(Url::parse("http://[::1]:81?x").unwrap().target, "/?x");
    }

    #[test]
    fn urls_rave_cannot_ask_are_refused() {
        let cases = [
            (
                "https://gitlab.lab/-/health",
                "https health checks are not supported yet: `https://gitlab.lab/-/health` needs a TLS client, planned \
                 with remote hosts; use an `http://` URL or a `tcp:` check",
            ),
            ("ftp://x", "`ftp://x` is not an `http://` URL"),
            ("localhost:80", "`localhost:80` is not a URL: write `http://host:port/path`"),
            ("http://user:pw@host/", "`http://user:pw@host/` carries credentials; a health check URL cannot"),
            ("http://host/a b", "`http://host/a b` has spaces or control characters in its path: percent-encode them"),
            ("http:///x", "`http:///x` names no host"),
        ];
        for (text, message) in cases {
            assert_eq!(Url::parse(text), Err(message.to_owned()), "parsing {text}");
        }
    }

    fn answer(status: u16, body: &str, is_truncated: bool) -> Response {
        Response { status, body: body.as_bytes().to_vec(), is_truncated }
    }

    #[test]
    fn a_reply_with_a_length_is_complete_when_the_length_arrived() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel";
        assert_eq!(parse_response(reply, false), Ok(None));
        assert_eq!(parse_response(reply, true), Ok(Some(answer(200, "hel", true))));
        let reply = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(parse_response(reply, false), Ok(Some(answer(503, "hello", false))));
    }

    #[test]
    fn a_chunked_reply_is_decoded() {
        let reply =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsta\r\n5;x=y\r\ntus o\r\n1\r\nk\r\n0\r\n\r\n";
        assert_eq!(parse_response(reply, false), Ok(Some(answer(200, "status ok", false))));
        assert_eq!(parse_response(&reply[..65], false), Ok(None));
        assert_eq!(parse_response(&reply[..65], true), Ok(Some(answer(200, "status", true))));
    }

    #[test]
    fn a_reply_without_framing_runs_to_the_end() {
        let reply = b"HTTP/1.0 204 No Content\n\nbody";
        assert_eq!(parse_response(reply, false), Ok(None));
        assert_eq!(parse_response(reply, true), Ok(Some(answer(204, "body", false))));
    }

    #[test]
    fn replies_that_are_not_http_are_named() {
        let cases: [(&[u8], &str); 4] = [
            (b"SSH-2.0-OpenSSH_9.6\r\n", "the reply ended before its headers did"),
            (b"hello there\r\n\r\n", "`hello there` is not an HTTP status line"),
            (b"HTTP/1.1 abc\r\n\r\n", "`HTTP/1.1 abc` is not an HTTP status line"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", "`Content-Length: lots` is not a valid length"),
        ];
        for (reply, message) in cases {
            assert_eq!(parse_response(reply, true), Err(message.to_owned()));
        }
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse_response(bad_chunk, true), Err("`zz` is not a chunk size".to_owned()));
    }
}
