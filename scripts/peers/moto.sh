# moto: a local AWS Secrets Manager (and KMS) for the AWS keystore tests (backends.md §4).
# Sourced by scripts/install-peers with $cache set and `set -euo pipefail` active. Installs
# moto's server into the virtual environment $cache/moto (from PyPI) unless it is there.
moto_venv="$cache/moto"
moto_stamp="$moto_venv/.kes-installed"
if [[ ! -x "$moto_venv/bin/moto_server" || ! -e "$moto_stamp" ]]; then
    command -v python3 >/dev/null || { echo "install-peers: python3 is required for moto" >&2; exit 1; }
    rm -rf "$moto_venv"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install -q --disable-pip-version-check \
        'moto[secretsmanager]' flask flask-cors boto3
    touch "$moto_stamp"
fi
echo "moto: $moto_venv/bin/moto_server"
