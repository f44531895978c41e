//! The listen address: `ip:port`, `[ipv6]:port`, or `:port` for all interfaces (`0.0.0.0`).
//! Host names are not accepted, as in the reference.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Why an address is not `ip:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// The host part is not an IP literal; the message is the reference's.
    NotAnIp { host: String },
    /// There is no `:port`.
    MissingPort { address: String },
    /// The port is not a number from 0 to 65535.
    InvalidPort { address: String },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::NotAnIp { host } => write!(f, "'{host}' is not a valid IP address"),
            AddressError::MissingPort { address } => {
                write!(f, "invalid address '{address}': missing port")
            }
            AddressError::InvalidPort { address } => {
                write!(f, "invalid address '{address}': invalid port")
            }
        }
    }
}

impl std::error::Error for AddressError {}

/// Parses a listen address like the reference does for `address` and `--addr`: the host must be
/// an IP literal (IPv6 in brackets) or empty, which means `0.0.0.0`.
pub fn parse_address(text: &str) -> Result<SocketAddr, AddressError> {
    let missing_port = || AddressError::MissingPort {
        address: text.to_owned(),
    };
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(missing_port)?;
        (host, after.strip_prefix(':').ok_or_else(missing_port)?)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(missing_port)?;
        if host.contains(':') {
            // An IPv6 literal without brackets: the port cannot be told apart.
            return Err(missing_port());
        }
        (host, port)
    };
    let port = if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse::<u16>().ok()
    } else {
        None
    }
    .ok_or_else(|| AddressError::InvalidPort {
        address: text.to_owned(),
    })?;
    let ip = if host.is_empty() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        host.parse().map_err(|_| AddressError::NotAnIp {
            host: host.to_owned(),
        })?
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ip_literals_and_empty_hosts() {
        assert_eq!(
            parse_address("0.0.0.0:7373").unwrap().to_string(),
            "0.0.0.0:7373"
        );
        assert_eq!(
            parse_address("127.0.0.1:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(parse_address(":7000").unwrap().to_string(), "0.0.0.0:7000");
        assert_eq!(
            parse_address("[::1]:7373").unwrap().to_string(),
            "[::1]:7373"
        );
        assert_eq!(parse_address("[::]:7373").unwrap().to_string(), "[::]:7373");
        assert_eq!(
            parse_address("[127.0.0.1]:1").unwrap().to_string(),
            "127.0.0.1:1"
        );
    }

    #[test]
    fn rejects_host_names_and_bad_ports() {
        let err = |text| parse_address(text).unwrap_err().to_string();
        assert_eq!(
            err("localhost:7373"),
            "'localhost' is not a valid IP address"
        );
        assert_eq!(
            err("[fe80::1%eth0]:7373"),
            "'fe80::1%eth0' is not a valid IP address"
        );
        assert_eq!(
            err("127.0.0.01:7373"),
            "'127.0.0.01' is not a valid IP address"
        );
        assert_eq!(err("0.0.0.0"), "invalid address '0.0.0.0': missing port");
        assert_eq!(err("::1:7373"), "invalid address '::1:7373': missing port");
        assert_eq!(err("[::1]"), "invalid address '[::1]': missing port");
        assert_eq!(err("0.0.0.0:"), "invalid address '0.0.0.0:': invalid port");
        assert_eq!(
            err("0.0.0.0:65536"),
            "invalid address '0.0.0.0:65536': invalid port"
        );
        assert_eq!(
            err("0.0.0.0:+80"),
            "invalid address '0.0.0.0:+80': invalid port"
        );
        assert_eq!(
            err("0.0.0.0:https"),
            "invalid address '0.0.0.0:https': invalid port"
        );
    }
}
