# moto: a local AWS Secrets Manager (and KMS) for the AWS keystore tests (backends.md §4).
# Sourced by scripts/install-peers with $cache set and `set -euo pipefail` active. Installs
# moto's server from PyPI into the virtual environment $cache/moto unless it is there; the
# version is pinned because the tests check moto's answers to edge cases.
moto_version="5.2.5"
moto_venv="$cache/moto"
moto_stamp="$moto_venv/.kes-moto-$moto_version"
if [[ ! -x "$moto_venv/bin/moto_server" || ! -e "$moto_stamp" ]]; then
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
    fi
    rm -rf "$moto_venv"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install -q --disable-pip-version-check \
        "moto[secretsmanager]==$moto_version" flask flask-cors boto3
    touch "$moto_stamp"
fi
echo "moto: $moto_venv/bin/moto_server"
