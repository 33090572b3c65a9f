//! The `v5.channel.k8s.io` / `v4.channel.k8s.io` framing used by exec and attach.
//!
//! Every WebSocket binary message starts with a stream id byte; the rest is payload.

use bytes::{BufMut, Bytes, BytesMut};

use crate::backend::TerminalSize;
use crate::error::StreamError;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5 only: `[255, <stream id>]` means the client closed that stream (stdin EOF).
pub const CLOSE: u8 = 255;

/// The channel protocols this server speaks, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelProtocol {
    /// v5: v4 plus the CLOSE signal, so `kubectl exec -i` and `cp` can end stdin.
    V5,
    /// v4: Status JSON on the error channel, resize channel, no stdin close.
    V4,
}

impl ChannelProtocol {
    pub const ALL: [ChannelProtocol; 2] = [ChannelProtocol::V5, ChannelProtocol::V4];

    pub fn name(self) -> &'static str {
        match self {
            ChannelProtocol::V5 => "v5.channel.k8s.io",
            ChannelProtocol::V4 => "v4.channel.k8s.io",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Build one server→client message: stream id then payload.
pub fn encode(stream: u8, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(payload.len() + 1);
    buf.put_u8(stream);
    buf.put_slice(payload);
    buf.freeze()
}

/// A decoded client→server message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    Stdin(Bytes),
    Resize(TerminalSize),
    /// The client will send no more stdin.
    CloseStdin,
    /// Empty messages, unknown stream ids and closes of other streams: nothing to do.
    Ignored,
}

/// Decode one binary message from the client.
pub fn decode(protocol: ChannelProtocol, message: Bytes) -> Result<ClientMessage, StreamError> {
    let Some(&stream) = message.first() else {
        return Ok(ClientMessage::Ignored);
    };
    let payload = message.slice(1..);
    match stream {
        STDIN => Ok(ClientMessage::Stdin(payload)),
        RESIZE => parse_resize(&payload).map(ClientMessage::Resize),
        CLOSE if protocol == ChannelProtocol::V5 => match payload.first() {
            Some(&STDIN) => Ok(ClientMessage::CloseStdin),
            _ => Ok(ClientMessage::Ignored),
        },
        _ => Ok(ClientMessage::Ignored),
    }
}

/// Parse a resize payload such as `{"Width":120,"Height":40}\n`.
pub fn parse_resize(payload: &[u8]) -> Result<TerminalSize, StreamError> {
    serde_json::from_slice(payload)
        .map_err(|e| StreamError::BadRequest(format!("invalid resize message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_prefixes_stream_id() {
        assert_eq!(&encode(STDOUT, b"hi\n")[..], b"\x01hi\n");
        assert_eq!(&encode(ERROR, b"")[..], b"\x03");
    }

    #[test]
    fn stdin_payload_is_everything_after_the_id() {
        let msg = decode(ChannelProtocol::V5, Bytes::from_static(b"\x00abc")).expect("decodes");
        assert_eq!(msg, ClientMessage::Stdin(Bytes::from_static(b"abc")));
    }

    #[test]
    fn close_signal_only_in_v5_and_only_for_stdin() {
        let close = Bytes::from_static(&[CLOSE, STDIN]);
        assert_eq!(
            decode(ChannelProtocol::V5, close.clone()),
            Ok(ClientMessage::CloseStdin)
        );
        assert_eq!(
            decode(ChannelProtocol::V4, close),
            Ok(ClientMessage::Ignored)
        );
        let other = Bytes::from_static(&[CLOSE, RESIZE]);
        assert_eq!(
            decode(ChannelProtocol::V5, other),
            Ok(ClientMessage::Ignored)
        );
    }

    #[test]
    fn resize_json_with_trailing_newline() {
        let msg = decode(
            ChannelProtocol::V5,
            Bytes::from_static(b"\x04{\"Width\":120,\"Height\":40}\n"),
        )
        .expect("decodes");
        assert_eq!(
            msg,
            ClientMessage::Resize(TerminalSize {
                width: 120,
                height: 40
            })
        );
    }

    #[test]
    fn malformed_resize_is_an_error_not_a_panic() {
        let bad = decode(
            ChannelProtocol::V5,
            Bytes::from_static(b"\x04{\"Width\":-1}"),
        );
        assert!(matches!(bad, Err(StreamError::BadRequest(_))));
    }

    #[test]
    fn empty_message_is_ignored() {
        assert_eq!(
            decode(ChannelProtocol::V5, Bytes::new()),
            Ok(ClientMessage::Ignored)
        );
    }

    #[test]
    fn protocol_names_round_trip() {
        for p in ChannelProtocol::ALL {
            assert_eq!(ChannelProtocol::from_name(p.name()), Some(p));
        }
        assert_eq!(ChannelProtocol::from_name("channel.k8s.io"), None);
    }
}
