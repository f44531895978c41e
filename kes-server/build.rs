//! Embeds the git revision as `KES_BUILD_COMMIT` (read by `src/buildinfo.rs`).
//!
//! The files to watch are asked of git, so that the script reruns on a new commit in a plain
//! checkout and in a worktree (where `.git` is a file) alike, and does not rerun on every build
//! where there is no repository at all (a source tarball).

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KES_BUILD_COMMIT");
    if std::env::var_os("KES_BUILD_COMMIT").is_some() {
        return;
    }
    // HEAD lives in the worktree's own git directory; branch refs in the common one.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch(&Path::new(&dir).join("HEAD"));
    }
    if let Some(common) = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
        let common = Path::new(&common);
        watch(&common.join("refs").join("heads"));
        watch(&common.join("packed-refs"));
    }
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=KES_BUILD_COMMIT={commit}");
    }
}
