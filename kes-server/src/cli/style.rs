//! Terminal output of the client commands as the upstream Go CLI writes it: colour profile
//! detection (lipgloss/termenv), SGR styling, and Go's formats for times, durations, sizes and
//! JSON.

use std::io::IsTerminal;
use std::time::Duration;

use time::OffsetDateTime;

/// `--color <when>`: colour only on a terminal (`auto`), never, or always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colours if stdout or stderr is a terminal.
    #[default]
    Auto,
    /// No colours, not even in error messages.
    Never,
    /// Colours, also on a pipe.
    Always,
}

/// How many colours the output supports (termenv's profiles, without 16-colour ANSI, which
/// this CLI renders as 256 colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Ascii,
    Ansi256,
    TrueColor,
}

/// The output's capabilities: whether it is a terminal and its colour profile.
#[derive(Debug, Clone, Copy)]
pub struct Term {
    /// stdout or stderr is a terminal (upstream `cli.IsTerminal`).
    pub is_terminal: bool,
    profile: Profile,
    /// `--color` asked for colours (upstream `colorOption.Colorize`).
    pub colorize: bool,
}

impl Term {
    /// Detects the terminal and applies `--color` as upstream does: `always` upgrades a
    /// colourless profile to 256 colours, `never` removes every colour.
    pub fn detect(when: ColorWhen) -> Term {
        let is_terminal = std::io::stdout().is_terminal() || std::io::stderr().is_terminal();
        let mut profile = detect_profile(std::io::stdout().is_terminal());
        match when {
            ColorWhen::Always if profile == Profile::Ascii => profile = Profile::Ansi256,
            ColorWhen::Never => profile = Profile::Ascii,
            ColorWhen::Always | ColorWhen::Auto => {}
        }
        let colorize = match when {
            ColorWhen::Always => true,
            ColorWhen::Auto => is_terminal,
            ColorWhen::Never => false,
        };
        Term {
            is_terminal,
            profile,
            colorize,
        }
    }

    /// `s` rendered with `style` (plain without a colour profile), in lipgloss's order: bold,
    /// underline, faint, colour, and underline once more.
    pub fn render(&self, style: Style, s: &str) -> String {
        let fg = style.fg.and_then(|(r, g, b)| match self.profile {
            Profile::Ascii => None,
            Profile::Ansi256 => Some(format!("38;5;{}", ansi256(r, g, b))),
            Profile::TrueColor => Some(format!("38;2;{r};{g};{b}")),
        });
        let mut codes = Vec::new();
        if style.bold {
            codes.push("1".to_owned());
        }
        if style.underline {
            codes.push("4".to_owned());
        }
        if style.faint {
            codes.push("2".to_owned());
        }
        codes.extend(fg.clone());
        if self.profile == Profile::Ascii || codes.is_empty() {
            return s.to_owned();
        }
        if !style.underline {
            return format!("\x1b[{}m{s}\x1b[0m", codes.join(";"));
        }
        // lipgloss underlines rune by rune; spaces get only the colour and, with
        // `underline_spaces`, the underline.
        codes.push("4".to_owned());
        let sgr = codes.join(";");
        let mut space_codes: Vec<String> = fg.into_iter().collect();
        if style.underline_spaces {
            space_codes.push("4".to_owned());
        }
        let space_sgr = space_codes.join(";");
        let mut out = String::new();
        for c in s.chars() {
            if !c.is_whitespace() {
                out.push_str(&format!("\x1b[{sgr}m{c}\x1b[0m"));
            } else if space_sgr.is_empty() {
                out.push(c);
            } else {
                out.push_str(&format!("\x1b[{space_sgr}m{c}\x1b[0m"));
            }
        }
        out
    }

    /// The `Error: ` prefix of failures, dark red on a colour terminal.
    pub fn error_prefix(&self) -> String {
        self.render(Style::new().fg(0xac, 0x00, 0x00), "Error: ")
    }
}

/// termenv's profile of stdout: no colours unless stdout is a terminal and `TERM` or
/// `COLORTERM` announce them; `NO_COLOR` turns them off.
fn detect_profile(stdout_is_terminal: bool) -> Profile {
    if !stdout_is_terminal || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return Profile::Ascii;
    }
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    if colorterm == "truecolor" || colorterm == "24bit" {
        return Profile::TrueColor;
    }
    let term = std::env::var("TERM").unwrap_or_default();
    if term.contains("256color") || term.contains("color") || term.contains("ansi") {
        return Profile::Ansi256;
    }
    Profile::Ascii
}

/// The xterm 256-colour cube index nearest to an RGB colour (termenv's channel mapping; the
/// grey ramp is not considered, none of the colours used here is grey).
fn ansi256(r: u8, g: u8, b: u8) -> u8 {
    fn level(v: u8) -> u8 {
        match v {
            0..48 => 0,
            48..115 => 1,
            _ => (v - 35) / 40,
        }
    }
    16 + 36 * level(r) + 6 * level(g) + level(b)
}

/// A text style: bold, faint, underline and a foreground colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    bold: bool,
    faint: bool,
    underline: bool,
    underline_spaces: bool,
    fg: Option<(u8, u8, u8)>,
}

impl Style {
    /// No styling.
    pub const fn new() -> Style {
        Style {
            bold: false,
            faint: false,
            underline: false,
            underline_spaces: true,
            fg: None,
        }
    }

    /// Bold text.
    pub const fn bold(mut self) -> Style {
        self.bold = true;
        self
    }

    /// Faint text.
    pub const fn faint(mut self) -> Style {
        self.faint = true;
        self
    }

    /// Underlined text, optionally leaving spaces plain.
    pub const fn underline(mut self, spaces: bool) -> Style {
        self.underline = true;
        self.underline_spaces = spaces;
        self
    }

    /// A foreground colour.
    pub const fn fg(mut self, r: u8, g: u8, b: u8) -> Style {
        self.fg = Some((r, g, b));
        self
    }
}

/// `YYYY-MM-DD hh:mm:ss` of `t` (Go's `Date()` and `Clock()`); `None` is Go's zero time.
pub fn date_time(t: Option<OffsetDateTime>) -> String {
    match t {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => "0001-01-01 00:00:00".to_owned(),
    }
}

/// Go's RFC 3339 encoding of a `time.Time` in JSON (nanoseconds without trailing zeros);
/// `None` is Go's zero time.
pub fn rfc3339_nano(t: Option<OffsetDateTime>) -> String {
    let Some(t) = t else {
        return "0001-01-01T00:00:00Z".to_owned();
    };
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let offset = t.offset();
    if offset.is_utc() {
        out.push('Z');
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", h.abs(), m.abs()));
    }
    out
}

/// Go's `time.Duration.String`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_owned();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", fraction(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", fraction(ns, 1_000_000));
    }
    let secs = ns / 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let sec = fraction(s * 1_000_000_000 + ns % 1_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, _) => format!("{m}m{sec}s"),
        _ => format!("{h}h{m}m{sec}s"),
    }
}

/// `v / unit` with its fraction, trailing zeros removed.
fn fraction(v: u128, unit: u128) -> String {
    let whole = v / unit;
    let rest = v % unit;
    if rest == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let frac = format!("{rest:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// `aead.dev/mem.FormatSize(size, 'D', 1)`: decimal units with one digit after the point.
/// Like upstream, a fraction that rounds up to 1 shows as `.0` without carrying.
pub fn format_size(size: u64) -> String {
    if size == 0 {
        return "0B".to_owned();
    }
    const UNITS: [(u64, &str); 6] = [
        (1_000_000_000_000_000, "PB"),
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
        (1, "B"),
    ];
    let (base, unit) = UNITS
        .iter()
        .copied()
        .find(|(base, _)| size >= *base)
        .unwrap_or((1, "B"));
    let (m, r) = (size / base, size % base);
    if r == 0 {
        return format!("{m}.0{unit}");
    }
    #[allow(clippy::cast_precision_loss)]
    let frac = format!("{:.1}", r as f64 / base as f64);
    format!("{m}{}{unit}", frac.get(1..).unwrap_or_default())
}

/// JSON as Go's `encoding/json` writes it: `<`, `>` and `&` escaped; indented with two spaces
/// when `indent` is set. A trailing newline is added, as `json.Encoder` does.
pub fn go_json<T: serde::Serialize>(value: &T, indent: bool) -> Result<String, String> {
    let s = if indent {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|err| err.to_string())?;
    let s = s
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    Ok(s + "\n")
}

/// `--json` and `--color`, the flags of the commands that print tables.
#[derive(Debug, clap::Args)]
pub struct Output {
    /// Print in JSON format.
    #[arg(long)]
    pub json: bool,
    /// When to use colored output.
    #[arg(
        long,
        value_name = "WHEN",
        value_enum,
        ignore_case = true,
        default_value_t
    )]
    pub color: ColorWhen,
}

/// The output of the `ls` subcommands: JSON (`null` when empty, as Go's nil slice) or a table
/// whose header is underlined when colours are on. Upstream printed the table after the JSON
/// too (a missing `return`); this CLI prints only the JSON.
pub fn name_list(
    term: &Term,
    output: &Output,
    header: &str,
    names: &[String],
) -> Result<String, String> {
    if output.json {
        if names.is_empty() {
            return Ok("null\n".to_owned());
        }
        return go_json(&names, false);
    }
    if names.is_empty() {
        return Ok(String::new());
    }
    let style = if term.colorize {
        Style::new().underline(true)
    } else {
        Style::new()
    };
    let mut out = term.render(style, header);
    out.push('\n');
    for name in names {
        out.push_str(name);
        out.push('\n');
    }
    Ok(out)
}

/// An I/O error in Go's `*PathError` wording: `open <path>: no such file or directory`.
pub fn go_path_error(op: &str, path: &std::path::Path, err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    let text: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{op} {}: {text}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_millis(4)), "4ms");
        assert_eq!(go_duration(Duration::from_secs(15)), "15s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn sizes_like_mem_format_size() {
        assert_eq!(format_size(5_087_232), "5.1MB");
        assert_eq!(format_size(135_168), "135.2KB");
        assert_eq!(format_size(2_000), "2.0KB");
        assert_eq!(format_size(999), "999.0B");
        assert_eq!(format_size(1_960), "1.0KB");
    }

    #[test]
    fn colours_map_to_the_256_cube() {
        assert_eq!(ansi256(0x2e, 0x42, 0xd1), 26);
        assert_eq!(ansi256(0xd1, 0xbd, 0x2e), 178);
        assert_eq!(ansi256(0x00, 0xf7, 0x00), 46);
        assert_eq!(ansi256(0x00, 0xaf, 0xaf), 37);
        assert_eq!(ansi256(0xac, 0x00, 0x00), 124);
    }

    #[test]
    fn rfc3339_trims_nanos() {
        let t = time::macros::datetime!(2026-11-23 15:50:04.381250600 UTC);
        assert_eq!(rfc3339_nano(Some(t)), "2026-11-23T15:50:04.3812506Z");
        assert_eq!(rfc3339_nano(None), "0001-01-01T00:00:00Z");
    }
}
