//! Identity routes: describe and list the identities of the configuration, and self-describe.

use axum::response::Response;
use policies::Identity;
use serde::Serialize;

use super::Request;
use super::body::json;
use super::policy::{list_prefix, pattern_map};
use crate::error::ApiError;
use crate::timefmt::rfc3339;

pub async fn describe(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Describe<'a> {
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        admin: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        policy: Option<&'a str>,
        created_at: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        created_by: Option<&'a str>,
    }
    if !policies::is_valid_name(&req.resource) {
        return Err(ApiError::InvalidIdentity(req.resource.clone()));
    }
    let policies = req.server.policies();
    let identity = Identity::from(req.resource.clone());
    let created_at = rfc3339(req.server.started_at());
    if policies.is_admin(&identity) {
        return Ok(json(&Describe {
            admin: true,
            policy: None,
            created_at,
            created_by: None,
        }));
    }
    let (policy, _) = policies
        .policy_of(&identity)
        .ok_or(ApiError::IdentityNotFound)?;
    Ok(json(&Describe {
        admin: false,
        policy: Some(policy),
        created_at,
        created_by: Some(policies.admin().as_str()),
    }))
}

pub async fn list(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct List<'a> {
        identities: Vec<&'a str>,
        continue_at: &'static str,
    }
    let prefix = list_prefix(&req.resource)?;
    Ok(json(&List {
        identities: req
            .server
            .policies()
            .identities(prefix)
            .into_iter()
            .map(Identity::as_str)
            .collect(),
        continue_at: "",
    }))
}

/// Describes the caller in the flat form every client generation reads (spec §3.6).
pub async fn self_describe(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct SelfDescribe<'a> {
        identity: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        admin: bool,
        created_at: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        created_by: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        policy: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        allow:
            Option<std::collections::BTreeMap<&'a str, serde_json::Map<String, serde_json::Value>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        deny:
            Option<std::collections::BTreeMap<&'a str, serde_json::Map<String, serde_json::Value>>>,
    }
    let policies = req.server.policies();
    let created_at = rfc3339(req.server.started_at());
    if !req.identity.is_unknown() && policies.is_admin(&req.identity) {
        return Ok(json(&SelfDescribe {
            identity: req.identity.as_str(),
            admin: true,
            created_at,
            created_by: None,
            policy: None,
            allow: None,
            deny: None,
        }));
    }
    let (name, policy) = policies
        .policy_of(&req.identity)
        .ok_or(ApiError::IdentityNotFound)?;
    Ok(json(&SelfDescribe {
        identity: req.identity.as_str(),
        admin: false,
        created_at,
        created_by: Some(policies.admin().as_str()),
        policy: Some(name),
        allow: Some(pattern_map(policy.allow())),
        deny: Some(pattern_map(policy.deny())),
    }))
}
