//! `keystore.aws.secretsmanager`: AWS Secrets Manager.

use super::super::error::ConfigError;
use super::super::fields::{Map, Walker};
use super::super::secret::Secret;
use super::{required, required_secret};

pub(super) const FIELDS: &[&str] = &["endpoint", "region", "kmskey", "credentials"];

const ERR: &str = "kesconf: invalid AWS secretsmanager keystore:";

/// A Secrets Manager keystore.
#[derive(Clone, Debug)]
pub struct AwsConfig {
    pub endpoint: String,
    pub region: String,
    /// KMS key that encrypts new secrets; unset: the account's default key.
    pub kms_key: Option<String>,
    /// Static credentials; `None` (all three keys empty) uses the SDK's default chain.
    pub credentials: Option<AwsCredentials>,
}

/// `credentials.{accesskey,secretkey,token}`.
#[derive(Clone, Debug)]
pub struct AwsCredentials {
    pub access_key: String,
    pub secret_key: Secret,
    pub session_token: Option<Secret>,
}

pub(super) fn read(walker: &mut Walker<'_>, sm: &Map<'_>) -> Result<AwsConfig, ConfigError> {
    let endpoint = required(
        sm.value(walker, "endpoint")?,
        &format!("{ERR} no endpoint specified"),
    )?;
    let region = required(
        sm.value(walker, "region")?,
        &format!("{ERR} no region specified"),
    )?;
    let credentials = match sm.map(
        walker,
        "credentials",
        &["accesskey", "secretkey", "token"],
        &[],
    )? {
        None => None,
        Some(c) => {
            let access_key = c.value(walker, "accesskey")?;
            let secret_key = c.value(walker, "secretkey")?;
            let token = c.value(walker, "token")?;
            if access_key.is_none() && secret_key.is_none() && token.is_none() {
                None
            } else {
                Some(AwsCredentials {
                    access_key: required(access_key, &format!("{ERR} no access key specified"))?,
                    secret_key: required_secret(
                        secret_key,
                        &format!("{ERR} no secret key specified"),
                    )?,
                    session_token: token.map(|v| v.into_secret()),
                })
            }
        }
    };
    Ok(AwsConfig {
        endpoint,
        region,
        kms_key: sm.value(walker, "kmskey")?.map(|v| v.into_string()),
        credentials,
    })
}
