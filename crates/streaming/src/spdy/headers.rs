//! SPDY/3 header blocks: the name/value encoding and the per-direction zlib streams.
//!
//! Each direction of a connection is ONE zlib stream for its whole life (never reset), flushed
//! with a sync flush after every header block.

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::dictionary::SPDY3_DICTIONARY;
use super::frame::SpdyError;

/// A header block can't sensibly be larger than this once inflated.
const MAX_INFLATED: usize = 1 << 20;

/// Encode name/value pairs (names must already be lowercase).
pub fn encode_block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_u32(headers.len() as u32);
    for (name, value) in headers {
        out.put_u32(name.len() as u32);
        out.put_slice(name.as_bytes());
        out.put_u32(value.len() as u32);
        out.put_slice(value.as_bytes());
    }
    out.to_vec()
}

/// Decode an inflated header block. Multiple values of one name stay NUL-separated.
pub fn decode_block(block: &[u8]) -> Result<Vec<(String, String)>, SpdyError> {
    let mut rest = block;
    let count = take_u32(&mut rest)?;
    let mut headers = Vec::new();
    for _ in 0..count {
        let name = take_string(&mut rest)?;
        let value = take_string(&mut rest)?;
        headers.push((name, value));
    }
    Ok(headers)
}

fn take_u32(rest: &mut &[u8]) -> Result<u32, SpdyError> {
    let (head, tail) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| SpdyError::Headers("truncated header block".into()))?;
    *rest = tail;
    Ok(u32::from_be_bytes(*head))
}

fn take_string(rest: &mut &[u8]) -> Result<String, SpdyError> {
    let len = take_u32(rest)? as usize;
    if rest.len() < len {
        return Err(SpdyError::Headers("header length past end of block".into()));
    }
    let (value, tail) = rest.split_at(len);
    *rest = tail;
    String::from_utf8(value.to_vec()).map_err(|_| SpdyError::Headers("header is not UTF-8".into()))
}

/// Inflates the header blocks one peer sends, supplying the SPDY/3 dictionary when asked.
pub struct HeaderDecompressor {
    inflate: Decompress,
}

impl Default for HeaderDecompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderDecompressor {
    pub fn new() -> Self {
        HeaderDecompressor {
            inflate: Decompress::new(true),
        }
    }

    /// Inflate one compressed header block and decode its pairs.
    pub fn decode(&mut self, compressed: &[u8]) -> Result<Vec<(String, String)>, SpdyError> {
        let inflated = self.inflate(compressed)?;
        decode_block(&inflated)
    }

    fn inflate(&mut self, input: &[u8]) -> Result<Vec<u8>, SpdyError> {
        let mut out = Vec::with_capacity(input.len() * 4 + 256);
        let mut consumed = 0usize;
        loop {
            if out.len() == out.capacity() {
                if out.len() >= MAX_INFLATED {
                    return Err(SpdyError::Headers("header block too large".into()));
                }
                out.reserve(out.len().max(1024));
            }
            let before_in = self.inflate.total_in();
            let before_out = out.len();
            let result =
                self.inflate
                    .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync);
            consumed += (self.inflate.total_in() - before_in) as usize;
            match result {
                Ok(Status::StreamEnd) => break,
                Ok(_) => {
                    let output_full = out.len() == out.capacity();
                    if consumed >= input.len() && !output_full {
                        break;
                    }
                    let stalled = self.inflate.total_in() == before_in && out.len() == before_out;
                    if stalled && !output_full {
                        return Err(SpdyError::Headers(
                            "truncated compressed header block".into(),
                        ));
                    }
                }
                Err(err) if err.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(SPDY3_DICTIONARY)
                        .map_err(|e| SpdyError::Headers(format!("wrong zlib dictionary: {e}")))?;
                }
                Err(err) => return Err(SpdyError::Headers(format!("zlib: {err}"))),
            }
        }
        Ok(out)
    }
}

/// Deflates the header blocks this side sends.
pub struct HeaderCompressor {
    deflate: Compress,
}

impl HeaderCompressor {
    /// What the server sends: stored (uncompressed) zlib blocks without a dictionary, which
    /// Go's SPDY reader accepts; cheap and nothing secret is compressed alongside.
    pub fn stored() -> Self {
        HeaderCompressor {
            deflate: Compress::new(Compression::none(), true),
        }
    }

    /// What a client sends: real compression with the SPDY/3 dictionary.
    pub fn with_dictionary() -> Result<Self, SpdyError> {
        let mut deflate = Compress::new(Compression::default(), true);
        deflate
            .set_dictionary(SPDY3_DICTIONARY)
            .map_err(|e| SpdyError::Headers(format!("zlib dictionary: {e}")))?;
        Ok(HeaderCompressor { deflate })
    }

    /// Encode and compress one header block, ending with a sync flush.
    pub fn encode(&mut self, headers: &[(&str, &str)]) -> Result<Bytes, SpdyError> {
        let block = encode_block(headers);
        let mut out = Vec::with_capacity(block.len() + 64);
        let mut consumed = 0usize;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(block.len() + 64);
            }
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(&block[consumed..], &mut out, FlushCompress::Sync)
                .map_err(|e| SpdyError::Headers(format!("zlib: {e}")))?;
            consumed += (self.deflate.total_in() - before) as usize;
            // Done once all input is in and the flush fit in the remaining room.
            if consumed >= block.len() && out.capacity() - out.len() >= 64 {
                break;
            }
        }
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORT_HEADERS: &[(&str, &str)] = &[
        ("streamtype", "error"),
        ("port", "8080"),
        ("requestid", "0"),
    ];

    fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn block_round_trip_and_truncation_errors() {
        let block = encode_block(PORT_HEADERS);
        assert_eq!(decode_block(&block).expect("decodes"), owned(PORT_HEADERS));
        assert!(decode_block(&block[..block.len() - 1]).is_err());
        assert!(decode_block(b"\x00\x00\x00\x01\x00\x00\xff\xff").is_err());
        assert_eq!(decode_block(b"\x00\x00\x00\x00").expect("empty"), vec![]);
    }

    #[test]
    fn client_blocks_with_dictionary_decode_across_one_stream() {
        let mut client = HeaderCompressor::with_dictionary().expect("compressor");
        let mut server = HeaderDecompressor::new();
        let first = client.encode(PORT_HEADERS).expect("compresses");
        // zlib header: FDICT set, then the SPDY/3 dictionary's Adler-32 (0xe3c6a7c2).
        assert_eq!(first[0] & 0x0f, 8);
        assert_ne!(first[1] & 0x20, 0);
        assert_eq!(&first[2..6], &[0xe3, 0xc6, 0xa7, 0xc2]);
        assert_eq!(
            server.decode(&first).expect("inflates"),
            owned(PORT_HEADERS)
        );
        // The second block continues the same zlib stream (no header, shared history).
        let data = [("streamtype", "data"), ("port", "8080"), ("requestid", "0")];
        let second = client.encode(&data).expect("compresses");
        assert_eq!(server.decode(&second).expect("inflates"), owned(&data));
    }

    #[test]
    fn flate2_dictionary_matches_an_independent_spdy3_vector() {
        // A stored block announcing dictionary id 0xe3c6a7c2, as published by other SPDY/3
        // implementations: decoding fails unless our dictionary has exactly that checksum.
        let mut inflate = HeaderDecompressor::new();
        let raw = inflate
            .inflate(
                b"\x78\x3f\xe3\xc6\xa7\xc2\x00\x0d\x00\xf2\xffHello, World!\x00\x00\x00\xff\xff",
            )
            .expect("inflates");
        assert_eq!(raw, b"Hello, World!");
    }

    #[test]
    fn stored_server_blocks_decode_with_a_plain_inflater() {
        let mut server = HeaderCompressor::stored();
        let mut client = HeaderDecompressor::new();
        for _ in 0..3 {
            let block = server.encode(&[]).expect("compresses");
            assert!(!block.is_empty());
            assert_eq!(client.decode(&block).expect("inflates"), vec![]);
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let mut server = HeaderDecompressor::new();
        assert!(server.decode(b"\x00\x01\x02\x03").is_err());
    }
}
