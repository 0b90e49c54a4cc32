//! A real SMTP server for the mail tests: Python's aiosmtpd writing every
//! message it receives into a maildir. `scripts/test.sh` installs it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running aiosmtpd, killed on drop.
pub struct SmtpServer {
    pub port: u16,
    child: Child,
    dir: TempDir,
}

/// One received message: its headers (unfolded) and its body (decoded
/// from quoted-printable when it was encoded).
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// The first header `name` (case-insensitive), or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The envelope recipient, as the server saw it.
    pub fn rcpt(&self) -> &str {
        self.header("X-RcptTo")
    }

    /// Whole message text (headers and body) for `contains` checks.
    pub fn text(&self) -> String {
        let mut t: String = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        t.push('\n');
        t.push_str(&self.body);
        t
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// Starts aiosmtpd on a free port and waits until it accepts.
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(None)
    }

    /// Like [`SmtpServer::start`], but the server refuses the recipient
    /// `address` (550 at RCPT TO) and takes every other one.
    pub fn start_refusing(address: &str) -> SmtpServer {
        SmtpServer::start_with(Some(address))
    }

    fn start_with(refused: Option<&str>) -> SmtpServer {
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("refusing_handler.py"), REFUSING).unwrap();
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut command = Command::new("python3");
            command
                .env("PYTHONPATH", dir.path())
                .args(["-m", "aiosmtpd", "-n", "-l"])
                .arg(format!("127.0.0.1:{port}"));
            match refused {
                None => command.args(["-c", "aiosmtpd.handlers.Mailbox"]),
                Some(_) => command.args(["-c", "refusing_handler.Refusing"]),
            };
            command.arg(dir.path().join("box"));
            if let Some(a) = refused {
                command.arg(a);
            }
            let mut child = command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3 with aiosmtpd (scripts/test.sh installs it)");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("aiosmtpd stopped: {status}");
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return SmtpServer { port, child, dir };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aiosmtpd did not start: {last_error}");
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("box").join("new")
    }

    /// Every message received so far, in the order of their file names.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.maildir()) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        files
            .iter()
            .map(|f| parse(&std::fs::read_to_string(f).unwrap()))
            .collect()
    }

    /// Waits (a few seconds at most) until `n` messages arrived, and
    /// returns them.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let m = self.messages();
            if m.len() >= n || started.elapsed() > Duration::from_secs(10) {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Mailbox handler that refuses one recipient.
const REFUSING: &str = r#"
from aiosmtpd.handlers import Mailbox

class Refusing(Mailbox):
    def __init__(self, mail_dir, refused):
        super().__init__(mail_dir)
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0], args[1])
"#;

fn parse(raw: &str) -> Received {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let qp = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("Content-Transfer-Encoding")
            && v.eq_ignore_ascii_case("quoted-printable")
    });
    let body = if qp { decode_qp(body) } else { body.to_owned() };
    Received { headers, body }
}

/// Decodes quoted-printable text (soft line breaks and `=XX` bytes).
fn decode_qp(s: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    for line in s.split('\n') {
        let (line, soft) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                if let Some(Ok(v)) = line.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        if !soft {
            out.push(b'\n');
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
