"""S3 driver for the MinIO end-to-end tests (tests/tests/minio_e2e.rs).

Reads one JSON request from standard input:

    {"endpoint": "127.0.0.1:9000", "access_key": "...", "secret_key": "...",
     "ops": [{"op": "make_bucket", "bucket": "b"}, ...]}

runs the operations in order with the `minio` client from PyPI, and prints one JSON array with
one result per operation: `{"ok": true, ...}` or `{"ok": false, "status": <HTTP status or 0>,
"code": "...", "message": "..."}`. A failed operation does not stop the batch. Object data goes
through files, never through standard output.

Operations:
- make_bucket {bucket}
- put {bucket, object, file, sse?, part_size?}: sse is null, "s3" or {"kms": key, "context": {}}
- get {bucket, object, file, offset?, length?}: writes the (ranged) body to file
- stat {bucket, object}: size and the response headers, lower-cased
- set_bucket_encryption {bucket}: an SSE-S3 default rule
- copy {bucket, object, source, sse?}: server-side copy of source in the same bucket
- xl_meta {data, bucket, object}: reads MinIO's single-drive storage directly (not S3): the
  object's internal metadata (MetaSys, values as text) and the first bytes of its stored
  (encrypted) data, base64, with the bitrot checksum in front of each block removed.
"""

import base64
import json
import os
import sys
import uuid

import msgpack
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error
from minio.sse import SseKMS, SseS3
from minio.sseconfig import Rule, SSEConfig

# HighwayHash-256 (MinIO's default bitrot algorithm) sums sit before every erasure block.
BITROT_SUM_SIZE = 32


def sse_of(spec):
    if spec is None:
        return None
    if spec == "s3":
        return SseS3()
    return SseKMS(spec["kms"], spec.get("context") or {})


def headers_of(headers):
    return {k.lower(): v for k, v in headers.items()}


def xl_meta(op):
    """The object's internal metadata and stored data, from <data>/<bucket>/<object>/xl.meta
    (format XL2 1.x: "XL2 " + version, a msgpack bin32 holding the version headers and the
    msgpack-encoded versions, a CRC, then the inline data) and, for data not inlined,
    <data>/<bucket>/<object>/<data dir>/part.1."""
    base = os.path.join(op["data"], op["bucket"], op["object"])
    with open(os.path.join(base, "xl.meta"), "rb") as f:
        raw = f.read()
    if raw[:4] != b"XL2 ":
        raise ValueError("xl.meta: unknown header %r" % raw[:4])
    if raw[8] != 0xC6:
        raise ValueError("xl.meta: expected a bin32 payload")
    size = int.from_bytes(raw[9:13], "big")
    payload = raw[13 : 13 + size]
    rest = raw[13 + size :]
    unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
    unpacker.feed(payload)
    _header_version = unpacker.unpack()
    _meta_version = unpacker.unpack()
    versions = unpacker.unpack()
    if versions != 1:
        raise ValueError("xl.meta: expected one version, found %d" % versions)
    _version_header = unpacker.unpack()
    version = msgpack.unpackb(unpacker.unpack(), raw=True, strict_map_key=False)
    obj = version[b"V2Obj"]
    meta_sys = {k.decode(): v.decode() for k, v in (obj.get(b"MetaSys") or {}).items()}
    # After the 5-byte CRC: the inline data, a version byte then a msgpack map from version id
    # ("null" without versioning) to the stored bytes.
    inline = rest[5:]
    stored = None
    if inline:
        data = msgpack.unpackb(inline[1:], raw=True, strict_map_key=False)
        if data:
            stored = next(iter(data.values()))
    where = "inline in xl.meta"
    if stored is None:
        data_dir = str(uuid.UUID(bytes=bytes(obj[b"DDir"])))
        path = os.path.join(base, data_dir, "part.1")
        with open(path, "rb") as f:
            stored = f.read(BITROT_SUM_SIZE + op.get("length", 65568))
        where = os.path.relpath(path, op["data"])
    first = stored[BITROT_SUM_SIZE : BITROT_SUM_SIZE + op.get("length", 65568)]
    return {
        "meta_sys": meta_sys,
        "first_bytes": base64.b64encode(first).decode(),
        "stored_at": where,
        "block_size": obj.get(b"EcBSize"),
        "data_blocks": obj.get(b"EcM"),
    }


def run(client, op):
    kind = op["op"]
    if kind == "make_bucket":
        client.make_bucket(op["bucket"])
        return {}
    if kind == "put":
        size = os.path.getsize(op["file"])
        with open(op["file"], "rb") as f:
            result = client.put_object(
                op["bucket"],
                op["object"],
                f,
                size,
                sse=sse_of(op.get("sse")),
                part_size=op.get("part_size", 0),
            )
        return {"etag": result.etag}
    if kind == "get":
        response = client.get_object(
            op["bucket"], op["object"], offset=op.get("offset", 0), length=op.get("length", 0)
        )
        try:
            with open(op["file"], "wb") as f:
                for chunk in response.stream(256 * 1024):
                    f.write(chunk)
            return {"status": response.status, "headers": headers_of(response.headers)}
        finally:
            response.close()
            response.release_conn()
    if kind == "stat":
        stat = client.stat_object(op["bucket"], op["object"])
        return {"size": stat.size, "headers": headers_of(stat.metadata)}
    if kind == "set_bucket_encryption":
        client.set_bucket_encryption(op["bucket"], SSEConfig(Rule.new_sse_s3_rule()))
        return {}
    if kind == "copy":
        result = client.copy_object(
            op["bucket"],
            op["object"],
            CopySource(op["bucket"], op["source"]),
            sse=sse_of(op.get("sse")),
        )
        return {"etag": result.etag}
    if kind == "xl_meta":
        return xl_meta(op)
    raise ValueError("unknown operation %r" % kind)


def main():
    request = json.load(sys.stdin)
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=60),
        retries=urllib3.Retry(total=0),
    )
    client = Minio(
        request["endpoint"],
        access_key=request["access_key"],
        secret_key=request["secret_key"],
        secure=False,
        http_client=http,
    )
    results = []
    for op in request["ops"]:
        try:
            result = run(client, op)
            result["ok"] = True
        except S3Error as err:
            result = {
                "ok": False,
                "status": err.response.status if err.response is not None else 0,
                "code": err.code,
                "message": err.message,
            }
        except Exception as err:  # noqa: BLE001 -- every failure is reported, never raised
            result = {"ok": False, "status": 0, "code": type(err).__name__, "message": str(err)}
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
