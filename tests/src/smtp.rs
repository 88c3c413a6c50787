//! A small SMTP receiver for the tests (no crate: a sink is a few commands). It listens on a
//! loopback port, answers EHLO (offering AUTH PLAIN, never STARTTLS), AUTH, MAIL, RCPT, DATA,
//! RSET, NOOP and QUIT, and records each message: the envelope, the credentials used, and
//! the data as received. Waiting on it is waiting on a condition, with a deadline.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::served::Served;

/// One message the receiver accepted.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// (user, password) from AUTH PLAIN, if the client logged in.
    pub login: Option<(String, String)>,
    /// Headers and body, lines joined by `\n`, dot-stuffing undone.
    pub data: String,
}

impl Mail {
    /// The value of a header (first one; not unfolded beyond one line).
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    /// What follows the blank line after the headers.
    pub fn body(&self) -> String {
        self.data
            .split_once("\n\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

struct Shared {
    mails: Mutex<Vec<Mail>>,
    changed: Condvar,
}

/// An SMTP server on `127.0.0.1`.
pub struct Smtp {
    pub port: u16,
    shared: Arc<Shared>,
    _served: Served,
}

impl Smtp {
    pub fn start() -> Smtp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind smtp");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared {
            mails: Mutex::default(),
            changed: Condvar::new(),
        });
        let state = shared.clone();
        let served = Served::spawn(listener, |listener, mut stopped| async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            tokio::spawn(session(stream, state.clone()));
                        }
                    }
                }
            }
        });
        Smtp {
            port,
            shared,
            _served: served,
        }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.shared.mails.lock().expect("lock").clone()
    }

    /// Blocks until `n` messages arrived; fails the test after a minute.
    #[track_caller]
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut mails = self.shared.mails.lock().expect("lock");
        while mails.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited a minute for {n} emails: {mails:#?}"
            );
            mails = self
                .shared
                .changed
                .wait_timeout(mails, left)
                .expect("lock")
                .0;
        }
        mails.clone()
    }
}

/// AUTH PLAIN's `\0user\0password`.
fn plain_login(b64: &str) -> Option<(String, String)> {
    let raw = BASE64.decode(b64.trim().as_bytes()).ok()?;
    let mut parts = raw.split(|b| *b == 0).skip(1);
    let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let password = String::from_utf8(parts.next()?.to_vec()).ok()?;
    Some((user, password))
}

async fn session(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut mail = Mail::default();
    let _ = write.write_all(b"220 carnet-test ESMTP\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-carnet-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
        } else if let Some(rest) = upper.strip_prefix("AUTH PLAIN") {
            let given = &line[line.len() - rest.len()..];
            mail.login = plain_login(given);
            b"235 2.7.0 accepted\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = line[10..].trim().to_owned();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(line[8..].trim().to_owned());
            b"250 ok\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut data = Vec::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push(l.strip_prefix('.').map_or(l.clone(), str::to_owned));
            }
            mail.data = data.join("\n");
            let done = std::mem::take(&mut mail);
            mail.login = done.login.clone();
            shared.mails.lock().expect("lock").push(done);
            shared.changed.notify_all();
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            break;
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 ok\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            break;
        }
    }
}
