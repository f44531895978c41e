//! MinIO's ellipses: `{N...M}` ranges inside an endpoint (`[pkg] ellipses`,
//! `minio-client.md` §1.3).

/// One `{N...M}` range of a pattern, as text values.
type Range = Vec<String>;

/// Expands every `{N...M}` of `pattern`; the leftmost range varies fastest. A pattern without
/// ellipses is returned unchanged.
pub(super) fn expand(pattern: &str) -> Result<Vec<String>, String> {
    if !has_ellipses(pattern) {
        return Ok(vec![pattern.to_owned()]);
    }
    // Literal parts and ranges alternate: lit0 {r0} lit1 {r1} … litN.
    let mut literals = Vec::new();
    let mut ranges: Vec<Range> = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        let Some((start, end)) = inner.split_once("...") else {
            return Err(format!("invalid ellipsis format in '{pattern}'"));
        };
        literals.push(rest[..open].to_owned());
        ranges.push(range(start, end)?);
        rest = &rest[close + 1..];
    }
    if ranges.is_empty() || rest.contains("...") || rest.contains('{') || rest.contains('}') {
        return Err(format!("invalid ellipsis format in '{pattern}'"));
    }
    literals.push(rest.to_owned());

    let total: usize = ranges.iter().map(Vec::len).product();
    let mut out = Vec::with_capacity(total);
    for mut index in 0..total {
        let mut s = String::new();
        for (lit, r) in literals.iter().zip(&ranges) {
            s.push_str(lit);
            s.push_str(&r[index % r.len()]);
            index /= r.len();
        }
        s.push_str(&literals[ranges.len()]);
        out.push(s);
    }
    Ok(out)
}

/// Whether `s` asks for expansion: it contains `...` or a `{`…`}` pair.
fn has_ellipses(s: &str) -> bool {
    s.contains("...") || s.find('{').is_some_and(|o| s[o..].contains('}'))
}

/// The values of `{start...end}`: decimal if both bounds are decimal, else hexadecimal;
/// zero-padded to `end`'s length when `start` has a leading zero (and more than one digit)
/// or `end` starts with zero.
fn range(start: &str, end: &str) -> Result<Range, String> {
    let invalid = || format!("invalid range '{{{start}...{end}}}'");
    if start.is_empty() || end.is_empty() {
        return Err(invalid());
    }
    let (first, last, hex) = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(a), Ok(b)) => (a, b, false),
        _ => (
            u64::from_str_radix(start, 16).map_err(|_| invalid())?,
            u64::from_str_radix(end, 16).map_err(|_| invalid())?,
            true,
        ),
    };
    if first > last {
        return Err(format!(
            "range start {start} cannot be bigger than end {end}"
        ));
    }
    let pad = (start.len() > 1 && start.starts_with('0')) || end.starts_with('0');
    let width = if pad { end.len() } else { 0 };
    Ok((first..=last)
        .map(|v| {
            if hex {
                format!("{v:0width$x}")
            } else {
                format!("{v:0width$}")
            }
        })
        .collect())
}
