//! `kes -v/--version`: the version banner in upstream's layout: a label column, a value padded
//! to 22 characters, and a detail that is faint on a colour terminal. Upstream's fourth line
//! (`Copyright … MinIO Inc.`) names the upstream vendor and is left out.

use super::style::{ColorWhen, Style, Term};

/// The banner: version and commit, runtime and compiler, license.
pub fn banner(term: &Term) -> String {
    let runtime = format!("rust {}/{}", std::env::consts::OS, std::env::consts::ARCH);
    let faint = |s: &str| term.render(Style::new().faint(), s);
    [
        (
            "Version",
            crate::buildinfo::VERSION,
            format!("commit={}", crate::buildinfo::COMMIT),
        ),
        ("Runtime", runtime.as_str(), "compiler=rustc".to_owned()),
        (
            "License",
            "AGPLv3",
            "https://www.gnu.org/licenses/agpl-3.0.html".to_owned(),
        ),
    ]
    .iter()
    .map(|(label, value, detail)| format!("{label:<11}{value:<22} {}\n", faint(detail)))
    .collect()
}

/// Prints the banner; returns the exit code.
pub fn run() -> i32 {
    print!("{}", banner(&Term::detect(ColorWhen::Auto)));
    0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::super::style::{ColorWhen, Term};

    #[test]
    fn banner_has_upstream_columns() {
        let banner = super::banner(&Term::detect(ColorWhen::Never));
        let first = banner.lines().next().unwrap();
        assert!(first.starts_with("Version    "), "{first}");
        assert_eq!(first.find("commit="), Some(34), "{first}");
        assert!(banner.contains("\nLicense    AGPLv3 "), "{banner}");
        assert!(banner.contains(" compiler=rustc\n"), "{banner}");
    }
}
