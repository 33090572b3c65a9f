//! The SPDY/3.1 subset kubectl's port-forward uses: framing and header compression.

pub mod dictionary;
pub mod frame;
pub mod headers;

pub use frame::{Frame, SpdyError, FLAG_FIN};
pub use headers::{HeaderCompressor, HeaderDecompressor};
