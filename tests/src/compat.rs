//! The compatibility matrix (`COMPATIBILITY.md`): the interop tests record, for each upstream
//! peer they run against, which operations passed; `scripts/test` renders the records into the
//! matrix with the `compat-matrix` binary (`tests/src/bin/compat-matrix.rs`).
//!
//! A test declares its cells up front with [`Cells::new`] (the peers it exercises and the
//! operations it will check) and calls [`Cells::pass`] after each operation's assertions. Every
//! declared cell that has not passed when the [`Cells`] is dropped — because the test panicked
//! before it got there, or never checked it — is recorded as a failure. So a failing test shows
//! up as `fail` in the matrix, and the matrix can only say `pass` for what a test checked.
//!
//! Records are appended to `$KES_COMPAT_RECORDS` (one line per cell, tab-separated: peer,
//! variant, version, operation, `pass`/`fail`) when that variable is set, and nowhere otherwise.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

/// The upstream peers the tests run against: the rows of the matrix, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeerKind {
    /// The upstream Go `kes` command line, against our server.
    KesCli,
    /// The Go SDK `github.com/minio/kms-go/kes` (as built into the upstream `kes` CLI).
    KmsGo,
    /// The upstream Go KES server, against our client and on keystores shared with ours.
    KesServer,
    /// The MinIO object store, with our server as its KMS.
    Minio,
}

impl PeerKind {
    /// All peers, in row order.
    pub const ALL: [PeerKind; 4] = [
        PeerKind::KesCli,
        PeerKind::KmsGo,
        PeerKind::KesServer,
        PeerKind::Minio,
    ];

    /// The row label.
    pub fn label(self) -> &'static str {
        match self {
            PeerKind::KesCli => "kes CLI (Go)",
            PeerKind::KmsGo => "kms-go/kes client",
            PeerKind::KesServer => "KES server (Go)",
            PeerKind::Minio => "MinIO",
        }
    }
}

/// One row of the matrix: a peer, a variant (how it is configured; may be empty) and the
/// peer's version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub kind: PeerKind,
    pub variant: String,
    pub version: String,
}

impl Peer {
    pub fn new(kind: PeerKind, variant: &str, version: &str) -> Peer {
        Peer {
            kind,
            variant: variant.to_owned(),
            version: version.to_owned(),
        }
    }
}

/// The tables of the matrix: one per kind of peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The Go KES clients against our server.
    KesClients,
    /// The Go KES server against our client and keystores.
    KesServer,
    /// MinIO using our server as its KMS.
    Minio,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::KesClients, Section::KesServer, Section::Minio];

    pub fn title(self) -> &'static str {
        match self {
            Section::KesClients => "Upstream KES clients against our server",
            Section::KesServer => "The upstream KES server against our client and keystore",
            Section::Minio => "MinIO with our server as its KMS",
        }
    }
}

impl PeerKind {
    /// The table the peer's row is in.
    pub fn section(self) -> Section {
        match self {
            PeerKind::KesCli | PeerKind::KmsGo => Section::KesClients,
            PeerKind::KesServer => Section::KesServer,
            PeerKind::Minio => Section::Minio,
        }
    }
}

/// The operations: the columns of the matrix, in this order. A table shows the operations
/// that were recorded for any of its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    ApiKeyAuth,
    CertAuth,
    CreateKey,
    ImportKey,
    DescribeKey,
    ListKeys,
    DeleteKey,
    GenerateDek,
    Encrypt,
    Decrypt,
    Hmac,
    Status,
    Identity,
    SameErrors,
    SharedKeystore,
    Startup,
    SseS3,
    Multipart,
    RangedGet,
    BucketDefault,
    SseKms,
    CopySseS3,
    PolicyDenied,
    Failover,
    Restart,
    Migration,
    KesClientUnseal,
}

impl Op {
    /// All operations, in column order.
    pub const ALL: [Op; 27] = [
        Op::ApiKeyAuth,
        Op::CertAuth,
        Op::CreateKey,
        Op::ImportKey,
        Op::DescribeKey,
        Op::ListKeys,
        Op::DeleteKey,
        Op::GenerateDek,
        Op::Encrypt,
        Op::Decrypt,
        Op::Hmac,
        Op::Status,
        Op::Identity,
        Op::SameErrors,
        Op::SharedKeystore,
        Op::Startup,
        Op::SseS3,
        Op::Multipart,
        Op::RangedGet,
        Op::BucketDefault,
        Op::SseKms,
        Op::CopySseS3,
        Op::PolicyDenied,
        Op::Failover,
        Op::Restart,
        Op::Migration,
        Op::KesClientUnseal,
    ];

    /// The column label.
    pub fn label(self) -> &'static str {
        match self {
            Op::ApiKeyAuth => "API key",
            Op::CertAuth => "client certificate",
            Op::CreateKey => "create key",
            Op::ImportKey => "import key",
            Op::DescribeKey => "describe key",
            Op::ListKeys => "list keys",
            Op::DeleteKey => "delete key",
            Op::GenerateDek => "generate DEK",
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::Hmac => "HMAC",
            Op::Status => "status",
            Op::Identity => "identities",
            Op::SameErrors => "same errors",
            Op::SharedKeystore => "shared keystore",
            Op::Startup => "startup creates default key",
            Op::SseS3 => "SSE-S3 PUT/GET",
            Op::Multipart => "multipart",
            Op::RangedGet => "ranged GET",
            Op::BucketDefault => "bucket default encryption",
            Op::SseKms => "SSE-KMS key + context",
            Op::CopySseS3 => "copy SSE-S3",
            Op::PolicyDenied => "policy denies key",
            Op::Failover => "endpoint down",
            Op::Restart => "restart, read back",
            Op::Migration => "from Go KES",
            Op::KesClientUnseal => "kes-client unseals",
        }
    }

    /// The operation with this label.
    pub fn from_label(label: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.label() == label)
    }
}

/// The cells one test checks: declared up front, recorded as they pass, and every cell that
/// has not passed is recorded as failed on drop.
#[derive(Debug)]
pub struct Cells {
    peers: Vec<Peer>,
    pending: Vec<Op>,
}

impl Cells {
    /// Declares that this test checks `ops` against each of `peers`.
    pub fn new(peers: &[Peer], ops: &[Op]) -> Cells {
        Cells {
            peers: peers.to_vec(),
            pending: ops.to_vec(),
        }
    }

    /// Records `op` as passed for every peer. Call it after the operation's assertions.
    pub fn pass(&mut self, op: Op) {
        assert!(
            self.pending.contains(&op),
            "compatibility cell {:?} was not declared, or passed twice",
            op.label()
        );
        self.pending.retain(|o| *o != op);
        self.write(op, true);
    }

    fn write(&self, op: Op, pass: bool) {
        for peer in &self.peers {
            record(peer, op, pass);
        }
    }
}

impl Drop for Cells {
    /// Every declared operation that did not pass is a failure.
    fn drop(&mut self) {
        for op in std::mem::take(&mut self.pending) {
            self.write(op, false);
        }
    }
}

static FILE: Mutex<()> = Mutex::new(());

/// Appends one record to `$KES_COMPAT_RECORDS`, if set. Never panics (it runs during unwinding).
fn record(peer: &Peer, op: Op, pass: bool) {
    let Some(path) = std::env::var_os("KES_COMPAT_RECORDS") else {
        return;
    };
    let line = format!(
        "{}\t{}\t{}\t{}\t{}\n",
        peer.kind.label(),
        peer.variant,
        peer.version,
        op.label(),
        if pass { "pass" } else { "fail" }
    );
    let _guard = FILE.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The version of Go module `module` compiled into the Go binary `binary`, from the build
/// information Go embeds (`dep\t<module>\t<version>\t…` or `mod\t…`); panics if absent.
pub fn go_module_version(binary: &Path, module: &str) -> String {
    let bytes = std::fs::read(binary)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", binary.display()));
    for prefix in ["dep\t", "mod\t"] {
        let needle = format!("{prefix}{module}\t");
        if let Some(at) = find(&bytes, needle.as_bytes()) {
            let rest = &bytes[at + needle.len()..];
            let end = rest
                .iter()
                .position(|b| *b == b'\t' || *b == b'\n')
                .unwrap_or(rest.len());
            return String::from_utf8_lossy(&rest[..end]).into_owned();
        }
    }
    panic!("{} has no build information for {module}", binary.display())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The row of the upstream `kes` CLI (`tests::go_kes`).
pub fn kes_cli(variant: &str) -> Peer {
    Peer::new(PeerKind::KesCli, variant, &go_kes_version())
}

/// The row of the kms-go/kes SDK compiled into the upstream `kes` CLI.
pub fn kms_go(variant: &str) -> Peer {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let version =
        VERSION.get_or_init(|| go_module_version(&crate::go_kes(), "github.com/minio/kms-go/kes"));
    Peer::new(PeerKind::KmsGo, variant, version)
}

/// The row of the upstream KES server (`tests::GoServer`).
pub fn kes_server(variant: &str) -> Peer {
    Peer::new(PeerKind::KesServer, variant, &go_kes_version())
}

fn go_kes_version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| go_module_version(&crate::go_kes(), "github.com/minio/kes"))
        .clone()
}
