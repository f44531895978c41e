//! Server information, policy and identity routes (spec `kes-api.md` §3.2, §3.5, §3.6).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;

use super::keys::ListOf;
use super::types::{Api, IdentityInfo, Metrics, Policy, PolicyInfo, SelfIdentity, Status, Version};
use super::{Client, Error, MAX_BODY, api_path, decode, metrics, wire};

/// Read limit of `/version` (1 KiB).
const MAX_VERSION_BODY: usize = 1024;

impl Client {
    /// `GET /version`; needs no policy.
    pub async fn version(&self) -> Result<Version, Error> {
        let v: wire::VersionBody = self
            .call_json(Method::GET, "/version", None, MAX_VERSION_BODY)
            .await?;
        Ok(Version {
            version: v.version,
            commit: v.commit,
        })
    }

    /// `GET /v1/ready`: `Ok(())` when the server and its keystore are ready.
    pub async fn ready(&self) -> Result<(), Error> {
        self.call(Method::GET, "/v1/ready", None, 0).await.map(drop)
    }

    /// `GET /v1/status`. A body with `keystore_unreachable` but without `keystore_unavailable`
    /// is rejected, as kms-go does.
    pub async fn status(&self) -> Result<Status, Error> {
        let s: wire::StatusBody = self
            .call_json(Method::GET, "/v1/status", None, MAX_BODY)
            .await?;
        if s.keystore_unreachable && !s.keystore_unavailable {
            return Err(Error::InvalidResponse(
                "keystore_unreachable without keystore_unavailable".to_owned(),
            ));
        }
        Ok(Status {
            version: s.version,
            os: s.os,
            arch: s.arch,
            uptime: Duration::try_from_secs_f64(s.uptime).unwrap_or_default(),
            cpus: s.num_cpu,
            usable_cpus: s.num_cpu_used,
            heap_alloc: s.mem_heap_used,
            stack_alloc: s.mem_stack_used,
            keystore_latency: Duration::from_nanos(s.keystore_latency),
            keystore_unreachable: s.keystore_unreachable,
        })
    }

    /// `GET /v1/api`: the server's routes.
    pub async fn apis(&self) -> Result<Vec<Api>, Error> {
        let apis: Vec<wire::ApiBody> = self
            .call_json(Method::GET, "/v1/api", None, MAX_BODY)
            .await?;
        Ok(apis
            .into_iter()
            .map(|a| Api {
                method: a.method,
                path: a.path,
                max_body: a.max_body,
                timeout: Duration::from_secs(a.timeout.max(0).unsigned_abs()),
            })
            .collect())
    }

    /// `GET /v1/metrics`, decoded from the Prometheus text format.
    pub async fn metrics(&self) -> Result<Metrics, Error> {
        let (content_type, body) = self
            .call(Method::GET, "/v1/metrics", None, MAX_BODY)
            .await?;
        let content_type = content_type.unwrap_or_default();
        if !content_type.starts_with("text/plain") {
            return Err(Error::InvalidResponse(format!(
                "unsupported metrics content type '{content_type}'"
            )));
        }
        let text = String::from_utf8(body).map_err(|e| Error::InvalidResponse(e.to_string()))?;
        metrics::parse(&text)
    }

    /// Describes the policy `name`.
    pub async fn describe_policy(&self, name: &str) -> Result<PolicyInfo, Error> {
        let p: wire::PolicyBody = self
            .call_json(
                Method::GET,
                &api_path("/v1/policy/describe/", name),
                None,
                MAX_BODY,
            )
            .await?;
        Ok(PolicyInfo {
            name: if p.name.is_empty() {
                name.to_owned()
            } else {
                p.name
            },
            created_at: p.created_at,
            created_by: p.created_by,
        })
    }

    /// Reads the policy `name`: its allow and deny patterns.
    pub async fn get_policy(&self, name: &str) -> Result<Policy, Error> {
        let p: wire::PolicyBody = self
            .call_json(
                Method::GET,
                &api_path("/v1/policy/read/", name),
                None,
                MAX_BODY,
            )
            .await?;
        Ok(Policy {
            allow: patterns(p.allow),
            deny: patterns(p.deny),
            created_at: p.created_at,
            created_by: p.created_by,
        })
    }

    /// Every policy name starting with `prefix` (empty or `*` = all).
    pub async fn list_policies(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.list("/v1/policy/list/", prefix, ListOf::Names).await
    }

    /// Describes `identity`. Unknown identities give
    /// [`ApiError::IDENTITY_NOT_FOUND`](super::ApiError::IDENTITY_NOT_FOUND).
    pub async fn describe_identity(&self, identity: &str) -> Result<IdentityInfo, Error> {
        let i: wire::IdentityBody = self
            .call_json(
                Method::GET,
                &api_path("/v1/identity/describe/", identity),
                None,
                MAX_BODY,
            )
            .await?;
        Ok(IdentityInfo {
            identity: identity.to_owned(),
            policy: policy_name(i.policy.as_ref()),
            admin: i.admin,
            ttl: i.ttl,
            expires_at: i.expires_at,
            created_at: i.created_at,
            created_by: i.created_by,
            children: i.children.unwrap_or_default().into_iter().collect(),
        })
    }

    /// Describes the caller's own identity and policy; needs no policy.
    pub async fn describe_self(&self) -> Result<SelfIdentity, Error> {
        let bytes = self
            .call(Method::GET, "/v1/identity/self/describe", None, MAX_BODY)
            .await?
            .1;
        let i: wire::IdentityBody = decode(&bytes)?;
        // The flat form carries allow/deny at the top level; the nested form (2023-10-24 and
        // later upstream servers) inside `policy`.
        let (allow, deny) = match &i.policy {
            Some(serde_json::Value::Object(nested)) => (
                nested.get("allow").map(object_keys).unwrap_or_default(),
                nested.get("deny").map(object_keys).unwrap_or_default(),
            ),
            _ => (patterns(i.allow), patterns(i.deny)),
        };
        Ok(SelfIdentity {
            identity: i.identity,
            admin: i.admin,
            policy_name: policy_name(i.policy.as_ref()),
            policy: Policy {
                allow,
                deny,
                created_at: i.created_at,
                created_by: i.created_by.clone(),
            },
            ttl: i.ttl,
            expires_at: i.expires_at,
            created_at: i.created_at,
            created_by: i.created_by,
        })
    }

    /// Every identity starting with `prefix` (empty or `*` = all).
    pub async fn list_identities(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.list("/v1/identity/list/", prefix, ListOf::Identities)
            .await
    }
}

fn patterns(map: Option<BTreeMap<String, serde_json::Value>>) -> BTreeSet<String> {
    map.unwrap_or_default().into_keys().collect()
}

fn object_keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The policy name of a flat (`"policy":"name"`) or nested (`"policy":{"name":…}`) answer.
fn policy_name(policy: Option<&serde_json::Value>) -> String {
    match policy {
        Some(serde_json::Value::String(name)) => name.clone(),
        Some(serde_json::Value::Object(o)) => o
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}
