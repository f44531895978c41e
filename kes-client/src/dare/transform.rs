//! The contract between the I/O-free cores and the blocking and async adapters.

use super::DareError;

/// A pull-driven byte transformer. An adapter loops: hand out `pending_output`; else stop if
/// `is_done`; else fill `input_space` (reporting 0 bytes at end of input) while
/// `needs_input`; else call `process`.
pub(crate) trait Transform {
    /// Bytes ready for the caller.
    fn pending_output(&self) -> &[u8];
    /// Marks `n` bytes of `pending_output` as delivered.
    fn consume(&mut self, n: usize);
    /// Whether the stream has ended and all output was delivered.
    fn is_done(&self) -> bool;
    /// Whether `process` needs more input first.
    fn needs_input(&self) -> bool;
    /// Where the next input bytes go; never empty while `needs_input`.
    fn input_space(&mut self) -> &mut [u8];
    /// Records that `n` bytes were written to `input_space`; 0 means end of input.
    fn advance(&mut self, n: usize);
    /// Seals or opens the buffered package, producing output or finishing the stream.
    fn process(&mut self) -> Result<(), DareError>;
}
