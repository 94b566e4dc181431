//! The `tcp:` probe's target: `host:port` parsed and connected to. Also the address part of an
//! `http://` URL.

use std::fmt;
use std::io;

use tokio::net::TcpStream;

/// A host (name, IPv4 or IPv6 address) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HostPort {
    /// The host, without the brackets of an IPv6 address.
    host: String,
    /// The port.
    port: u16,
}

impl HostPort {
    /// Parses `host:port` or `[v6]:port`; the port may be left out when `default_port` is given.
    pub(super) fn parse(text: &str, default_port: Option<u16>) -> Result<Self, String> {
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("`{text}` opens an IPv6 address with `[` but does not close it"))?;
            if after.is_empty() {
                (host, None)
            } else {
                let port = after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("`{text}` has `{after}` after its address; write `[address]:port`"))?;
                (host, Some(port))
            }
        } else {
            match text.split_once(':') {
                Some((_, port)) if port.contains(':') => {
                    return Err(format!("`{text}` is ambiguous: write an IPv6 address in brackets, `[::1]:8080`"));
                }
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{text}` names no host"));
        }
        let port = match (port, default_port) {
            (Some(port), _) => port
                .parse::<u16>()
                .ok()
                .filter(|&port| port != 0)
                .ok_or_else(|| format!("`{port}` in `{text}` is not a port: write a number from 1 to 65535"))?,
            (None, Some(port)) => port,
            (None, None) => return Err(format!("`{text}` has no port: write `host:port`")),
        };
        Ok(Self { host: host.to_owned(), port })
    }

    /// Opens a TCP connection to it (resolving the name first).
    pub(super) async fn connect(&self) -> io::Result<TcpStream> {
        TcpStream::connect((self.host.as_str(), self.port)).await
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
        HostPort::parse(text, default_port).map(|address| (address.host, address.port))
    }

    #[test]
    fn addresses_parse() {
        let ok = |host: &str, port| Ok((host.to_owned(), port));
        assert_eq!(parsed("127.0.0.1:4222", None), ok("127.0.0.1", 4222));
        assert_eq!(parsed("localhost:80", None), ok("localhost", 80));
        assert_eq!(parsed("[::1]:8080", None), ok("::1", 8080));
        assert_eq!(parsed("example.org", Some(80)), ok("example.org", 80));
        assert_eq!(parsed("[::1]", Some(80)), ok("::1", 80));
    }

    #[test]
    fn bad_addresses_say_what_to_write() {
        let cases = [
            ("127.0.0.1", "`127.0.0.1` has no port: write `host:port`"),
            ("::1:80", "`::1:80` is ambiguous: write an IPv6 address in brackets, `[::1]:8080`"),
            ("[::1:80", "`[::1:80` opens an IPv6 address with `[` but does not close it"),
            ("[::1]80", "`[::1]80` has `80` after its address; write `[address]:port`"),
            (":80", "`:80` names no host"),
            ("host:http", "`http` in `host:http` is not a port: write a number from 1 to 65535"),
            ("host:0", "`0` in `host:0` is not a port: write a number from 1 to 65535"),
            ("host:70000", "`70000` in `host:70000` is not a port: write a number from 1 to 65535"),
        ];
        for (text, message) in cases {
            assert_eq!(parsed(text, None), Err(message.to_owned()), "parsing {text}");
        }
    }

    #[test]
    fn addresses_print_as_written() {
        assert_eq!(HostPort::parse("[::1]:80", None).unwrap().to_string(), "[::1]:80");
        assert_eq!(HostPort::parse("a.b:80", None).unwrap().to_string(), "a.b:80");
    }
}
