//! A streamed upload (`POST /v1/import`) over HTTP/1.1 written by hand, because of one case
//! reqwest cannot report: carnetd may answer before it has read the whole body (a refused
//! owner token, a sealed vault, an archive over the limit) and close the connection. The
//! next write then fails, and reqwest gives that failure ("broken pipe") instead of the
//! answer already received. Here a failed write ends the upload and the answer is read all
//! the same; only when there is none is the write's failure what carnet reports.
//!
//! It speaks just what the import needs: one request per connection (`Connection: close`),
//! a chunked body, plain http or https (rustls, the system's roots, as reqwest). Behind an
//! HTTP proxy from the environment the upload goes through reqwest as before.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::ServerUrl;

/// The longest response head and body read (carnetd's answers are a few KiB).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;
/// How long connecting may take, as reqwest's connect within its 30 s timeout.
const CONNECT: Duration = Duration::from_secs(30);
/// The size of each chunk of the body.
const CHUNK: usize = 64 * 1024;

/// What the server answered.
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Why there is no answer.
#[derive(Debug)]
pub(super) enum NoAnswer {
    /// Nothing listens there (connection refused).
    Refused,
    /// The limit passed first.
    TimedOut,
    /// Reading the body to send failed: the upload was cut (the caller knows why).
    Body(io::Error),
    /// Anything else on the way: DNS, TLS, a reset connection with no answer in it.
    Failed(String),
}

/// Whether an HTTP proxy from the environment would carry requests (then reqwest does it).
pub(super) fn proxied() -> bool {
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

/// The connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Bounds the next read or write by what is left until `deadline`.
    fn until(&self, deadline: Instant) -> Result<(), NoAnswer> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NoAnswer::TimedOut);
        }
        let tcp = self.tcp();
        tcp.set_read_timeout(Some(left))
            .and_then(|()| tcp.set_write_timeout(Some(left)))
            .map_err(|e| NoAnswer::Failed(e.to_string()))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

fn connect(server: &ServerUrl, deadline: Instant) -> Result<Stream, NoAnswer> {
    let url = server.endpoint("/");
    let host = url
        .host_str()
        .ok_or_else(|| NoAnswer::Failed("the address has no host".into()))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (bare, port)
        .to_socket_addrs()
        .map_err(|e| NoAnswer::Failed(format!("cannot resolve {host}: {e}")))?;
    let mut last = NoAnswer::Failed(format!("{host} has no address"));
    let mut tcp = None;
    for addr in addrs {
        let wait = CONNECT.min(deadline.saturating_duration_since(Instant::now()));
        match TcpStream::connect_timeout(&addr, wait) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => last = NoAnswer::Refused,
            Err(e) if timed_out(&e) => last = NoAnswer::TimedOut,
            Err(e) => last = NoAnswer::Failed(e.to_string()),
        }
    }
    let tcp = tcp.ok_or(last)?;
    let _ = tcp.set_nodelay(true);
    if url.scheme() != "https" {
        return Ok(Stream::Plain(tcp));
    }
    use rustls_platform_verifier::ConfigVerifierExt;
    let config = rustls::ClientConfig::with_platform_verifier()
        .map_err(|e| NoAnswer::Failed(format!("TLS set-up: {e}")))?;
    let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
        .map_err(|e| NoAnswer::Failed(format!("{host}: {e}")))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| NoAnswer::Failed(format!("TLS: {e}")))?;
    Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
}

/// POSTs `body` to `path` with `headers` (chunked), and reads the answer, even one sent
/// before the body was all read. `limit` bounds the whole exchange.
pub(super) fn post(
    server: &ServerUrl,
    (path, query): (&str, &[(&str, String)]),
    headers: &[(&str, &str)],
    body: &mut dyn Read,
    limit: Duration,
) -> Result<Answer, NoAnswer> {
    let deadline = Instant::now() + limit;
    let mut stream = connect(server, deadline)?;
    let mut url = server.endpoint(path);
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut head = format!("POST {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    // A write that fails ends the upload; the answer, if any, says why.
    let sent = match send(&mut stream, head.as_bytes(), body, deadline) {
        Err(NoAnswer::Body(e)) => return Err(NoAnswer::Body(e)),
        sent => sent,
    };
    match read_answer(&mut stream, deadline) {
        Ok(answer) => Ok(answer),
        Err(unanswered) => Err(match sent {
            Err(failed) => failed,
            Ok(()) => unanswered,
        }),
    }
}

fn send(
    stream: &mut Stream,
    head: &[u8],
    body: &mut dyn Read,
    deadline: Instant,
) -> Result<(), NoAnswer> {
    let wrote = |e: io::Error| {
        if timed_out(&e) {
            NoAnswer::TimedOut
        } else {
            NoAnswer::Failed(e.to_string())
        }
    };
    stream.until(deadline)?;
    stream.write_all(head).map_err(wrote)?;
    let mut buf = vec![0u8; CHUNK];
    let mut chunk = Vec::with_capacity(CHUNK + 16);
    loop {
        let n = match body.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(NoAnswer::Body(e)),
        };
        chunk.clear();
        chunk.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        chunk.extend_from_slice(&buf[..n]);
        // The last chunk, of size 0, is `0\r\n\r\n`.
        chunk.extend_from_slice(b"\r\n");
        stream.until(deadline)?;
        stream.write_all(&chunk).map_err(wrote)?;
        if n == 0 {
            return stream.flush().map_err(wrote);
        }
    }
}

/// Reads until `pred` finds what it needs in `buf`, at most `max` bytes in all.
fn fill(
    stream: &mut Stream,
    buf: &mut Vec<u8>,
    deadline: Instant,
    max: usize,
    done: impl Fn(&[u8]) -> bool,
) -> Result<(), NoAnswer> {
    let mut tmp = [0u8; 8192];
    while !done(buf) {
        if buf.len() > max {
            return Err(NoAnswer::Failed("the answer is too long".into()));
        }
        stream.until(deadline)?;
        match stream.read(&mut tmp) {
            Ok(0) => return Err(NoAnswer::Failed("the connection closed".into())),
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if timed_out(&e) => return Err(NoAnswer::TimedOut),
            Err(e) => return Err(NoAnswer::Failed(e.to_string())),
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_answer(stream: &mut Stream, deadline: Instant) -> Result<Answer, NoAnswer> {
    let mut buf = Vec::new();
    loop {
        fill(stream, &mut buf, deadline, MAX_HEAD, |b| {
            find(b, b"\r\n\r\n").is_some()
        })?;
        let end = find(&buf, b"\r\n\r\n").unwrap_or_default() + 4;
        let (status, headers) = parse_head(&buf[..end])?;
        buf.drain(..end);
        // An interim answer (100 Continue): the real one follows.
        if status.is_informational() {
            continue;
        }
        let body = read_body(stream, buf, &headers, deadline)?;
        return Ok(Answer {
            status,
            headers,
            body,
        });
    }
}

fn malformed() -> NoAnswer {
    NoAnswer::Failed("the answer is not HTTP".into())
}

fn parse_head(head: &[u8]) -> Result<(StatusCode, HeaderMap), NoAnswer> {
    let text = std::str::from_utf8(head).map_err(|_| malformed())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(malformed());
    }
    let status = parts
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(malformed)?;
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(malformed)?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| malformed())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| malformed())?;
        headers.append(name, value);
    }
    Ok((status, headers))
}

fn read_body(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    headers: &HeaderMap,
    deadline: Instant,
) -> Result<Vec<u8>, NoAnswer> {
    let chunked = headers
        .get(reqwest::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            fill(stream, &mut buf, deadline, MAX_BODY, |b| {
                find(b, b"\r\n").is_some()
            })?;
            let line_end = find(&buf, b"\r\n").unwrap_or_default();
            let size = std::str::from_utf8(&buf[..line_end])
                .ok()
                .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                .ok_or_else(malformed)?;
            if body.len() + size > MAX_BODY {
                return Err(NoAnswer::Failed("the answer is too long".into()));
            }
            let need = line_end + 2 + size + 2;
            fill(stream, &mut buf, deadline, MAX_BODY + 64, |b| {
                b.len() >= need
            })?;
            body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
            buf.drain(..need);
            if size == 0 {
                return Ok(body);
            }
        }
    }
    let length = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(n) if n > MAX_BODY => Err(NoAnswer::Failed("the answer is too long".into())),
        Some(n) => {
            fill(stream, &mut buf, deadline, MAX_BODY, |b| b.len() >= n)?;
            buf.truncate(n);
            Ok(buf)
        }
        // Until the connection closes.
        None => {
            let mut tmp = [0u8; 8192];
            loop {
                stream.until(deadline)?;
                match stream.read(&mut tmp) {
                    Ok(0) => return Ok(buf),
                    Ok(n) if buf.len() + n <= MAX_BODY => buf.extend_from_slice(&tmp[..n]),
                    Ok(_) => return Err(NoAnswer::Failed("the answer is too long".into())),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if timed_out(&e) => return Err(NoAnswer::TimedOut),
                    // A TLS peer that closes without close_notify: what came is the body.
                    Err(_) => return Ok(buf),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that reads the request head only and answers 401 at once, before any of the
    /// body: the answer is what `post` returns. (The server then drains what is still sent
    /// before it closes: closing on unread bytes makes the kernel reset the connection, and a
    /// reset may reach the client before the answer it follows — a race of the test's own
    /// making, which failed the test now and then under load.)
    #[test]
    fn an_answer_sent_before_the_body_was_read_is_returned() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url: ServerUrl = format!("http://{}", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                s.read_exact(&mut byte).unwrap();
                head.push(byte[0]);
            }
            let body = br#"{"title":"unauthorized","status":401,"detail":"no"}"#;
            write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .unwrap();
            s.write_all(body).unwrap();
            let _ = s.shutdown(std::net::Shutdown::Write);
            let _ = io::copy(&mut s, &mut io::sink());
            String::from_utf8(head).unwrap()
        });
        // 64 MiB of body: far more than the socket buffers hold.
        let mut body = io::repeat(b'x').take(64 * 1024 * 1024);
        let answer = post(
            &url,
            ("/v1/import", &[("vendor", "ven_a".to_owned())]),
            &[("Authorization", "Bearer wrong")],
            &mut body,
            Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("no answer: {e:?}"));
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(String::from_utf8_lossy(&answer.body).contains("\"status\":401"));
        let head = server.join().unwrap();
        assert!(
            head.starts_with("POST /v1/import?vendor=ven_a HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains("Authorization: Bearer wrong\r\n"), "{head}");
    }

    #[test]
    fn chunked_and_closed_bodies_are_read_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url: ServerUrl = format!("http://{}", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let server = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n",
                "HTTP/1.1 409 Conflict\r\n\r\n{\"b\":2}",
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.ends_with(b"0\r\n\r\n") {
                    let n = s.read(&mut buf).unwrap();
                    seen.extend_from_slice(&buf[..n]);
                }
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        let a = post(
            &url,
            ("/x", &[]),
            &[],
            &mut &b"{}"[..],
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!((a.status, a.body), (StatusCode::OK, b"{\"a\":1}".to_vec()));
        let b = post(
            &url,
            ("/x", &[]),
            &[],
            &mut &b"{}"[..],
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(
            (b.status, b.body),
            (StatusCode::CONFLICT, b"{\"b\":2}".to_vec())
        );
        server.join().unwrap();
    }
}
