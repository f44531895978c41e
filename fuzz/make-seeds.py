#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the shared test vectors
(../shared/vectors/kes.json and minio.json beside the repository, or $KES_VECTORS).
The seeds are committed; run this again only when the vectors change."""
import base64, hashlib, json, os, pathlib, struct

root = pathlib.Path(__file__).resolve().parent
vectors = pathlib.Path(os.environ.get("KES_VECTORS", root.parent.parent / "shared" / "vectors"))
kes = json.loads((vectors / "kes.json").read_text())
minio = json.loads((vectors / "minio.json").read_text())
corpus = root / "corpus"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def ct_bytes(v):
    if "ciphertext_text" in v:
        return v["ciphertext_text"].encode()
    return base64.b64decode(v["ciphertext_b64"])


# ciphertext_decrypt: selector (index into the target's key list) ‖ AD length ‖ AD ‖ ciphertext.
ZERO = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
OTHER = "dDHbTWgo+Yh3u804SYB5OyVMy6RiLeJYBQth1f6KlEU="
def selector(key_b64, key_type):
    base = 0 if key_b64 == ZERO else 2
    return base + (1 if key_type == "ChaCha20" else 0)

for v in kes["secret_key_decrypt"]["vectors"] + kes["structured_decrypt"]["vectors"]:
    ad = base64.b64decode(v.get("associated_data_b64", ""))
    put("ciphertext_decrypt", bytes([selector(v["key_b64"], v["key_type"]), len(ad)]) + ad + ct_bytes(v))
for v in kes["legacy_aes256gcm_insecure_kdf"]["decrypt_vectors"]:
    ad = base64.b64decode(v.get("associated_data_b64", ""))
    put("ciphertext_decrypt", bytes([4, len(ad)]) + ad + ct_bytes(v))

# key_version_parse: every stored value of every era.
for cat in ["parse_key_version", "key_text_eras", "legacy_key_text", "encode_key_version"]:
    for v in kes[cat]["vectors"]:
        for field in ["stored_value_text", "expect_stored_value"]:
            if isinstance(v.get(field), str):
                put("key_version_parse", v[field])

# config_parse: the config fixtures of the server tests.
for f in sorted((root.parent / "kes-server" / "tests" / "fixtures" / "config").glob("*.yml")):
    put("config_parse", f.read_bytes())

# policy_match: path, allow patterns, empty line, deny patterns.
for v in kes["policy_verify"]["vectors"]:
    p = v["policy"]
    put("policy_match", "\n".join([v["path"], *(p.get("allow") or []), "", *(p.get("deny") or [])]))
for v in kes["names"]["api_pattern"]:
    put("policy_match", "/v1/key/list/" + v.get("pattern", v.get("name", "")) + "\n" + "/v1/key/list/*\n\n")

# api_key_parse: valid and invalid keys.
for v in kes["api_keys"]["vectors"]:
    put("api_key_parse", v["api_key"])
for v in minio["from_tests"]["kes_api_key"]["parse_cases"]:
    put("api_key_parse", v["key"])

# dare_decrypt: options ‖ sequence number (LE) ‖ stream.
for cat in ["dare_v2_golden", "dare_v2_invalid", "dare_v1_golden", "dare_v1_invalid"]:
    for p in minio["from_tests"][cat]["packages"]:
        put("dare_decrypt", bytes([0]) + struct.pack("<I", p.get("sequence_number", 0)) + bytes.fromhex(p["package_hex"]))

# dare_tamper: flags ‖ sequence number (LE) ‖ size (KiB) ‖ read size ‖ edits ‖ plaintext seed. The
# seed text is the golden DARE key (any bytes do); one stream per edit kind, 1 to 4 packages long.
text = bytes.fromhex(minio["from_tests"]["dare_v2_golden"]["key_hex"])
for size in [0, 70, 140, 199]:
    put("dare_tamper", bytes([0, 0, 0, 0, 0, size, 3]) + text)
    for op in range(8):
        for flags in [1 << 2, (1 << 2) | 1]:
            put("dare_tamper", bytes([flags, 0, 0, 0, 0, size, 5, op, 9, 1, 0x40]) + text)
put("dare_tamper", bytes([(2 << 2) | 0x40 | 0x02, 0, 7, 9, 0, 140, 1, 2, 1, 0, 0, 4, 0, 0, 0]) + text)

# sse_metadata: the metadata maps of the parse tests and of the derived objects.
for cat in ["sse_s3_parse_metadata", "sse_c_parse_metadata"]:
    for c in minio["from_tests"][cat]["cases"]:
        put("sse_metadata", json.dumps(c["metadata"]))
for cat in ["sse_s3", "sse_kms", "sse_c"]:
    m = minio["derived"][cat].get("metadata")
    if m:
        put("sse_metadata", json.dumps(m))
for c in minio["derived"]["context_encoding"]:
    put("sse_metadata", c["canonical"])

# api_request: route selector ‖ flags ‖ name length ‖ name ‖ body (see api_request.rs for the
# route order: the server's route table without the log streams).
routes = ["/version", "/v1/ready", "/v1/status", "/v1/metrics", "/v1/api", "/v1/key/create/",
          "/v1/key/import/", "/v1/key/describe/", "/v1/key/list/", "/v1/key/delete/",
          "/v1/key/generate/", "/v1/key/encrypt/", "/v1/key/decrypt/", "/v1/key/hmac/",
          "/v1/key/bulk/decrypt/"]
def req(path, body, flags=1, name=b""):
    put("api_request", bytes([routes.index(path), flags, len(name)]) + name + body)
for i in range(len(routes)):
    put("api_request", bytes([i, 1, 0]))
req("/v1/key/import/", json.dumps({"key": ZERO, "cipher": "AES256"}).encode(), flags=0, name=b"imported")
req("/v1/key/import/", json.dumps({"bytes": ZERO}).encode(), flags=0, name=b"legacy")
req("/v1/key/generate/", json.dumps({"context": "Y3R4"}).encode())
req("/v1/key/encrypt/", json.dumps({"plaintext": "aGVsbG8=", "context": "Y3R4"}).encode())
req("/v1/key/decrypt/", json.dumps({"ciphertext": base64.b64encode(ct_bytes(kes["secret_key_decrypt"]["vectors"][4])).decode(), "context": None}).encode())
req("/v1/key/hmac/", json.dumps({"message": "aGVsbG8="}).encode())
req("/v1/key/bulk/decrypt/", json.dumps([{"ciphertext": "AAAA", "context": ""}]).encode())
req("/v1/key/list/", b"", name=b"*")
