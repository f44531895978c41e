//! Encrypts and decrypts a file the way MinIO stores an SSE-S3 object, configured only from
//! MinIO's `MINIO_KMS_KES_*` variables.
//!
//! ```sh
//! export MINIO_KMS_KES_ENDPOINT=https://127.0.0.1:7373
//! export MINIO_KMS_KES_KEY_NAME=minio-default
//! export MINIO_KMS_KES_API_KEY=kes:v1:...          # or MINIO_KMS_KES_CERT_FILE + _KEY_FILE
//! export MINIO_KMS_KES_CAPATH=./kes-data/server.cert
//! cargo run -p kes-client --example sse_s3_file -- encrypt photo.jpg photo.enc my-bucket photo.jpg
//! cargo run -p kes-client --example sse_s3_file -- decrypt photo.enc photo.out
//! ```
//!
//! `encrypt` writes the DARE 2.0 stream to OUT and MinIO's object metadata (the sealed object
//! key, the KMS key name and its sealed DEK) to OUT.meta.json; `decrypt` reads both back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::Path;

use kes_client::config::KmsConfig;
use kes_client::dare::{DecryptOptions, DecryptReader, EncryptReader, SealOptions};
use kes_client::sse::{self, KesKms};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let KmsConfig::Kes(config) = KmsConfig::from_env(&env)? else {
        return Err("set MINIO_KMS_KES_ENDPOINT, MINIO_KMS_KES_KEY_NAME and credentials".into());
    };
    let kms = KesKms::new(config.client()?, config.key_name.clone());
    kms.startup().await?;

    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["encrypt", input, output, bucket, object] => {
            encrypt(&kms, input, output, bucket, object).await
        }
        ["decrypt", input, output] => decrypt(&kms, input, output).await,
        _ => Err("usage: sse_s3_file encrypt IN OUT BUCKET OBJECT | decrypt IN OUT".into()),
    }
}

async fn encrypt(
    kms: &KesKms,
    input: &str,
    output: &str,
    bucket: &str,
    object: &str,
) -> Result<(), Error> {
    let mut metadata = sse::Metadata::new();
    let object_key = sse::sse_s3::seal_object_key(kms, bucket, object, &mut metadata).await?;
    let mut reader = EncryptReader::new(
        BufReader::new(File::open(input)?),
        object_key.as_bytes(),
        &SealOptions::default(),
    )?;
    io::copy(&mut reader, &mut BufWriter::new(File::create(output)?))?;

    let mut record = BTreeMap::from([
        ("bucket".to_owned(), bucket.to_owned()),
        ("object".to_owned(), object.to_owned()),
    ]);
    record.extend(metadata);
    std::fs::write(meta_path(output), serde_json::to_vec_pretty(&record)?)?;
    println!(
        "encrypted {input} -> {output} (metadata in {})",
        meta_path(output)
    );
    Ok(())
}

async fn decrypt(kms: &KesKms, input: &str, output: &str) -> Result<(), Error> {
    let mut record: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(meta_path(input))?)?;
    let bucket = record.remove("bucket").ok_or("metadata has no bucket")?;
    let object = record.remove("object").ok_or("metadata has no object")?;
    let object_key = sse::sse_s3::unseal_object_key(kms, &record, &bucket, &object).await?;
    let mut reader = DecryptReader::new(
        BufReader::new(File::open(input)?),
        object_key.as_bytes(),
        &DecryptOptions::default(),
    )?;
    io::copy(&mut reader, &mut BufWriter::new(File::create(output)?))?;
    println!("decrypted {input} -> {output}");
    Ok(())
}

fn meta_path(data: &str) -> String {
    format!("{}.meta.json", Path::new(data).display())
}
