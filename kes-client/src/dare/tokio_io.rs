//! Async adapters (`tokio::io::AsyncRead`) over the same cores as the blocking ones.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

use super::DareError;
use super::decrypt::{DecryptCore, DecryptOptions};
use super::encrypt::{EncryptCore, SealOptions};
use super::transform::Transform;

/// Polls `core` until `dst` receives bytes or the stream ends; DARE failures are sticky.
fn poll_drive<T: Transform, R: AsyncRead + Unpin>(
    core: &mut T,
    failed: &mut Option<DareError>,
    inner: &mut R,
    cx: &mut Context<'_>,
    dst: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if let Some(err) = *failed {
        return Poll::Ready(Err(err.into()));
    }
    if dst.remaining() == 0 {
        return Poll::Ready(Ok(()));
    }
    loop {
        let out = core.pending_output();
        if !out.is_empty() {
            let n = out.len().min(dst.remaining());
            dst.put_slice(&out[..n]);
            core.consume(n);
            return Poll::Ready(Ok(()));
        }
        if core.is_done() {
            return Poll::Ready(Ok(()));
        }
        if core.needs_input() {
            let mut space = ReadBuf::new(core.input_space());
            ready!(Pin::new(&mut *inner).poll_read(cx, &mut space))?;
            let n = space.filled().len();
            core.advance(n);
        } else if let Err(err) = core.process() {
            *failed = Some(err);
            return Poll::Ready(Err(err.into()));
        }
    }
}

/// The async counterpart of [`super::EncryptReader`].
#[derive(Debug)]
pub struct AsyncEncryptReader<R> {
    inner: R,
    core: EncryptCore,
    failed: Option<DareError>,
}

impl<R: AsyncRead + Unpin> AsyncEncryptReader<R> {
    /// Wraps `inner`; fails only if the nonce cannot be drawn or the key cannot be set up.
    pub fn new(inner: R, key: &[u8; 32], options: &SealOptions) -> Result<Self, DareError> {
        Ok(Self {
            inner,
            core: EncryptCore::new(key, options)?,
            failed: None,
        })
    }

    /// Returns the wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncEncryptReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_drive(&mut this.core, &mut this.failed, &mut this.inner, cx, buf)
    }
}

/// The async counterpart of [`super::DecryptReader`], with the same guarantees.
#[derive(Debug)]
pub struct AsyncDecryptReader<R> {
    inner: R,
    core: DecryptCore,
    failed: Option<DareError>,
}

impl<R: AsyncRead + Unpin> AsyncDecryptReader<R> {
    /// Wraps `inner`, which must be positioned at the first package to read.
    pub fn new(inner: R, key: &[u8; 32], options: &DecryptOptions) -> Result<Self, DareError> {
        Ok(Self {
            inner,
            core: DecryptCore::new(key, options)?,
            failed: None,
        })
    }

    /// Returns the wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncDecryptReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_drive(&mut this.core, &mut this.failed, &mut this.inner, cx, buf)
    }
}
