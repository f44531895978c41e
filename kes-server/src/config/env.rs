//! `${VAR}` substitution (spec §7.1).
//!
//! A scalar whose trimmed text is `${…}` is replaced by the variable named by the trimmed text
//! between the braces. There is no partial interpolation and no default syntax.

use zeroize::Zeroizing;

use super::error::ConfigError;

/// The environment: variable name to value. Tests pass a closure; `Config::load` passes the
/// process environment.
pub type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// The variable that `text` refers to, if it is a `${…}` reference.
fn reference(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${")?.strip_suffix('}')?;
    Some(inner.trim())
}

/// `text` with a `${VAR}` reference replaced by the variable's value. `line` is reported when the
/// variable is not set.
pub(super) fn substitute(
    text: &str,
    line: usize,
    env: Env<'_>,
) -> Result<Zeroizing<String>, ConfigError> {
    match reference(text) {
        None => Ok(Zeroizing::new(text.to_owned())),
        Some(name) => env(name)
            .map(Zeroizing::new)
            .ok_or_else(|| ConfigError::EnvNotFound {
                name: name.to_owned(),
                line,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "ADDR" => Some("127.0.0.1:7000".into()),
            "A:-b" => Some("literal".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn sub(text: &str) -> Result<String, String> {
        substitute(text, 7, &env)
            .map(|s| s.as_str().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_value_references_are_replaced() {
        assert_eq!(sub("${ADDR}").unwrap(), "127.0.0.1:7000");
        assert_eq!(sub("  ${ ADDR }  ").unwrap(), "127.0.0.1:7000");
        assert_eq!(sub("${EMPTY}").unwrap(), "");
    }

    #[test]
    fn no_partial_interpolation_and_no_defaults() {
        assert_eq!(sub("a${ADDR}").unwrap(), "a${ADDR}");
        assert_eq!(sub("${ADDR}b").unwrap(), "${ADDR}b");
        assert_eq!(sub("$ADDR").unwrap(), "$ADDR");
        assert_eq!(sub("${A:-b}").unwrap(), "literal");
    }

    #[test]
    fn missing_variables_name_the_variable_and_line() {
        assert_eq!(
            sub("${NOPE}").unwrap_err(),
            "kesconf: referenced env. variable 'NOPE' in line '7' not found"
        );
        assert_eq!(
            sub("${}").unwrap_err(),
            "kesconf: referenced env. variable '' in line '7' not found"
        );
    }
}
