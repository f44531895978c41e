# MinIO (the last release, pinned) and an S3 client for the MinIO end-to-end tests
# (tests/tests/minio_e2e.rs, backends.md §7). MinIO is built with `go` from the Go module proxy;
# the first build takes several minutes on two cores, later runs reuse the cached binary. The S3
# client is the `minio` package from PyPI in a venv (with `msgpack`, to read MinIO's xl.meta);
# tests/minio_s3.py drives it. Sourced by
# scripts/install-peers with $cache set and `set -euo pipefail` active.
# The newest commit of minio/minio (2026-02-12, 11 commits after the last release tag
# RELEASE.2025-10-15T17-29-55Z: README changes and small fixes). The module proxy refuses the
# release tag itself and its pseudo-version ("This module version is not available"), so pin
# the pseudo-version of the newest commit, which it serves.
minio_version="v0.0.0-20260212201848-7aac2a2c5b7c"
minio_py_version="7.2.20"
msgpack_version="1.2.4"
minio_dir="$cache/minio"
minio_stamp="$minio_dir/minio.$minio_version"
if [[ ! -x "$minio_dir/minio" || ! -e "$minio_stamp" ]]; then
    command -v go >/dev/null || { echo "install-peers: Go is required to build MinIO" >&2; exit 1; }
    # As for kes: build from a throwaway module that requires the pinned tag, so that the go
    # command resolves the tag to its pseudo-version and never asks for deprecation notices.
    work="$cache/go/build-minio"
    rm -rf "$work" && mkdir -p "$work" "$minio_dir"
    cat > "$work/go.mod" <<MOD
module minio-peer

go 1.24
MOD
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/minio/minio"\n' > "$work/tools.go"
    (
        cd "$work"
        export GOFLAGS=-mod=mod
        go get "github.com/minio/minio@$minio_version" >/dev/null 2>&1 || go get "github.com/minio/minio@$minio_version"
        go build -trimpath -o "$minio_dir/minio" github.com/minio/minio
    )
    "$minio_dir/minio" --version >/dev/null
    touch "$minio_stamp"
fi
echo "minio ($minio_version): $minio_dir/minio"

minio_py_stamp="$minio_dir/venv/minio-py.$minio_py_version.msgpack.$msgpack_version"
if [[ ! -x "$minio_dir/venv/bin/python" || ! -e "$minio_py_stamp" ]]; then
    command -v python3 >/dev/null || { echo "install-peers: python3 is required for the S3 client" >&2; exit 1; }
    rm -rf "$minio_dir/venv"
    python3 -m venv "$minio_dir/venv"
    "$minio_dir/venv/bin/pip" install -q --disable-pip-version-check "minio==$minio_py_version" "msgpack==$msgpack_version"
    touch "$minio_py_stamp"
fi
echo "minio S3 client (Python minio $minio_py_version): $minio_dir/venv/bin/python"
