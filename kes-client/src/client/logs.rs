//! The error and audit log streams (`/v1/log/error`, `/v1/log/audit`, spec §3.8).

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use reqwest::{Method, Response};

use super::transport::Request;
use super::types::{AuditEvent, ErrorEvent};
use super::{Client, Error, decode, wire};

/// Longest accepted event line (1 MiB).
const MAX_LINE: usize = 1 << 20;

/// An open log stream yielding typed events until the server closes it. Dropping it
/// disconnects.
pub struct EventStream<T> {
    resp: Response,
    buf: Vec<u8>,
    done: bool,
    _event: PhantomData<T>,
}

impl<T> fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("buffered", &self.buf.len())
            .field("done", &self.done)
            .finish()
    }
}

/// An event type decodable from one ndjson line.
pub trait Event: Sized {
    /// Decodes one line.
    fn from_line(line: &[u8]) -> Result<Self, Error>;
}

impl Event for ErrorEvent {
    fn from_line(line: &[u8]) -> Result<ErrorEvent, Error> {
        let e: wire::ErrorEventBody = decode(line)?;
        Ok(ErrorEvent { message: e.message })
    }
}

impl Event for AuditEvent {
    fn from_line(line: &[u8]) -> Result<AuditEvent, Error> {
        let e: wire::AuditBody = decode(line)?;
        Ok(AuditEvent {
            time: e.time.unwrap_or(time::PrimitiveDateTime::MIN.assume_utc()),
            ip: e.request.ip,
            path: e.request.path,
            identity: e.request.identity,
            status: e.response.code,
            latency: Duration::from_nanos(e.response.time),
        })
    }
}

impl<T: Event> EventStream<T> {
    /// The next event; `None` once the server ended the stream.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(T::from_line(&line));
            }
            if self.done {
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                let line = std::mem::take(&mut self.buf);
                return Some(T::from_line(&line));
            }
            if self.buf.len() > MAX_LINE {
                self.done = true;
                self.buf.clear();
                return Some(Err(Error::InvalidResponse("log line too long".to_owned())));
            }
            match self.resp.chunk().await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    self.buf.clear();
                    return Some(Err(Error::Connection(e.to_string())));
                }
            }
        }
    }
}

impl Client {
    /// Subscribes to the audit log. The client's timeout applies to opening the stream only.
    pub async fn audit_log(&self) -> Result<EventStream<AuditEvent>, Error> {
        self.stream("/v1/log/audit").await
    }

    /// Subscribes to the error log. The client's timeout applies to opening the stream only.
    pub async fn error_log(&self) -> Result<EventStream<ErrorEvent>, Error> {
        self.stream("/v1/log/error").await
    }

    async fn stream<T>(&self, path: &str) -> Result<EventStream<T>, Error> {
        let resp = self
            .deadline(self.send(Request {
                method: Method::GET,
                path,
                body: None,
                json: false,
            }))
            .await?;
        Ok(EventStream {
            resp,
            buf: Vec::new(),
            done: false,
            _event: PhantomData,
        })
    }
}
