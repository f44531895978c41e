//! Server information routes: `/version`, `/v1/ready`, `/v1/status`, `/v1/metrics`, `/v1/api`.

use std::time::{Duration, Instant};

use axum::response::Response;
use http::{HeaderValue, header};
use serde::Serialize;

use super::Request;
use super::body::json;
use crate::error::ApiError;
use crate::{buildinfo as build, sysinfo};

pub async fn version(_req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Version {
        version: &'static str,
        commit: &'static str,
    }
    Ok(json(&Version {
        version: build::VERSION,
        commit: build::COMMIT,
    }))
}

/// Why the keystore is not asked while the health check has marked it offline.
const MARKED_OFFLINE: &str = "keystore marked offline by the health check";

pub async fn ready(req: Request) -> Result<Response, ApiError> {
    if req.server.cache().is_offline() {
        return Err(ApiError::KeystoreUnreachable(MARKED_OFFLINE.to_owned()));
    }
    match req.server.keystore().status().await {
        Ok(_) => Ok(super::body::empty()),
        Err(keystores::Error::Unreachable(msg)) => Err(ApiError::KeystoreUnreachable(msg)),
        Err(err) => Err(ApiError::KeystoreUnavailable(err.to_string())),
    }
}

pub async fn status(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Status {
        version: &'static str,
        os: &'static str,
        arch: &'static str,
        uptime: u64,
        num_cpu: usize,
        num_cpu_used: usize,
        mem_heap_used: u64,
        mem_stack_used: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        keystore_latency: Option<u128>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        keystore_unreachable: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        keystore_unavailable: bool,
    }
    let latency = if req.server.cache().is_offline() {
        None
    } else {
        let start = Instant::now();
        match req.server.keystore().status().await {
            Ok(_) => Some(start.elapsed().max(Duration::from_millis(1)).as_millis()),
            Err(err) => {
                req.server.logs().error(
                    crate::logs::Level::WARN,
                    &format!("keystore status: {err}"),
                    None,
                );
                None
            }
        }
    };
    let (os, arch) = sysinfo::os_arch();
    let down = latency.is_none();
    Ok(json(&Status {
        version: build::VERSION,
        os,
        arch,
        uptime: req.server.uptime().as_secs_f64().round() as u64,
        num_cpu: sysinfo::num_cpu(),
        num_cpu_used: sysinfo::num_cpu_used(),
        mem_heap_used: sysinfo::heap_used(),
        mem_stack_used: sysinfo::stack_used(),
        keystore_latency: latency,
        keystore_unreachable: down,
        keystore_unavailable: down,
    }))
}

pub async fn metrics(req: Request) -> Result<Response, ApiError> {
    let mut response = Response::new(req.server.metrics().render().into());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

pub async fn api(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Api {
        method: &'static str,
        path: &'static str,
        max_body: u64,
        timeout: u64,
    }
    let apis: Vec<Api> = req
        .server
        .routes()
        .iter()
        .map(|r| Api {
            method: r.spec.methods.declared(),
            path: r.spec.path,
            max_body: r.spec.max_body,
            timeout: r.timeout.as_secs(),
        })
        .collect();
    Ok(json(&apis))
}
