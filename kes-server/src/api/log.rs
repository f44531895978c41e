//! The log stream routes: `/v1/log/error` and `/v1/log/audit` answer with an endless
//! `application/x-ndjson` stream, one JSON object per event, sent as soon as it happens.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, header};
use tokio::sync::broadcast::error::RecvError;

use super::Request;
use crate::error::ApiError;
use crate::logs::Subscription;
use crate::metrics::Metrics;
use crate::state::Server;

pub async fn error(req: Request) -> Result<Response, ApiError> {
    let events = req.server.logs().subscribe_error();
    Ok(stream(req.server, events, Metrics::error_event))
}

pub async fn audit(req: Request) -> Result<Response, ApiError> {
    let events = req.server.logs().subscribe_audit();
    Ok(stream(req.server, events, Metrics::audit_event))
}

fn stream(server: Arc<Server>, events: Subscription, count: fn(&Metrics)) -> Response {
    let lines = futures_util::stream::unfold(events, move |mut events| {
        let server = Arc::clone(&server);
        async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        count(server.metrics());
                        let mut line = Vec::with_capacity(event.len() + 1);
                        line.extend_from_slice(event.as_bytes());
                        line.push(b'\n');
                        return Some((Ok::<_, Infallible>(Bytes::from(line)), events));
                    }
                    // A slow subscriber skips what it missed instead of slowing the server.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(lines));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}
