# Prometheus's promtool (pinned), built with Go like the kes peer: the metrics test lints our
# /v1/metrics output with `promtool check metrics` and checks deploy/prometheus/ with
# `promtool check config` and `check rules`.
promtool_version="v0.55.1"
promtool_bin="$cache/go/bin/promtool"
if [[ ! -x "$promtool_bin" || ! -e "$promtool_bin.$promtool_version" ]]; then
    command -v go >/dev/null || { echo "install-peers: Go is required to build promtool" >&2; exit 1; }
    work="$cache/go/build-promtool"
    rm -rf "$work" && mkdir -p "$work" "$cache/go/bin"
    printf 'module promtool-peer\n\ngo 1.24\n' > "$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/promtool"\n' > "$work/tools.go"
    (
        cd "$work"
        export GOFLAGS=-mod=mod
        go get "github.com/prometheus/prometheus/cmd/promtool@$promtool_version" >/dev/null 2>&1 \
            || go get "github.com/prometheus/prometheus/cmd/promtool@$promtool_version"
        GOBIN="$cache/go/bin" go install github.com/prometheus/prometheus/cmd/promtool
    )
    touch "$promtool_bin.$promtool_version"
fi
echo "promtool ($promtool_version): $promtool_bin"
