//! `kes -v/--version`: the version banner in upstream's layout (label, value, detail columns).

/// The banner: version and commit, runtime, license.
pub fn banner() -> String {
    let runtime = format!("rust {}/{}", std::env::consts::OS, std::env::consts::ARCH);
    format!(
        "{:<11}{:<23}commit={}\n{:<11}{runtime:<23}\n{:<11}{:<23}https://www.gnu.org/licenses/agpl-3.0.html\n",
        "Version",
        crate::buildinfo::VERSION,
        crate::buildinfo::COMMIT,
        "Runtime",
        "License",
        "AGPLv3",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn banner_has_upstream_columns() {
        let banner = super::banner();
        let first = banner.lines().next().unwrap();
        assert!(first.starts_with("Version    "), "{first}");
        assert_eq!(first.find("commit="), Some(34), "{first}");
        assert!(banner.contains("\nLicense    AGPLv3 "), "{banner}");
    }
}
