//! Timestamps as KES writes them: RFC 3339 with up to nanosecond precision.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `t` as RFC 3339 text, e.g. `2024-01-12T10:39:20.886816Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
