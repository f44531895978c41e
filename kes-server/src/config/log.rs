//! `log.error` and `log.audit`: the level below which events are not written.

use std::path::PathBuf;

use super::error::ConfigError;
use super::fields::{Map, Walker};

/// A log level on the Go `slog` scale: DEBUG -4, INFO 0, WARN 4, ERROR 8. Used as a threshold:
/// events below it are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(pub i32);

impl Level {
    pub const DEBUG: Level = Level(-4);
    pub const INFO: Level = Level(0);
    pub const WARN: Level = Level(4);
    pub const ERROR: Level = Level(8);
    /// `OFF` = ERROR+1: no event the server emits reaches it.
    pub const OFF: Level = Level(9);

    /// Whether an event at `event` passes this threshold.
    pub fn is_enabled(self, event: Level) -> bool {
        event >= self
    }

    /// Whether no event the server emits (DEBUG to ERROR) passes this threshold.
    pub fn is_off(self) -> bool {
        self > Level::ERROR
    }

    /// Parses a level like the reference: case-insensitive, surrounding space ignored.
    /// `""` and `ON` are INFO, `OFF` is ERROR+1, a name may carry an offset (`INFO+2`, `WARN-1`),
    /// and a bare integer is a raw level.
    fn parse(text: &str) -> Option<Level> {
        let text = text.trim().to_ascii_uppercase();
        match text.as_str() {
            "" | "ON" => return Some(Level::INFO),
            "OFF" => return Some(Level::OFF),
            _ => {}
        }
        if let Ok(n) = text.parse::<i32>() {
            return Some(Level(n));
        }
        let (name, offset) = match text.find(['+', '-']) {
            Some(i) => (text[..i].trim_end(), text[i..].parse::<i32>().ok()?),
            None => (text.as_str(), 0),
        };
        let base = match name {
            "DEBUG" => Level::DEBUG,
            "INFO" => Level::INFO,
            "WARN" => Level::WARN,
            "ERROR" => Level::ERROR,
            _ => return None,
        };
        base.0.checked_add(offset).map(Level)
    }
}

/// The log levels and the optional audit file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Minimum level of error-log events written to stderr. Default INFO.
    pub error: Level,
    /// Minimum level of audit events written to stdout. Default INFO, so audit is on (§7.2).
    pub audit: Level,
    /// `log.audit_file` (our extension): a file that receives every request as one JSON line,
    /// the event of the `/v1/log/audit` stream. Written only while `audit` is enabled.
    pub audit_file: Option<PathBuf>,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            error: Level::INFO,
            audit: Level::INFO,
            audit_file: None,
        }
    }
}

impl LogConfig {
    pub(super) fn read(walker: &mut Walker<'_>, root: &Map<'_>) -> Result<LogConfig, ConfigError> {
        let Some(log) = root.map(walker, "log", &["error", "audit", "audit_file"], &[])? else {
            return Ok(LogConfig::default());
        };
        let level = |key| -> Result<Level, ConfigError> {
            match log.value(walker, key)? {
                None => Ok(Level::INFO),
                Some(value) => Level::parse(&value.text).ok_or_else(|| {
                    value.invalid(
                        "not a log level (DEBUG, INFO, WARN, ERROR, ON, OFF, INFO+2, an integer)",
                    )
                }),
            }
        };
        let error = level("error")?;
        let audit = level("audit")?;
        let audit_file = log
            .value(walker, "audit_file")?
            .map(|value| value.into_path());
        Ok(LogConfig {
            error,
            audit,
            audit_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pseudo_levels_and_offsets() {
        let cases = [
            ("", 0),
            ("  ", 0),
            ("on", 0),
            ("ON", 0),
            ("off", 9),
            ("Off", 9),
            ("debug", -4),
            ("INFO", 0),
            ("warn", 4),
            ("ERROR", 8),
            ("INFO+2", 2),
            ("info-2", -2),
            ("DEBUG-2", -6),
            ("ERROR+1", 9),
            ("WARN +1", 5),
            (" error ", 8),
            ("-4", -4),
            ("+4", 4),
            ("12", 12),
        ];
        for (text, want) in cases {
            assert_eq!(Level::parse(text), Some(Level(want)), "{text:?}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for text in [
            "WARNING",
            "INFORMATION",
            "INFO+",
            "INFO+x",
            "INFO+-2",
            "INFO+ 2",
            "ON+1",
            "OFF-1",
            "true",
            "1.5",
            "ERROR+2147483647",
            "99999999999",
        ] {
            assert_eq!(Level::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn thresholds() {
        assert!(Level::INFO.is_enabled(Level::ERROR));
        assert!(Level::INFO.is_enabled(Level::INFO));
        assert!(!Level::INFO.is_enabled(Level::DEBUG));
        assert!(!Level::OFF.is_enabled(Level::ERROR));
        assert!(Level::OFF.is_off());
        assert!(!Level::ERROR.is_off());
        assert!(Level(-100).is_enabled(Level::DEBUG));
    }
}
