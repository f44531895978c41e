//! Go `time.ParseDuration` syntax: an optional sign, then one or more decimal numbers each with
//! a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`), e.g. `300ms`, `1.5h`, `1h30m`, `-1s`. A bare
//! `0` is zero. The value must fit in Go's signed 64-bit nanoseconds.

/// Nanoseconds in each unit.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The largest magnitude: `i64::MIN` nanoseconds.
const LIMIT: u128 = 1 << 63;

/// A parsed duration: its sign and its magnitude in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GoDuration {
    pub negative: bool,
    pub nanos: u64,
}

impl GoDuration {
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.nanos)
    }
}

/// Parses `text`, or `None` if it is not a Go duration.
pub(crate) fn parse(text: &str) -> Option<GoDuration> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(GoDuration { negative, nanos: 0 });
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = digits(rest);
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(digits(after)),
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| u128::from(*scale))?;
        total = total.checked_add(number(int_part)?.checked_mul(scale)?)?;
        total = total.checked_add(fraction(frac_part, scale))?;
        if total > LIMIT {
            return None;
        }
        rest = after;
    }
    if !negative && total == LIMIT {
        return None;
    }
    Some(GoDuration {
        negative,
        nanos: u64::try_from(total).ok()?,
    })
}

/// Length of the leading ASCII digits.
fn digits(text: &str) -> usize {
    text.bytes().take_while(u8::is_ascii_digit).count()
}

/// An integer part; `None` if it cannot be a duration anyway.
fn number(digits: &str) -> Option<u128> {
    if digits.is_empty() {
        return Some(0);
    }
    // More than 20 digits overflows the 64-bit limit with any unit.
    if digits.len() > 20 {
        return None;
    }
    digits.parse().ok()
}

/// `0.<digits>` units in nanoseconds, truncated. Digits beyond nanosecond precision of an hour
/// cannot change the result, so they are ignored.
fn fraction(digits: &str, scale: u128) -> u128 {
    let digits = &digits[..digits.len().min(18)];
    let mut value: u128 = 0;
    let mut divisor: u128 = 1;
    for d in digits.bytes() {
        value = value * 10 + u128::from(d - b'0');
        divisor *= 10;
    }
    value * scale / divisor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(text: &str) -> Option<i128> {
        parse(text).map(|d| {
            if d.negative {
                -i128::from(d.nanos)
            } else {
                i128::from(d.nanos)
            }
        })
    }

    const S: i128 = 1_000_000_000;

    #[test]
    fn go_examples() {
        assert_eq!(nanos("0"), Some(0));
        assert_eq!(nanos("-0"), Some(0));
        assert_eq!(nanos("+0"), Some(0));
        assert_eq!(nanos("0s"), Some(0));
        assert_eq!(nanos("5m"), Some(300 * S));
        assert_eq!(nanos("5m0s"), Some(300 * S));
        assert_eq!(nanos("30s"), Some(30 * S));
        assert_eq!(nanos("1h30m"), Some(5400 * S));
        assert_eq!(nanos("1.5h"), Some(5400 * S));
        assert_eq!(nanos("300ms"), Some(300_000_000));
        assert_eq!(nanos("-1s"), Some(-S));
        assert_eq!(nanos("+2s"), Some(2 * S));
        assert_eq!(nanos("1h2m3s4ms5us6ns"), Some(3723 * S + 4_005_006));
        assert_eq!(nanos("1\u{b5}s"), Some(1000));
        assert_eq!(nanos("1\u{3bc}s"), Some(1000));
        assert_eq!(nanos(".5s"), Some(S / 2));
        assert_eq!(nanos("1.s"), Some(S));
        assert_eq!(nanos("1.0000000001s"), Some(S));
        assert_eq!(nanos("0.333333333333333333333h"), Some(1_199_999_999_999));
        assert_eq!(nanos("9223372036854775807ns"), Some(i128::from(i64::MAX)));
        assert_eq!(nanos("-9223372036854775808ns"), Some(i128::from(i64::MIN)));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "-",
            "+",
            "1",
            "10",
            "s",
            ".s",
            "-.s",
            "1x",
            "1 s",
            " 1s",
            "1s ",
            "1S",
            "1e3s",
            "1.5",
            "00",
            "9223372036854775808ns",
            "2562048h",
            "100000000000000000000000s",
        ] {
            assert_eq!(nanos(bad), None, "{bad:?}");
        }
    }
}
