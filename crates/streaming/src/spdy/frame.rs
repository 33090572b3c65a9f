//! SPDY/3 frame parsing and serialisation. Header blocks stay compressed here;
//! [`super::headers`] turns them into name/value pairs.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

pub const VERSION: u16 = 3;
pub const FLAG_FIN: u8 = 0x01;

pub const TYPE_SYN_STREAM: u16 = 1;
pub const TYPE_SYN_REPLY: u16 = 2;
pub const TYPE_RST_STREAM: u16 = 3;
pub const TYPE_SETTINGS: u16 = 4;
pub const TYPE_PING: u16 = 6;
pub const TYPE_GOAWAY: u16 = 7;
pub const TYPE_HEADERS: u16 = 8;
pub const TYPE_WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status codes used here.
pub const RST_PROTOCOL_ERROR: u32 = 1;
pub const RST_CANCEL: u32 = 5;

/// The largest payload a frame can carry (24-bit length).
pub const MAX_PAYLOAD: usize = (1 << 24) - 1;
const HEADER_LEN: usize = 8;
const STREAM_ID_MASK: u32 = 0x7fff_ffff;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpdyError {
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    #[error("malformed {0} frame")]
    Malformed(&'static str),
    #[error("header block: {0}")]
    Headers(String),
}

/// One SPDY frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        stream_id: u32,
        associated_id: u32,
        priority: u8,
        flags: u8,
        header_block: Bytes,
    },
    SynReply {
        stream_id: u32,
        flags: u8,
        header_block: Bytes,
    },
    RstStream {
        stream_id: u32,
        status: u32,
    },
    Settings,
    Ping {
        id: u32,
    },
    GoAway {
        last_stream_id: u32,
        status: u32,
    },
    Headers {
        stream_id: u32,
        flags: u8,
        header_block: Bytes,
    },
    WindowUpdate {
        stream_id: u32,
        delta: u32,
    },
    Data {
        stream_id: u32,
        flags: u8,
        data: Bytes,
    },
    /// A control frame type this subset does not use; skipped.
    Unknown {
        frame_type: u16,
    },
}

/// Take one complete frame off the front of `buf`; `Ok(None)` when more bytes are needed.
pub fn parse(buf: &mut BytesMut) -> Result<Option<Frame>, SpdyError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let length = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
    if buf.len() < HEADER_LEN + length {
        return Ok(None);
    }
    let mut header = buf.split_to(HEADER_LEN);
    let mut payload = buf.split_to(length).freeze();
    let first = header.get_u32();
    let flags = header[0];
    if first & 0x8000_0000 == 0 {
        return Ok(Some(Frame::Data {
            stream_id: first & STREAM_ID_MASK,
            flags,
            data: payload,
        }));
    }
    let version = ((first >> 16) & 0x7fff) as u16;
    if version != VERSION {
        return Err(SpdyError::Version(version));
    }
    let frame_type = (first & 0xffff) as u16;
    let frame = match frame_type {
        TYPE_SYN_STREAM => {
            need(&payload, 10, "SYN_STREAM")?;
            let stream_id = payload.get_u32() & STREAM_ID_MASK;
            let associated_id = payload.get_u32() & STREAM_ID_MASK;
            let priority = payload.get_u8() >> 5;
            payload.advance(1); // credential slot
            Frame::SynStream {
                stream_id,
                associated_id,
                priority,
                flags,
                header_block: payload,
            }
        }
        TYPE_SYN_REPLY => {
            need(&payload, 4, "SYN_REPLY")?;
            Frame::SynReply {
                stream_id: payload.get_u32() & STREAM_ID_MASK,
                flags,
                header_block: payload,
            }
        }
        TYPE_RST_STREAM => {
            need(&payload, 8, "RST_STREAM")?;
            Frame::RstStream {
                stream_id: payload.get_u32() & STREAM_ID_MASK,
                status: payload.get_u32(),
            }
        }
        TYPE_SETTINGS => Frame::Settings,
        TYPE_PING => {
            need(&payload, 4, "PING")?;
            Frame::Ping {
                id: payload.get_u32(),
            }
        }
        TYPE_GOAWAY => {
            need(&payload, 8, "GOAWAY")?;
            Frame::GoAway {
                last_stream_id: payload.get_u32() & STREAM_ID_MASK,
                status: payload.get_u32(),
            }
        }
        TYPE_HEADERS => {
            need(&payload, 4, "HEADERS")?;
            Frame::Headers {
                stream_id: payload.get_u32() & STREAM_ID_MASK,
                flags,
                header_block: payload,
            }
        }
        TYPE_WINDOW_UPDATE => {
            need(&payload, 8, "WINDOW_UPDATE")?;
            Frame::WindowUpdate {
                stream_id: payload.get_u32() & STREAM_ID_MASK,
                delta: payload.get_u32() & STREAM_ID_MASK,
            }
        }
        other => Frame::Unknown { frame_type: other },
    };
    Ok(Some(frame))
}

fn need(payload: &Bytes, len: usize, frame: &'static str) -> Result<(), SpdyError> {
    if payload.len() < len {
        return Err(SpdyError::Malformed(frame));
    }
    Ok(())
}

/// Append the wire form of `frame` to `out`. Payloads over [`MAX_PAYLOAD`] are a caller bug
/// and are rejected.
pub fn encode(frame: &Frame, out: &mut BytesMut) -> Result<(), SpdyError> {
    match frame {
        Frame::Data {
            stream_id,
            flags,
            data,
        } => {
            let len = payload_len(data.len(), "DATA")?;
            out.put_u32(stream_id & STREAM_ID_MASK);
            put_flags_len(out, *flags, len);
            out.put_slice(data);
        }
        Frame::SynStream {
            stream_id,
            associated_id,
            priority,
            flags,
            header_block,
        } => {
            let len = payload_len(10 + header_block.len(), "SYN_STREAM")?;
            put_control(out, TYPE_SYN_STREAM, *flags, len);
            out.put_u32(stream_id & STREAM_ID_MASK);
            out.put_u32(associated_id & STREAM_ID_MASK);
            out.put_u8(priority << 5);
            out.put_u8(0);
            out.put_slice(header_block);
        }
        Frame::SynReply {
            stream_id,
            flags,
            header_block,
        }
        | Frame::Headers {
            stream_id,
            flags,
            header_block,
        } => {
            let frame_type = if matches!(frame, Frame::SynReply { .. }) {
                TYPE_SYN_REPLY
            } else {
                TYPE_HEADERS
            };
            let len = payload_len(4 + header_block.len(), "SYN_REPLY")?;
            put_control(out, frame_type, *flags, len);
            out.put_u32(stream_id & STREAM_ID_MASK);
            out.put_slice(header_block);
        }
        Frame::RstStream { stream_id, status } => {
            put_control(out, TYPE_RST_STREAM, 0, 8);
            out.put_u32(stream_id & STREAM_ID_MASK);
            out.put_u32(*status);
        }
        Frame::Ping { id } => {
            put_control(out, TYPE_PING, 0, 4);
            out.put_u32(*id);
        }
        Frame::GoAway {
            last_stream_id,
            status,
        } => {
            put_control(out, TYPE_GOAWAY, 0, 8);
            out.put_u32(last_stream_id & STREAM_ID_MASK);
            out.put_u32(*status);
        }
        Frame::WindowUpdate { stream_id, delta } => {
            put_control(out, TYPE_WINDOW_UPDATE, 0, 8);
            out.put_u32(stream_id & STREAM_ID_MASK);
            out.put_u32(delta & STREAM_ID_MASK);
        }
        Frame::Settings => {
            // An empty SETTINGS frame: just the entry count.
            put_control(out, TYPE_SETTINGS, 0, 4);
            out.put_u32(0);
        }
        Frame::Unknown { .. } => return Err(SpdyError::Malformed("unknown")),
    }
    Ok(())
}

fn payload_len(len: usize, frame: &'static str) -> Result<u32, SpdyError> {
    if len > MAX_PAYLOAD {
        return Err(SpdyError::Malformed(frame));
    }
    Ok(len as u32)
}

fn put_control(out: &mut BytesMut, frame_type: u16, flags: u8, len: u32) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(frame_type);
    put_flags_len(out, flags, len);
}

fn put_flags_len(out: &mut BytesMut, flags: u8, len: u32) {
    out.put_u32((u32::from(flags) << 24) | len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(frame: Frame) {
        let mut wire = BytesMut::new();
        encode(&frame, &mut wire).expect("encodes");
        let parsed = parse(&mut wire).expect("parses").expect("complete");
        assert_eq!(parsed, frame);
        assert!(wire.is_empty());
    }

    #[test]
    fn frames_round_trip() {
        round_trip(Frame::SynStream {
            stream_id: 3,
            associated_id: 0,
            priority: 0,
            flags: 0,
            header_block: Bytes::from_static(b"\x78\x01abc"),
        });
        round_trip(Frame::SynReply {
            stream_id: 1,
            flags: 0,
            header_block: Bytes::from_static(b"x"),
        });
        round_trip(Frame::Data {
            stream_id: 5,
            flags: FLAG_FIN,
            data: Bytes::from_static(b"payload"),
        });
        round_trip(Frame::RstStream {
            stream_id: 3,
            status: RST_CANCEL,
        });
        round_trip(Frame::Ping { id: 7 });
        round_trip(Frame::GoAway {
            last_stream_id: 9,
            status: 0,
        });
        round_trip(Frame::WindowUpdate {
            stream_id: 1,
            delta: 1000,
        });
    }

    #[test]
    fn known_wire_bytes_of_a_data_frame() {
        let mut wire = BytesMut::new();
        encode(
            &Frame::Data {
                stream_id: 1,
                flags: FLAG_FIN,
                data: Bytes::new(),
            },
            &mut wire,
        )
        .expect("encodes");
        assert_eq!(&wire[..], b"\x00\x00\x00\x01\x01\x00\x00\x00");
        let mut ping = BytesMut::from(&b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"[..]);
        assert_eq!(parse(&mut ping), Ok(Some(Frame::Ping { id: 1 })));
    }

    #[test]
    fn frames_split_across_arbitrary_chunks_reassemble() {
        let mut wire = BytesMut::new();
        encode(&Frame::Ping { id: 42 }, &mut wire).expect("encodes");
        encode(
            &Frame::Data {
                stream_id: 3,
                flags: 0,
                data: Bytes::from_static(b"hello"),
            },
            &mut wire,
        )
        .expect("encodes");
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for byte in wire.iter() {
            buf.put_u8(*byte);
            while let Some(frame) = parse(&mut buf).expect("parses") {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], Frame::Ping { id: 42 });
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut v2 = BytesMut::from(&b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"[..]);
        assert_eq!(parse(&mut v2), Err(SpdyError::Version(2)));
        let mut short_rst = BytesMut::from(&b"\x80\x03\x00\x03\x00\x00\x00\x02\x00\x01"[..]);
        assert_eq!(
            parse(&mut short_rst),
            Err(SpdyError::Malformed("RST_STREAM"))
        );
        let mut unknown = BytesMut::from(&b"\x80\x03\x00\x0a\x00\x00\x00\x00"[..]);
        assert_eq!(
            parse(&mut unknown),
            Ok(Some(Frame::Unknown { frame_type: 10 }))
        );
    }
}
