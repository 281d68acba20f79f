//! Test-only receivers on 127.0.0.1: an SMTP server speaking just enough of the protocol for
//! lettre (plain, no TLS) that records each message, and a webhook endpoint (axum) that records
//! each JSON POST and answers with a status the test chooses.
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the SMTP server received it.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, dot-unstuffed, lines ending in CRLF.
    pub data: String,
}

impl Mail {
    /// A header's value, unfolded, as sent (still encoded).
    pub fn raw_header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(o) = out.as_mut() {
                    o.push_str(line);
                }
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    out = Some(v.trim_start().to_string());
                }
            }
        }
        out
    }

    /// A header's value with RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.raw_header(name).map(|v| decode_words(&v))
    }

    /// The body, with its transfer encoding (base64, quoted-printable, 7bit) undone.
    pub fn body(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let cte = self.raw_header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        match cte.trim() {
            "base64" => {
                let joined: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(joined).expect("base64 body");
                String::from_utf8_lossy(&bytes).into_owned()
            }
            "quoted-printable" => {
                let soft = body.replace("=\r\n", "");
                let b = soft.as_bytes();
                let mut out = vec![];
                let mut i = 0;
                while i < b.len() {
                    let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    if let (b'=', Some(Ok(v))) = (b[i], hex.map(|h| u8::from_str_radix(h, 16))) {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    out.push(b[i]);
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            }
            _ => body.to_string(),
        }
    }
}

/// Decodes RFC 2047 `B` encoded words; whitespace between two encoded words is dropped.
fn decode_words(v: &str) -> String {
    let mut out: Vec<u8> = vec![];
    let mut rest = v;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        let lower = rest.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") {
            let after = &rest[10..];
            let end = after.find("?=").expect("end of encoded word");
            let bytes = base64::engine::general_purpose::STANDARD.decode(&after[..end]).expect("base64 word");
            if !last_was_word {
                out.extend(pending_space.as_bytes());
            }
            pending_space.clear();
            out.extend(bytes);
            rest = &after[end + 2..];
            last_was_word = true;
        } else {
            let c = rest.chars().next().expect("char");
            if c.is_whitespace() {
                pending_space.push(c);
            } else {
                out.extend(pending_space.as_bytes());
                pending_space.clear();
                let mut buf = [0u8; 4];
                out.extend(c.encode_utf8(&mut buf).as_bytes());
                last_was_word = false;
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    out.extend(pending_space.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

pub struct SmtpReceiver {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpReceiver {
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }
}

/// Starts an SMTP receiver on a free port of 127.0.0.1.
pub async fn smtp() -> SmtpReceiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(vec![]));
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let _ = smtp_session(sock, store).await;
            });
        }
    });
    SmtpReceiver { port, mails }
}

async fn smtp_session(sock: tokio::net::TcpStream, store: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let mut cur = Mail::default();
    loop {
        let mut line = vec![];
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 test.local\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            cur = Mail { from: addr(&line[10..]), ..Mail::default() };
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            cur.to.push(addr(&line[8..]));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = vec![];
                if r.read_until(b'\n', &mut l).await? == 0 {
                    return Ok(());
                }
                let s = String::from_utf8_lossy(&l).into_owned();
                if s == ".\r\n" || s == ".\n" {
                    break;
                }
                data.push_str(s.strip_prefix('.').unwrap_or(&s));
            }
            cur.data = data;
            store.lock().expect("mails").push(std::mem::take(&mut cur));
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        w.write_all(reply).await?;
    }
}

fn addr(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or("");
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}

pub struct WebhookReceiver {
    pub url: String,
    pub posts: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
}

impl WebhookReceiver {
    pub fn posts(&self) -> Vec<Value> {
        self.posts.lock().expect("posts").clone()
    }
    /// The status every later POST is answered with.
    pub fn answer(&self, status: StatusCode) {
        self.status.store(status.as_u16(), Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct HookState {
    posts: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
}

async fn hook(State(s): State<HookState>, Json(v): Json<Value>) -> StatusCode {
    s.posts.lock().expect("posts").push(v);
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).expect("status")
}

/// Starts a webhook receiver on a free port of 127.0.0.1 answering 200 until told otherwise.
pub async fn webhook() -> WebhookReceiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind webhook");
    let port = listener.local_addr().expect("addr").port();
    let posts = Arc::new(Mutex::new(vec![]));
    let status = Arc::new(AtomicU16::new(200));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(HookState { posts: posts.clone(), status: status.clone() });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    WebhookReceiver { url: format!("http://127.0.0.1:{port}/hook"), posts, status }
}
