//! The error log and the audit log: text lines on stderr/stdout, and JSON events for the
//! `/v1/log/error` and `/v1/log/audit` streams.
//!
//! Subscribers get events through a bounded broadcast channel: a slow subscriber loses events
//! (it lags) and never blocks request handling. No key material, plaintext or ciphertext is ever
//! passed to these functions; callers log names, paths and identities only.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{Method, StatusCode};
use policies::Identity;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::broadcast;

pub use crate::config::Level;

/// How many events a stream subscriber may fall behind before it starts losing them.
const STREAM_CAPACITY: usize = 1024;

/// A level's name as slog prints it: `INFO`, `WARN+2`, `DEBUG-1`.
fn level_name(level: Level) -> String {
    let (base, name) = match level.0 {
        i32::MIN..=-1 => (Level::DEBUG, "DEBUG"),
        0..=3 => (Level::INFO, "INFO"),
        4..=7 => (Level::WARN, "WARN"),
        _ => (Level::ERROR, "ERROR"),
    };
    match level.0 - base.0 {
        0 => name.to_owned(),
        d => format!("{name}{d:+}"),
    }
}

/// The request a log line or audit event is about.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub method: Method,
    pub path: String,
    pub ip: Option<IpAddr>,
    pub identity: Option<Identity>,
}

/// One finished request, for the audit log.
#[derive(Debug)]
pub struct AuditEvent<'a> {
    pub request: &'a RequestInfo,
    pub status: StatusCode,
    pub latency: Duration,
}

/// The server's two logs.
#[derive(Debug)]
pub struct Logs {
    error_level: Level,
    audit_level: Level,
    error_stream: broadcast::Sender<Arc<str>>,
    audit_stream: broadcast::Sender<Arc<str>>,
    /// `log.audit_file`: every request as a JSON line, appended.
    audit_file: Option<Mutex<File>>,
}

/// A subscription to one log stream.
pub type Subscription = broadcast::Receiver<Arc<str>>;

impl Logs {
    /// Logs that forward events at or above the given levels.
    pub fn new(error_level: Level, audit_level: Level) -> Logs {
        Logs {
            error_level,
            audit_level,
            error_stream: broadcast::channel(STREAM_CAPACITY).0,
            audit_stream: broadcast::channel(STREAM_CAPACITY).0,
            audit_file: None,
        }
    }

    /// Also appends every audited request to the file at `path` (created with mode 0600).
    pub fn with_audit_file(mut self, path: &Path) -> Result<Logs, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|err| format!("failed to open audit file '{}': {err}", path.display()))?;
        self.audit_file = Some(Mutex::new(file));
        Ok(self)
    }

    /// Writes an error-log line to stderr and to the error stream's subscribers.
    pub fn error(&self, level: Level, message: &str, request: Option<&RequestInfo>) {
        if !self.error_level.is_enabled(level) {
            return;
        }
        let mut line = format!(
            "time={} level={} msg={}",
            now(),
            level_name(level),
            quote(message)
        );
        if let Some(req) = request {
            push_request(&mut line, req);
        }
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        if self.error_stream.receiver_count() > 0 {
            #[derive(Serialize)]
            struct Event<'a> {
                message: &'a str,
            }
            if let Ok(json) = serde_json::to_string(&Event { message: &line }) {
                let _ = self.error_stream.send(json.into());
            }
        }
    }

    /// Whether [`Logs::audit`] does anything; when it does not, the request pipeline skips
    /// building the [`RequestInfo`] (two allocations per request).
    pub fn audits(&self) -> bool {
        self.audit_level.is_enabled(Level::INFO)
    }

    /// Records a finished request: every request goes to the audit stream; successful key
    /// create, import and delete also go to stdout as text, as in the reference.
    pub fn audit(&self, event: AuditEvent<'_>) {
        if !self.audit_level.is_enabled(Level::INFO) {
            return;
        }
        if event.status == StatusCode::OK
            && let Some(message) = audit_message(&event.request.path)
        {
            let mut line = format!("time={} level=INFO msg={}", now(), quote(&message));
            push_request(&mut line, event.request);
            line.push_str(&format!(
                " res.code={} res.time={:?}",
                event.status.as_u16(),
                event.latency
            ));
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        let subscribed = self.audit_stream.receiver_count() > 0;
        if !subscribed && self.audit_file.is_none() {
            return;
        }
        let json = audit_json(&event);
        if let Some(file) = &self.audit_file {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            // One write per line, so concurrent servers appending to one file never interleave.
            if let Err(err) = file.write_all(format!("{json}\n").as_bytes()) {
                drop(file);
                self.error(
                    Level::ERROR,
                    &format!("failed to write audit file: {err}"),
                    None,
                );
            }
        }
        if subscribed {
            let _ = self.audit_stream.send(json.into());
        }
    }

    /// Subscribes to the error stream.
    pub fn subscribe_error(&self) -> Subscription {
        self.error_stream.subscribe()
    }

    /// Subscribes to the audit stream.
    pub fn subscribe_audit(&self) -> Subscription {
        self.audit_stream.subscribe()
    }
}

fn audit_message(path: &str) -> Option<String> {
    let created = path
        .strip_prefix("/v1/key/create/")
        .or_else(|| path.strip_prefix("/v1/key/import/"));
    if let Some(name) = created {
        return Some(format!("secret key '{name}' created"));
    }
    path.strip_prefix("/v1/key/delete/")
        .map(|name| format!("secret key '{name}' deleted"))
}

fn audit_json(event: &AuditEvent<'_>) -> String {
    #[derive(Serialize)]
    struct Request<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        ip: Option<String>,
        path: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        identity: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Response {
        code: u16,
        time: u64,
    }
    #[derive(Serialize)]
    struct Event<'a> {
        time: String,
        request: Request<'a>,
        response: Response,
    }
    let event = Event {
        time: now(),
        request: Request {
            ip: event.request.ip.map(|ip| ip.to_string()),
            path: &event.request.path,
            identity: event.request.identity.as_ref().map(Identity::as_str),
        },
        response: Response {
            code: event.status.as_u16(),
            time: u64::try_from(event.latency.as_nanos()).unwrap_or(u64::MAX),
        },
    };
    serde_json::to_string(&event).unwrap_or_default()
}

fn push_request(line: &mut String, req: &RequestInfo) {
    let ip = req
        .ip
        .map_or_else(|| "<unknown>".to_owned(), |ip| ip.to_string());
    let identity = req.identity.as_ref().map_or("<unknown>", Identity::as_str);
    line.push_str(&format!(
        " req.method={} req.path={} req.ip={ip} req.identity={identity}",
        req.method,
        quote(&req.path)
    ));
}

/// Quotes a value like slog's text handler: bare if it has no space, quote or `=`.
fn quote(value: &str) -> String {
    let needs_quotes = value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '=' || c.is_control());
    if needs_quotes {
        serde_json::Value::String(value.to_owned()).to_string()
    } else {
        value.to_owned()
    }
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names() {
        assert_eq!(level_name(Level::INFO), "INFO");
        assert_eq!(level_name(Level(2)), "INFO+2");
        assert_eq!(level_name(Level(-6)), "DEBUG-2");
        assert_eq!(level_name(Level::ERROR), "ERROR");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("abc"), "abc");
        assert_eq!(
            quote("secret key 'a' created"),
            "\"secret key 'a' created\""
        );
    }

    #[tokio::test]
    async fn streams_receive_events() {
        let logs = Logs::new(Level::INFO, Level::INFO);
        let mut errors = logs.subscribe_error();
        let mut audit = logs.subscribe_audit();
        let req = RequestInfo {
            method: Method::POST,
            path: "/v1/key/create/k".to_owned(),
            ip: Some("127.0.0.1".parse().unwrap()),
            identity: None,
        };
        logs.error(Level::ERROR, "failed to read key", Some(&req));
        logs.error(Level::DEBUG, "below the level", None);
        logs.audit(AuditEvent {
            request: &req,
            status: StatusCode::OK,
            latency: Duration::from_millis(2),
        });
        let line = errors.recv().await.unwrap();
        assert!(line.contains("failed to read key"), "{line}");
        assert!(errors.try_recv().is_err());
        let event: serde_json::Value = serde_json::from_str(&audit.recv().await.unwrap()).unwrap();
        assert_eq!(event["request"]["path"], "/v1/key/create/k");
        assert_eq!(event["response"]["code"], 200);
        assert_eq!(event["response"]["time"], 2_000_000);
    }

    fn request() -> RequestInfo {
        RequestInfo {
            method: Method::POST,
            path: "/v1/key/generate/k".to_owned(),
            ip: Some("127.0.0.1".parse().unwrap()),
            identity: None,
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_and_never_blocks() {
        let logs = Logs::new(Level::INFO, Level::INFO);
        let mut idle = logs.subscribe_audit();
        let mut reader = logs.subscribe_audit();
        let req = request();
        // Far more events than the channel holds, with one subscriber that never reads.
        for _ in 0..STREAM_CAPACITY * 3 {
            logs.audit(AuditEvent {
                request: &req,
                status: StatusCode::OK,
                latency: Duration::ZERO,
            });
        }
        assert!(matches!(
            idle.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
        // Every subscriber gets its own copy of what is still buffered.
        assert!(matches!(
            reader.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
        assert!(reader.recv().await.is_ok());
        assert!(idle.recv().await.is_ok());
    }

    #[test]
    fn the_audit_file_gets_every_request_as_a_json_line() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let logs = Logs::new(Level::INFO, Level::INFO)
            .with_audit_file(&path)
            .unwrap();
        let req = request();
        for status in [StatusCode::OK, StatusCode::FORBIDDEN] {
            logs.audit(AuditEvent {
                request: &req,
                status,
                latency: Duration::from_micros(5),
            });
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let codes: Vec<u64> = text
            .lines()
            .map(|line| {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(event["request"]["path"], "/v1/key/generate/k");
                assert_eq!(event["request"]["ip"], "127.0.0.1");
                assert_eq!(event["response"]["time"], 5_000);
                event["response"]["code"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(codes, [200, 403]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // Reopening appends.
        let logs = Logs::new(Level::INFO, Level::INFO)
            .with_audit_file(&path)
            .unwrap();
        logs.audit(AuditEvent {
            request: &req,
            status: StatusCode::OK,
            latency: Duration::ZERO,
        });
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }
}
