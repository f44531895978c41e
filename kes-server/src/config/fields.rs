//! Walks the YAML tree against the schema: every key must be known (a legacy key is accepted and
//! becomes a warning), every node must have the expected kind, and scalars get `${VAR}`
//! substitution. Errors name the full key path, e.g. `keystore.vault.approle.id`.

use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use super::duration;
use super::env::{Env, substitute};
use super::error::ConfigError;
use super::secret::Secret;
use super::yaml::{Entry, Node};

const MAPPING: &str = "a mapping";
const LIST: &str = "a list";
const SCALAR: &str = "a single value";

/// The environment plus the warnings collected along the way.
pub(super) struct Walker<'e> {
    env: Env<'e>,
    pub warnings: Vec<String>,
}

impl<'e> Walker<'e> {
    pub fn new(env: Env<'e>) -> Walker<'e> {
        Walker {
            env,
            warnings: Vec::new(),
        }
    }
}

/// A mapping whose keys have been checked.
pub(super) struct Map<'n> {
    path: String,
    entries: &'n [Entry],
}

impl<'n> Map<'n> {
    /// Opens `node` as the mapping at `path` with the given keys; `null` is an empty mapping.
    /// The first unknown or repeated key, in file order, is an error. A `legacy` key is skipped
    /// with a warning, whatever its value.
    pub fn open(
        walker: &mut Walker<'_>,
        node: &'n Node,
        path: &str,
        fields: &[&str],
        legacy: &[&str],
    ) -> Result<Map<'n>, ConfigError> {
        let map = Map::open_any(node, path)?;
        for entry in map.entries {
            let path = map.child(&entry.key);
            if legacy.contains(&entry.key.as_str()) {
                walker.warnings.push(format!(
                    "kesconf: field '{path}' in line {} is no longer supported and is ignored",
                    entry.key_line
                ));
            } else if !fields.contains(&entry.key.as_str()) {
                return Err(ConfigError::UnknownField {
                    path,
                    line: entry.key_line,
                });
            }
        }
        Ok(map)
    }

    /// Opens `node` as a mapping whose keys are names chosen by the user (policies, API paths).
    pub fn open_any(node: &'n Node, path: &str) -> Result<Map<'n>, ConfigError> {
        let entries: &[Entry] = match node {
            Node::Null { .. } => &[],
            Node::Map { entries, .. } => entries,
            other => return Err(wrong_kind(path, other, MAPPING)),
        };
        let map = Map {
            path: path.to_owned(),
            entries,
        };
        for (i, entry) in entries.iter().enumerate() {
            if entries[..i].iter().any(|e| e.key == entry.key) {
                return Err(ConfigError::DuplicateField {
                    path: map.child(&entry.key),
                    line: entry.key_line,
                });
            }
        }
        Ok(map)
    }

    /// The entries in file order, each with its full path.
    pub fn entries(&self) -> impl Iterator<Item = (&'n Entry, String)> + '_ {
        self.entries.iter().map(|e| (e, self.child(&e.key)))
    }

    /// The value of `key` as a mapping with the given keys, or `None` if it is absent or `null`.
    pub fn map(
        &self,
        walker: &mut Walker<'_>,
        key: &str,
        fields: &[&str],
        legacy: &[&str],
    ) -> Result<Option<Map<'n>>, ConfigError> {
        match self.node(key) {
            None | Some(Node::Null { .. }) => Ok(None),
            Some(node) => Map::open(walker, node, &self.child(key), fields, legacy).map(Some),
        }
    }

    /// The value of `key` as a mapping whose keys are names, or `None` if absent or `null`.
    pub fn map_any(&self, key: &str) -> Result<Option<Map<'n>>, ConfigError> {
        match self.node(key) {
            None | Some(Node::Null { .. }) => Ok(None),
            Some(node) => Map::open_any(node, &self.child(key)).map(Some),
        }
    }

    /// The scalar at `key` after `${VAR}` substitution; `None` if it is absent, `null` or empty.
    pub fn value(&self, walker: &Walker<'_>, key: &str) -> Result<Option<Value>, ConfigError> {
        let value = match self.raw_value(key)? {
            Some(raw) => Value {
                text: substitute(&raw.text, raw.line, walker.env)?,
                ..raw
            },
            None => return Ok(None),
        };
        Ok((!value.text.is_empty()).then_some(value))
    }

    /// The scalar at `key` as written, without substitution; `None` if absent, `null` or empty.
    pub fn raw_value(&self, key: &str) -> Result<Option<Value>, ConfigError> {
        let path = self.child(key);
        match self.node(key) {
            None | Some(Node::Null { .. }) => Ok(None),
            Some(Node::Scalar { text, .. }) if text.is_empty() => Ok(None),
            Some(node) => scalar(node, path).map(Some),
        }
    }

    /// The list of scalars at `key`, each after `${VAR}` substitution. A `null` item is `""`.
    pub fn values(&self, walker: &Walker<'_>, key: &str) -> Result<Vec<Value>, ConfigError> {
        self.items(key)?
            .into_iter()
            .map(|(path, node)| {
                let raw = scalar(node, path)?;
                Ok(Value {
                    text: substitute(&raw.text, raw.line, walker.env)?,
                    ..raw
                })
            })
            .collect()
    }

    /// The list of scalars at `key`, as written. A `null` item is `""`.
    pub fn raw_values(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        self.items(key)?
            .into_iter()
            .map(|(path, node)| scalar(node, path).map(Value::into_string))
            .collect()
    }

    /// The list at `key`, each item with its path (`keys[0]`); empty if absent or `null`.
    pub fn items(&self, key: &str) -> Result<Vec<(String, &'n Node)>, ConfigError> {
        let path = self.child(key);
        match self.node(key) {
            None | Some(Node::Null { .. }) => Ok(Vec::new()),
            Some(Node::List { items, .. }) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, node)| (format!("{path}[{i}]"), node))
                .collect()),
            Some(other) => Err(wrong_kind(&path, other, LIST)),
        }
    }

    /// The line of `key`, if present.
    pub fn key_line(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.key_line)
    }

    fn node(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

/// A scalar with where it came from, for error messages.
#[derive(Debug)]
pub(super) struct Value {
    pub text: Zeroizing<String>,
    pub line: usize,
    pub path: String,
}

impl Value {
    pub fn into_string(self) -> String {
        String::from(self.text.as_str())
    }

    pub fn into_path(self) -> PathBuf {
        PathBuf::from(self.text.as_str())
    }

    pub fn into_secret(self) -> Secret {
        Secret::new(self.text)
    }

    /// An error saying why this value is not accepted.
    pub fn invalid(&self, reason: &'static str) -> ConfigError {
        ConfigError::InvalidValue {
            path: self.path.clone(),
            line: self.line,
            value: String::from(self.text.as_str()),
            reason,
        }
    }

    /// A Go duration (`30s`, `5m`, `1h30m`) that is not negative.
    pub fn duration(&self) -> Result<Duration, ConfigError> {
        match duration::parse(&self.text) {
            Some(d) if d.negative && d.nanos > 0 => Err(self.invalid("must not be negative")),
            Some(d) => Ok(d.to_std()),
            None => Err(self.invalid("not a duration such as 30s, 5m or 1h30m")),
        }
    }

    /// `true` or `false`; also the YAML 1.1 forms `yes`/`no`, `on`/`off`, `y`/`n` that the
    /// reference's YAML decoder accepts for booleans.
    pub fn boolean(&self) -> Result<bool, ConfigError> {
        match self.text.as_str() {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Ok(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Ok(false),
            _ => Err(self.invalid("not a boolean (true or false)")),
        }
    }
}

fn scalar(node: &Node, path: String) -> Result<Value, ConfigError> {
    match node {
        Node::Null { line } => Ok(Value {
            text: Zeroizing::new(String::new()),
            line: *line,
            path,
        }),
        Node::Scalar { text, line } => Ok(Value {
            text: text.clone(),
            line: *line,
            path,
        }),
        other => Err(wrong_kind(&path, other, SCALAR)),
    }
}

fn wrong_kind(path: &str, node: &Node, expected: &'static str) -> ConfigError {
    ConfigError::WrongKind {
        path: path.to_owned(),
        line: node.line(),
        expected,
    }
}
