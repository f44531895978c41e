//! Policy routes: describe, read and list the static policies of the configuration.

use std::collections::BTreeMap;

use axum::response::Response;
use serde::Serialize;

use super::Request;
use super::body::json;
use crate::error::ApiError;
use crate::timefmt::rfc3339;

fn policy_name(resource: &str) -> Result<&str, ApiError> {
    if policies::is_valid_name(resource) {
        Ok(resource)
    } else {
        Err(ApiError::InvalidPolicyName(resource.to_owned()))
    }
}

/// The `allow`/`deny` JSON shape: each pattern maps to an empty object.
pub fn pattern_map(
    patterns: &[String],
) -> BTreeMap<&str, serde_json::Map<String, serde_json::Value>> {
    patterns
        .iter()
        .map(|p| (p.as_str(), serde_json::Map::new()))
        .collect()
}

pub async fn describe(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Describe<'a> {
        name: &'a str,
        created_at: String,
        created_by: &'a str,
    }
    let name = policy_name(&req.resource)?;
    let policies = req.server.policies();
    policies.policy(name).ok_or(ApiError::PolicyNotFound)?;
    Ok(json(&Describe {
        name,
        created_at: rfc3339(req.server.started_at()),
        created_by: policies.admin().as_str(),
    }))
}

pub async fn read(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Read<'a> {
        name: &'a str,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        allow: BTreeMap<&'a str, serde_json::Map<String, serde_json::Value>>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        deny: BTreeMap<&'a str, serde_json::Map<String, serde_json::Value>>,
        created_at: String,
        created_by: &'a str,
    }
    let name = policy_name(&req.resource)?;
    let policies = req.server.policies();
    let policy = policies.policy(name).ok_or(ApiError::PolicyNotFound)?;
    Ok(json(&Read {
        name,
        allow: pattern_map(policy.allow()),
        deny: pattern_map(policy.deny()),
        created_at: rfc3339(req.server.started_at()),
        created_by: policies.admin().as_str(),
    }))
}

/// The prefix a list resource stands for: `""` and `*` mean everything, one trailing `*` is
/// dropped, and anything else is a prefix as it is.
pub fn list_prefix(resource: &str) -> Result<&str, ApiError> {
    if !policies::is_valid_pattern(resource) {
        return Err(ApiError::InvalidPattern(resource.to_owned()));
    }
    Ok(resource.strip_suffix('*').unwrap_or(resource))
}

pub async fn list(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct List<'a> {
        names: Vec<&'a str>,
        continue_at: &'static str,
    }
    let prefix = list_prefix(&req.resource)?;
    Ok(json(&List {
        names: req.server.policies().policy_names(prefix),
        continue_at: "",
    }))
}
