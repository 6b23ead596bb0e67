//! The MessagePack hub protocol: binary framing and the array layout of hub messages.
//!
//! A transport frame holds one or more messages, each a VarInt length (7 bits a byte, least
//! significant first, at most 5 bytes) followed by that many bytes: one MessagePack array whose
//! first item is the message type. Transports deliver whole messages, so a frame that ends
//! inside one is an error, not a reason to wait.
//!
//! Payloads (arguments, results, items) are not decoded here: the reader finds where each one
//! ends and keeps its bytes as a [`RawMessagePack`], which JavaScript decodes with the app's
//! MessagePack options. Only the envelope is read: headers (validated, then dropped, as the JSON
//! codec ignores them), invocation and stream ids, targets, result kinds, Close, Ack and
//! Sequence.
//!
//! Hostile input: every length is checked against the bytes actually left before anything is
//! read or allocated, containers are walked without recursion, and a container claiming more
//! elements than bytes remain is refused at once, so no input costs more than linear time.
//!
//! With the `json-values` feature, `to_json` and `from_json` convert payloads between the two
//! encodings for native callers that inspect payloads as JSON (the mock hub); the browser client
//! never calls them, and its build leaves them (and serde_json) out.

use super::message::{Completion, HubMessage, Payload, RawMessagePack};
use super::ProtocolError;

/// The most bytes a VarInt length prefix may take (enough for 2^35 - 1; the protocol's limit
/// is 2 GiB).
pub const MAX_VARINT_BYTES: usize = 5;

/// How deep `to_json` (feature `json-values`) follows nested containers before it gives up.
pub const MAX_JSON_DEPTH: usize = 100;

fn malformed(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::MalformedMessagePack(detail.into())
}

// ----- framing -----------------------------------------------------------------------------

/// Splits a binary frame into the bodies of its messages, refusing a frame over `max_bytes`,
/// a truncated or overlong length prefix, and a length that runs past the frame.
pub fn split_messages(frame: &[u8], max_bytes: usize) -> Result<Vec<&[u8]>, ProtocolError> {
    if frame.len() > max_bytes {
        return Err(ProtocolError::TooLarge {
            size: frame.len(),
            limit: max_bytes,
        });
    }
    let mut bodies = Vec::new();
    let mut rest = frame;
    while !rest.is_empty() {
        let (length, prefix) = read_varint(rest)?;
        let available = rest.len() - prefix;
        if length > available as u64 {
            return Err(ProtocolError::IncompleteRecord);
        }
        // `length` fits in usize: it is at most `available`.
        let length = length as usize;
        bodies.push(&rest[prefix..prefix + length]);
        rest = &rest[prefix + length..];
    }
    Ok(bodies)
}

/// Reads a VarInt from the start of `data`: the value and how many bytes it took.
fn read_varint(data: &[u8]) -> Result<(u64, usize), ProtocolError> {
    let mut value: u64 = 0;
    for (index, byte) in data.iter().take(MAX_VARINT_BYTES).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok((value, index + 1));
        }
    }
    if data.len() < MAX_VARINT_BYTES {
        Err(ProtocolError::IncompleteRecord)
    } else {
        Err(malformed("a message length prefix is longer than 5 bytes"))
    }
}

/// Prefixes one message body with its VarInt length.
pub fn write_message(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + MAX_VARINT_BYTES);
    let mut length = body.len() as u64;
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(body);
    out
}

// ----- reading -----------------------------------------------------------------------------

/// What a MessagePack value's first bytes say it is. (Float values and extension types are
/// read only by the JSON conversion of the `json-values` feature.)
#[cfg_attr(not(feature = "json-values"), allow(dead_code))]
enum Head {
    Nil,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    /// A string of this many bytes follows.
    Str(usize),
    /// Binary data of this many bytes follows.
    Bin(usize),
    /// An array of this many elements follows.
    Array(usize),
    /// A map of this many key/value pairs follows.
    Map(usize),
    /// An extension value: its type and how many data bytes follow.
    Ext(i8, usize),
}

/// A cursor over one message body.
struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, position: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.position
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], ProtocolError> {
        if count > self.remaining() {
            return Err(malformed("a value runs past the end of the message"));
        }
        let bytes = &self.data[self.position..self.position + count];
        self.position += count;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, count: usize) -> Result<u64, ProtocolError> {
        Ok(self
            .take(count)?
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
    }

    /// A length field of `count` bytes, as usize (u32 lengths always fit on our targets).
    fn length(&mut self, count: usize) -> Result<usize, ProtocolError> {
        usize::try_from(self.be(count)?).map_err(|_| malformed("a length does not fit in memory"))
    }

    fn head(&mut self) -> Result<Head, ProtocolError> {
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Head::Unsigned(u64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Head::Str(usize::from(marker & 0x1f)),
            0xc0 => Head::Nil,
            0xc1 => return Err(malformed("0xc1 is not a MessagePack value")),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.length(1)?),
            0xc5 => Head::Bin(self.length(2)?),
            0xc6 => Head::Bin(self.length(4)?),
            0xc7 => {
                let length = self.length(1)?;
                Head::Ext(self.byte()? as i8, length)
            }
            0xc8 => {
                let length = self.length(2)?;
                Head::Ext(self.byte()? as i8, length)
            }
            0xc9 => {
                let length = self.length(4)?;
                Head::Ext(self.byte()? as i8, length)
            }
            0xca => Head::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => Head::Float(f64::from_bits(self.be(8)?)),
            0xcc => Head::Unsigned(self.be(1)?),
            0xcd => Head::Unsigned(self.be(2)?),
            0xce => Head::Unsigned(self.be(4)?),
            0xcf => Head::Unsigned(self.be(8)?),
            0xd0 => Head::Signed(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Head::Signed(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Head::Signed(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Head::Signed(self.be(8)? as i64),
            0xd4 => Head::Ext(self.byte()? as i8, 1),
            0xd5 => Head::Ext(self.byte()? as i8, 2),
            0xd6 => Head::Ext(self.byte()? as i8, 4),
            0xd7 => Head::Ext(self.byte()? as i8, 8),
            0xd8 => Head::Ext(self.byte()? as i8, 16),
            0xd9 => Head::Str(self.length(1)?),
            0xda => Head::Str(self.length(2)?),
            0xdb => Head::Str(self.length(4)?),
            0xdc => Head::Array(self.length(2)?),
            0xdd => Head::Array(self.length(4)?),
            0xde => Head::Map(self.length(2)?),
            0xdf => Head::Map(self.length(4)?),
            0xe0..=0xff => Head::Signed(i64::from(marker as i8)),
        })
    }

    /// Skips one complete value, nested containers included, without recursion.
    fn skip(&mut self) -> Result<(), ProtocolError> {
        let mut pending: usize = 1;
        while pending > 0 {
            pending -= 1;
            let contained = match self.head()? {
                Head::Str(length) | Head::Bin(length) | Head::Ext(_, length) => {
                    self.take(length)?;
                    0
                }
                Head::Array(count) => count,
                Head::Map(count) => count
                    .checked_mul(2)
                    .ok_or_else(|| malformed("a map is too large"))?,
                Head::Nil
                | Head::Bool(_)
                | Head::Unsigned(_)
                | Head::Signed(_)
                | Head::Float(_) => 0,
            };
            pending = pending
                .checked_add(contained)
                .ok_or_else(|| malformed("a container is too large"))?;
            // Every value takes at least one byte: a claim of more than remain is false.
            if pending > self.remaining() {
                return Err(malformed(
                    "a container claims more elements than the message holds",
                ));
            }
        }
        Ok(())
    }

    /// One complete value's bytes.
    fn raw(&mut self) -> Result<RawMessagePack, ProtocolError> {
        let start = self.position;
        self.skip()?;
        Ok(RawMessagePack::from_checked(
            &self.data[start..self.position],
        ))
    }

    fn array_len(
        &mut self,
        what: &'static str,
        field: &'static str,
    ) -> Result<usize, ProtocolError> {
        match self.head()? {
            Head::Array(count) if count <= self.remaining() => Ok(count),
            Head::Array(_) => Err(malformed(
                "an array claims more elements than the message holds",
            )),
            _ => Err(ProtocolError::InvalidField {
                message: what,
                field,
                expected: "an array",
            }),
        }
    }

    fn string_of(
        &mut self,
        length: usize,
        what: &'static str,
        field: &'static str,
    ) -> Result<String, ProtocolError> {
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| ProtocolError::InvalidField {
                message: what,
                field,
                expected: "UTF-8 text",
            })
    }

    fn optional_string(
        &mut self,
        what: &'static str,
        field: &'static str,
    ) -> Result<Option<String>, ProtocolError> {
        match self.head()? {
            Head::Nil => Ok(None),
            Head::Str(length) => self.string_of(length, what, field).map(Some),
            _ => Err(ProtocolError::InvalidField {
                message: what,
                field,
                expected: "a string",
            }),
        }
    }

    fn string(&mut self, what: &'static str, field: &'static str) -> Result<String, ProtocolError> {
        self.optional_string(what, field)?
            .ok_or(ProtocolError::InvalidField {
                message: what,
                field,
                expected: "a string",
            })
    }

    fn unsigned(&mut self, what: &'static str, field: &'static str) -> Result<u64, ProtocolError> {
        let expected = ProtocolError::InvalidField {
            message: what,
            field,
            expected: "a non-negative integer",
        };
        match self.head()? {
            Head::Unsigned(value) => Ok(value),
            Head::Signed(value) => u64::try_from(value).map_err(|_| expected),
            _ => Err(expected),
        }
    }

    /// The headers map: string keys and values, read and dropped.
    fn headers(&mut self, what: &'static str) -> Result<(), ProtocolError> {
        let count = match self.head()? {
            Head::Map(count) if count.saturating_mul(2) <= self.remaining() => count,
            Head::Map(_) => {
                return Err(malformed(
                    "a map claims more entries than the message holds",
                ))
            }
            _ => {
                return Err(ProtocolError::InvalidField {
                    message: what,
                    field: "headers",
                    expected: "a map",
                })
            }
        };
        for _ in 0..count {
            self.string(what, "headers")?;
            self.string(what, "headers")?;
        }
        Ok(())
    }

    /// An argument list: an array value, kept raw.
    fn arguments(&mut self, what: &'static str) -> Result<Payload, ProtocolError> {
        let start = self.position;
        if !matches!(self.data.get(start), Some(0x90..=0x9f | 0xdc | 0xdd)) {
            return Err(ProtocolError::InvalidField {
                message: what,
                field: "arguments",
                expected: "an array",
            });
        }
        self.skip()?;
        Ok(RawMessagePack::from_checked(&self.data[start..self.position]).into())
    }

    fn stream_ids(&mut self, what: &'static str) -> Result<Vec<String>, ProtocolError> {
        let count = self.array_len(what, "streamIds")?;
        let mut ids = Vec::new();
        for _ in 0..count {
            ids.push(self.string(what, "streamIds")?);
        }
        Ok(ids)
    }
}

/// Checks that `bytes` are exactly one complete MessagePack value.
pub fn check_one_value(bytes: &[u8]) -> Result<(), ProtocolError> {
    let mut reader = Reader::new(bytes);
    reader.skip()?;
    if reader.remaining() != 0 {
        return Err(malformed("bytes follow the value"));
    }
    Ok(())
}

/// Parses one message body. Returns `Ok(None)` for a message type this client does not know
/// (receivers ignore those). Items past the ones a type defines are skipped, as the protocol
/// lets later versions append items; fewer than it needs is an error.
pub fn parse_message(body: &[u8]) -> Result<Option<HubMessage>, ProtocolError> {
    let mut reader = Reader::new(body);
    let count = match reader.head()? {
        Head::Array(count) if count <= reader.remaining() => count,
        Head::Array(_) => {
            return Err(malformed(
                "an array claims more elements than the message holds",
            ))
        }
        _ => return Err(malformed("a hub message must be a MessagePack array")),
    };
    if count == 0 {
        return Err(malformed("a hub message must start with its type"));
    }
    let kind = reader.unsigned("hub", "type")?;
    let needs = |what: &'static str, least: usize| {
        if count < least {
            let mut text = ["a ", what, " message needs at least "].concat();
            super::json::push_u64(&mut text, least as u64);
            text.push_str(" items, not ");
            super::json::push_u64(&mut text, count as u64);
            Err(malformed(text))
        } else {
            Ok(())
        }
    };
    // Items read so far, type included, to skip what a later protocol version may append.
    let read;
    let message = match kind {
        1 | 4 => {
            let what = if kind == 1 {
                "Invocation"
            } else {
                "StreamInvocation"
            };
            needs(what, 5)?;
            reader.headers(what)?;
            let invocation_id = reader.optional_string(what, "invocationId")?;
            let target = reader.string(what, "target")?;
            let arguments = reader.arguments(what)?;
            let stream_ids = if count >= 6 {
                reader.stream_ids(what)?
            } else {
                Vec::new()
            };
            read = count.min(6);
            if kind == 1 {
                HubMessage::Invocation {
                    invocation_id,
                    target,
                    arguments,
                    stream_ids,
                }
            } else {
                let invocation_id = invocation_id.ok_or(ProtocolError::InvalidField {
                    message: what,
                    field: "invocationId",
                    expected: "a string",
                })?;
                HubMessage::StreamInvocation {
                    invocation_id,
                    target,
                    arguments,
                    stream_ids,
                }
            }
        }
        2 => {
            needs("StreamItem", 4)?;
            reader.headers("StreamItem")?;
            let invocation_id = reader.string("StreamItem", "invocationId")?;
            let item = reader.raw()?.into();
            read = 4;
            HubMessage::StreamItem {
                invocation_id,
                item,
            }
        }
        3 => {
            needs("Completion", 4)?;
            reader.headers("Completion")?;
            let invocation_id = reader.string("Completion", "invocationId")?;
            let completion = match reader.unsigned("Completion", "resultKind")? {
                1 => {
                    needs("Completion", 5)?;
                    read = 5;
                    Completion::Error(reader.string("Completion", "error")?)
                }
                2 => {
                    read = 4;
                    Completion::Void
                }
                3 => {
                    needs("Completion", 5)?;
                    read = 5;
                    Completion::Result(reader.raw()?.into())
                }
                _ => {
                    return Err(ProtocolError::InvalidField {
                        message: "Completion",
                        field: "resultKind",
                        expected: "1 (error), 2 (void) or 3 (result)",
                    })
                }
            };
            HubMessage::Completion {
                invocation_id,
                completion,
            }
        }
        5 => {
            needs("CancelInvocation", 3)?;
            reader.headers("CancelInvocation")?;
            read = 3;
            HubMessage::CancelInvocation {
                invocation_id: reader.string("CancelInvocation", "invocationId")?,
            }
        }
        6 => {
            read = 1;
            HubMessage::Ping
        }
        7 => {
            needs("Close", 2)?;
            let error = reader.optional_string("Close", "error")?;
            let allow_reconnect = if count >= 3 {
                match reader.head()? {
                    Head::Bool(allow) => allow,
                    Head::Nil => false,
                    _ => {
                        return Err(ProtocolError::InvalidField {
                            message: "Close",
                            field: "allowReconnect",
                            expected: "a boolean",
                        })
                    }
                }
            } else {
                false
            };
            read = count.min(3);
            HubMessage::Close {
                error,
                allow_reconnect,
            }
        }
        8 | 9 => {
            let what = if kind == 8 { "Ack" } else { "Sequence" };
            needs(what, 2)?;
            let sequence_id = reader.unsigned(what, "sequenceId")?;
            read = 2;
            if kind == 8 {
                HubMessage::Ack { sequence_id }
            } else {
                HubMessage::Sequence { sequence_id }
            }
        }
        _ => return Ok(None),
    };
    for _ in read..count {
        reader.skip()?;
    }
    if reader.remaining() != 0 {
        return Err(malformed("bytes follow the message array"));
    }
    Ok(Some(message))
}

/// Parses a whole binary transport frame: every message in order, unknown types skipped. The
/// first bad message fails the frame.
pub fn parse_frame(frame: &[u8], max_bytes: usize) -> Result<Vec<HubMessage>, ProtocolError> {
    let mut messages = Vec::new();
    for body in split_messages(frame, max_bytes)? {
        if let Some(message) = parse_message(body)? {
            messages.push(message);
        }
    }
    Ok(messages)
}

// ----- writing -----------------------------------------------------------------------------

fn write_array_header(out: &mut Vec<u8>, count: usize) {
    match count {
        0..=15 => out.push(0x90 | count as u8),
        16..=0xffff => {
            out.push(0xdc);
            out.extend_from_slice(&(count as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdd);
            out.extend_from_slice(&(count as u32).to_be_bytes());
        }
    }
}

// Used by the JSON conversion of the `json-values` feature only.
#[cfg(feature = "json-values")]
fn write_map_header(out: &mut Vec<u8>, count: usize) {
    match count {
        0..=15 => out.push(0x80 | count as u8),
        16..=0xffff => {
            out.push(0xde);
            out.extend_from_slice(&(count as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdf);
            out.extend_from_slice(&(count as u32).to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    let length = text.len();
    match length {
        0..=31 => out.push(0xa0 | length as u8),
        32..=0xff => out.extend_from_slice(&[0xd9, length as u8]),
        0x100..=0xffff => {
            out.push(0xda);
            out.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdb);
            out.extend_from_slice(&(length as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(text.as_bytes());
}

fn write_optional_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_str(out, text),
        None => out.push(0xc0),
    }
}

fn write_unsigned(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=0x7f => out.push(value as u8),
        0x80..=0xff => out.extend_from_slice(&[0xcc, value as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(0xcf);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

// Used by the JSON conversion of the `json-values` feature only.
#[cfg(feature = "json-values")]
fn write_signed(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        return write_unsigned(out, value as u64);
    }
    match value {
        -32..=-1 => out.push(value as i8 as u8),
        -0x80..=-33 => out.extend_from_slice(&[0xd0, value as i8 as u8]),
        -0x8000..=-0x81 => {
            out.push(0xd1);
            out.extend_from_slice(&(value as i16).to_be_bytes());
        }
        -0x8000_0000..=-0x8001 => {
            out.push(0xd2);
            out.extend_from_slice(&(value as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// Writes a payload's bytes. A JSON payload has no MessagePack bytes: it is written as `nil`
/// (a connection never mixes protocols; see [`Payload`]).
fn write_payload(out: &mut Vec<u8>, payload: &Payload) {
    match payload.as_msgpack() {
        Some(bytes) => out.extend_from_slice(bytes.as_bytes()),
        None => out.push(0xc0),
    }
}

/// The body of one message (without its length prefix), in the array layout of the protocol.
/// Headers are written as an empty map; an Invocation carries its stream ids only when it has
/// some, as the official client writes it.
pub fn encode_body(message: &HubMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    let kind = u64::from(message.type_id());
    let invocation = |out: &mut Vec<u8>,
                      id: Option<&str>,
                      target: &str,
                      arguments: &Payload,
                      streams: &[String]| {
        write_array_header(out, if streams.is_empty() { 5 } else { 6 });
        write_unsigned(out, kind);
        out.push(0x80);
        write_optional_str(out, id);
        write_str(out, target);
        write_payload(out, arguments);
        if !streams.is_empty() {
            write_array_header(out, streams.len());
            for id in streams {
                write_str(out, id);
            }
        }
    };
    match message {
        HubMessage::Invocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => invocation(
            &mut out,
            invocation_id.as_deref(),
            target,
            arguments,
            stream_ids,
        ),
        HubMessage::StreamInvocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => invocation(&mut out, Some(invocation_id), target, arguments, stream_ids),
        HubMessage::StreamItem {
            invocation_id,
            item,
        } => {
            write_array_header(&mut out, 4);
            write_unsigned(&mut out, kind);
            out.push(0x80);
            write_str(&mut out, invocation_id);
            write_payload(&mut out, item);
        }
        HubMessage::Completion {
            invocation_id,
            completion,
        } => {
            write_array_header(
                &mut out,
                if completion == &Completion::Void {
                    4
                } else {
                    5
                },
            );
            write_unsigned(&mut out, kind);
            out.push(0x80);
            write_str(&mut out, invocation_id);
            match completion {
                Completion::Error(error) => {
                    write_unsigned(&mut out, 1);
                    write_str(&mut out, error);
                }
                Completion::Void => write_unsigned(&mut out, 2),
                Completion::Result(result) => {
                    write_unsigned(&mut out, 3);
                    write_payload(&mut out, result);
                }
            }
        }
        HubMessage::CancelInvocation { invocation_id } => {
            write_array_header(&mut out, 3);
            write_unsigned(&mut out, kind);
            out.push(0x80);
            write_str(&mut out, invocation_id);
        }
        HubMessage::Ping => out.extend_from_slice(&[0x91, 0x06]),
        HubMessage::Close {
            error,
            allow_reconnect,
        } => {
            write_array_header(&mut out, if *allow_reconnect { 3 } else { 2 });
            write_unsigned(&mut out, kind);
            write_optional_str(&mut out, error.as_deref());
            if *allow_reconnect {
                out.push(0xc3);
            }
        }
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
            write_array_header(&mut out, 2);
            write_unsigned(&mut out, kind);
            write_unsigned(&mut out, *sequence_id);
        }
    }
    out
}

/// One message, framed (length prefix and body), ready to send.
pub fn encode(message: &HubMessage) -> Vec<u8> {
    write_message(&encode_body(message))
}

// ----- JSON conversion (native callers) ----------------------------------------------------

#[cfg(feature = "json-values")]
/// Converts one MessagePack value to JSON: maps with string keys become objects (other keys
/// are written as their JSON text), binary data becomes base64 text (as a .NET hub's JSON
/// protocol carries `byte[]`), extension values become `null`. Fails beyond
/// [`MAX_JSON_DEPTH`] levels of nesting.
pub fn to_json(value: &RawMessagePack) -> Result<serde_json::Value, ProtocolError> {
    to_json_as(value, false)
}

#[cfg(feature = "json-values")]
/// Like [`to_json`], but reversible by [`from_tagged_json`]: binary data becomes
/// `{"$binary": base64}` and an extension value `{"$ext": type, "$data": base64}` (timestamps
/// are extension type -1). For native tools that handle payloads as JSON and must hand them back
/// unchanged, such as the mock hub echoing what a client sent.
pub fn to_tagged_json(value: &RawMessagePack) -> Result<serde_json::Value, ProtocolError> {
    to_json_as(value, true)
}

#[cfg(feature = "json-values")]
fn to_json_as(value: &RawMessagePack, tagged: bool) -> Result<serde_json::Value, ProtocolError> {
    let mut reader = Reader::new(value.as_bytes());
    let json = read_json(&mut reader, 0, tagged)?;
    if reader.remaining() != 0 {
        return Err(malformed("bytes follow the value"));
    }
    Ok(json)
}

#[cfg(feature = "json-values")]
fn read_json(reader: &mut Reader<'_>, depth: usize, tagged: bool) -> Result<serde_json::Value, ProtocolError> {
    use serde_json::Value;
    if depth > MAX_JSON_DEPTH {
        return Err(malformed("values are nested too deeply"));
    }
    Ok(match reader.head()? {
        Head::Nil => Value::Null,
        Head::Bool(value) => Value::Bool(value),
        Head::Unsigned(value) => Value::from(value),
        Head::Signed(value) => Value::from(value),
        Head::Float(value) => {
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
        }
        Head::Str(length) => Value::String(reader.string_of(length, "value", "string")?),
        Head::Bin(length) if tagged => serde_json::json!({ "$binary": base64(reader.take(length)?) }),
        Head::Bin(length) => Value::String(base64(reader.take(length)?)),
        Head::Ext(kind, length) if tagged => {
            serde_json::json!({ "$ext": kind, "$data": base64(reader.take(length)?) })
        }
        Head::Ext(_, length) => {
            reader.take(length)?;
            Value::Null
        }
        Head::Array(count) => {
            if count > reader.remaining() {
                return Err(malformed(
                    "an array claims more elements than the message holds",
                ));
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(read_json(reader, depth + 1, tagged)?);
            }
            Value::Array(items)
        }
        Head::Map(count) => {
            if count.saturating_mul(2) > reader.remaining() {
                return Err(malformed(
                    "a map claims more entries than the message holds",
                ));
            }
            let mut object = serde_json::Map::new();
            for _ in 0..count {
                let key = match read_json(reader, depth + 1, tagged)? {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                object.insert(key, read_json(reader, depth + 1, tagged)?);
            }
            Value::Object(object)
        }
    })
}

#[cfg(feature = "json-values")]
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (index, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(feature = "json-values")]
/// Converts a JSON value to MessagePack: integers as the smallest integer format, other
/// numbers as 64-bit floats, objects as maps with string keys.
pub fn from_json(value: &serde_json::Value) -> RawMessagePack {
    let mut out = Vec::new();
    write_json(&mut out, value, false);
    RawMessagePack::from_checked(&out)
}

#[cfg(feature = "json-values")]
/// The inverse of [`to_tagged_json`]: `{"$binary": base64}` objects become binary data and
/// `{"$ext": type, "$data": base64}` objects extension values; everything else as [`from_json`].
pub fn from_tagged_json(value: &serde_json::Value) -> RawMessagePack {
    let mut out = Vec::new();
    write_json(&mut out, value, true);
    RawMessagePack::from_checked(&out)
}

#[cfg(feature = "json-values")]
/// The bytes of a tagged binary or extension object, with the extension type.
fn tagged_bytes(object: &serde_json::Map<String, serde_json::Value>) -> Option<(Option<i8>, Vec<u8>)> {
    match (object.len(), object.get("$binary"), object.get("$ext"), object.get("$data")) {
        (1, Some(serde_json::Value::String(data)), _, _) => Some((None, unbase64(data)?)),
        (2, None, Some(kind), Some(serde_json::Value::String(data))) => {
            let kind = i8::try_from(kind.as_i64()?).ok()?;
            Some((Some(kind), unbase64(data)?))
        }
        _ => None,
    }
}

#[cfg(feature = "json-values")]
fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut bits: u32 = 0;
    let mut count = 0;
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

#[cfg(feature = "json-values")]
fn write_bin(out: &mut Vec<u8>, kind: Option<i8>, data: &[u8]) {
    let length = data.len();
    match kind {
        None => match length {
            0..=0xff => out.extend_from_slice(&[0xc4, length as u8]),
            0x100..=0xffff => {
                out.push(0xc5);
                out.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                out.push(0xc6);
                out.extend_from_slice(&(length as u32).to_be_bytes());
            }
        },
        Some(kind) => {
            match length {
                1 => out.push(0xd4),
                2 => out.push(0xd5),
                4 => out.push(0xd6),
                8 => out.push(0xd7),
                16 => out.push(0xd8),
                0..=0xff => out.extend_from_slice(&[0xc7, length as u8]),
                0x100..=0xffff => {
                    out.push(0xc8);
                    out.extend_from_slice(&(length as u16).to_be_bytes());
                }
                _ => {
                    out.push(0xc9);
                    out.extend_from_slice(&(length as u32).to_be_bytes());
                }
            }
            out.push(kind as u8);
        }
    }
    out.extend_from_slice(data);
}

#[cfg(feature = "json-values")]
fn write_json(out: &mut Vec<u8>, value: &serde_json::Value, tagged: bool) {
    use serde_json::Value;
    if let (true, Value::Object(object)) = (tagged, value) {
        if let Some((kind, data)) = tagged_bytes(object) {
            return write_bin(out, kind, &data);
        }
    }
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(false) => out.push(0xc2),
        Value::Bool(true) => out.push(0xc3),
        Value::Number(number) => {
            if let Some(value) = number.as_u64() {
                write_unsigned(out, value);
            } else if let Some(value) = number.as_i64() {
                write_signed(out, value);
            } else {
                out.push(0xcb);
                out.extend_from_slice(&number.as_f64().unwrap_or(0.0).to_bits().to_be_bytes());
            }
        }
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            write_array_header(out, items.len());
            for item in items {
                write_json(out, item, tagged);
            }
        }
        Value::Object(object) => {
            write_map_header(out, object.len());
            for (key, item) in object {
                write_str(out, key);
                write_json(out, item, tagged);
            }
        }
    }
}

#[cfg(feature = "json-values")]
/// [`to_tagged_json`] as JSON text, with map entries in their MessagePack order (a
/// `serde_json::Value` would sort them).
pub fn to_tagged_json_text(value: &RawMessagePack) -> Result<String, ProtocolError> {
    let mut reader = Reader::new(value.as_bytes());
    let mut out = String::new();
    write_json_text(&mut reader, 0, &mut out)?;
    if reader.remaining() != 0 {
        return Err(malformed("bytes follow the value"));
    }
    Ok(out)
}

#[cfg(feature = "json-values")]
fn write_json_text(reader: &mut Reader<'_>, depth: usize, out: &mut String) -> Result<(), ProtocolError> {
    use serde_json::Value;
    if depth > MAX_JSON_DEPTH {
        return Err(malformed("values are nested too deeply"));
    }
    let push_json = |out: &mut String, value: &Value| out.push_str(&value.to_string());
    let start = reader.position;
    match reader.head()? {
        Head::Array(count) => {
            if count > reader.remaining() {
                return Err(malformed("an array claims more elements than the message holds"));
            }
            out.push('[');
            for index in 0..count {
                if index > 0 {
                    out.push(',');
                }
                write_json_text(reader, depth + 1, out)?;
            }
            out.push(']');
        }
        Head::Map(count) => {
            if count.saturating_mul(2) > reader.remaining() {
                return Err(malformed("a map claims more entries than the message holds"));
            }
            out.push('{');
            for index in 0..count {
                if index > 0 {
                    out.push(',');
                }
                let key = match read_json(reader, depth + 1, true)? {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                push_json(out, &Value::String(key));
                out.push(':');
                write_json_text(reader, depth + 1, out)?;
            }
            out.push('}');
        }
        _ => {
            // A scalar (or binary/extension data, tagged): read again whole, as `read_json` does.
            reader.position = start;
            let value = read_json(reader, depth, true)?;
            push_json(out, &value);
        }
    }
    Ok(())
}

#[cfg(feature = "json-values")]
/// [`from_tagged_json`] from JSON text, keeping object entries in their text order.
pub fn from_tagged_json_text(text: &str) -> Result<RawMessagePack, ProtocolError> {
    use serde::Deserializer as _;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let bytes = deserializer
        .deserialize_any(MessagePackVisitor)
        .map_err(|e| ProtocolError::MalformedJson(e.to_string()))?;
    deserializer.end().map_err(|e| ProtocolError::MalformedJson(e.to_string()))?;
    Ok(RawMessagePack::from_checked(&bytes))
}

#[cfg(feature = "json-values")]
/// Writes each JSON value as MessagePack while serde_json parses it, so objects keep their order.
struct MessagePackVisitor;

#[cfg(feature = "json-values")]
impl<'de> serde::de::Visitor<'de> for MessagePackVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Vec<u8>, E> {
        Ok(vec![0xc0])
    }

    fn visit_bool<E>(self, value: bool) -> Result<Vec<u8>, E> {
        Ok(vec![if value { 0xc3 } else { 0xc2 }])
    }

    fn visit_u64<E>(self, value: u64) -> Result<Vec<u8>, E> {
        let mut out = Vec::new();
        write_unsigned(&mut out, value);
        Ok(out)
    }

    fn visit_i64<E>(self, value: i64) -> Result<Vec<u8>, E> {
        let mut out = Vec::new();
        write_signed(&mut out, value);
        Ok(out)
    }

    fn visit_f64<E>(self, value: f64) -> Result<Vec<u8>, E> {
        let mut out = vec![0xcb];
        out.extend_from_slice(&value.to_bits().to_be_bytes());
        Ok(out)
    }

    fn visit_str<E>(self, value: &str) -> Result<Vec<u8>, E> {
        let mut out = Vec::new();
        write_str(&mut out, value);
        Ok(out)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut items = Vec::new();
        let mut count = 0;
        while let Some(item) = seq.next_element_seed(Seed)? {
            items.extend(item);
            count += 1;
        }
        let mut out = Vec::with_capacity(items.len() + 5);
        write_array_header(&mut out, count);
        out.extend(items);
        Ok(out)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<u8>, A::Error> {
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed)?;
            entries.push((key, value));
        }
        let text_of = |bytes: &[u8]| -> Option<String> {
            let mut reader = Reader::new(bytes);
            match reader.head().ok()? {
                Head::Str(length) => reader.string_of(length, "value", "string").ok(),
                _ => None,
            }
        };
        let mut out = Vec::new();
        match entries.as_slice() {
            [(key, value)] if key == "$binary" => {
                if let Some(data) = text_of(value).and_then(|t| unbase64(&t)) {
                    write_bin(&mut out, None, &data);
                    return Ok(out);
                }
            }
            [(k1, kind), (k2, data)] | [(k2, data), (k1, kind)] if k1 == "$ext" && k2 == "$data" => {
                let mut reader = Reader::new(kind);
                let kind = match reader.head() {
                    Ok(Head::Unsigned(n)) => i8::try_from(n).ok(),
                    Ok(Head::Signed(n)) => i8::try_from(n).ok(),
                    _ => None,
                };
                if let (Some(kind), Some(data)) = (kind, text_of(data).and_then(|t| unbase64(&t))) {
                    write_bin(&mut out, Some(kind), &data);
                    return Ok(out);
                }
            }
            _ => {}
        }
        write_map_header(&mut out, entries.len());
        for (key, value) in entries {
            write_str(&mut out, &key);
            out.extend(value);
        }
        Ok(out)
    }
}

#[cfg(feature = "json-values")]
struct Seed;

#[cfg(feature = "json-values")]
impl<'de> serde::de::DeserializeSeed<'de> for Seed {
    type Value = Vec<u8>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_any(MessagePackVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(bytes: &[u8]) -> Payload {
        RawMessagePack::parse(bytes.to_vec()).unwrap().into()
    }

    /// The examples of the protocol specification, byte for byte, both ways.
    #[test]
    fn the_specification_examples_parse_and_encode_to_the_same_bytes() {
        let cases: Vec<(&[u8], HubMessage)> = vec![
            (
                &[
                    0x96, 0x01, 0x80, 0xa3, b'x', b'y', b'z', 0xa6, b'm', b'e', b't', b'h', b'o',
                    b'd', 0x91, 0x2a, 0x90,
                ],
                HubMessage::Invocation {
                    invocation_id: Some("xyz".into()),
                    target: "method".into(),
                    arguments: raw(&[0x91, 0x2a]),
                    stream_ids: vec![],
                },
            ),
            (
                &[0x94, 0x02, 0x80, 0xa3, b'x', b'y', b'z', 0x2a],
                HubMessage::StreamItem {
                    invocation_id: "xyz".into(),
                    item: raw(&[0x2a]),
                },
            ),
            (
                &[
                    0x95, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x01, 0xa5, b'E', b'r', b'r', b'o',
                    b'r',
                ],
                HubMessage::Completion {
                    invocation_id: "xyz".into(),
                    completion: Completion::Error("Error".into()),
                },
            ),
            (
                &[0x94, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x02],
                HubMessage::Completion {
                    invocation_id: "xyz".into(),
                    completion: Completion::Void,
                },
            ),
            (
                &[0x95, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x03, 0x2a],
                HubMessage::Completion {
                    invocation_id: "xyz".into(),
                    completion: Completion::Result(raw(&[0x2a])),
                },
            ),
            (
                &[0x93, 0x05, 0x80, 0xa3, b'x', b'y', b'z'],
                HubMessage::CancelInvocation {
                    invocation_id: "xyz".into(),
                },
            ),
            (&[0x91, 0x06], HubMessage::Ping),
            (
                &[0x92, 0x07, 0xa3, b'x', b'y', b'z'],
                HubMessage::Close {
                    error: Some("xyz".into()),
                    allow_reconnect: false,
                },
            ),
            (
                &[0x93, 0x07, 0xa3, b'x', b'y', b'z', 0xc3],
                HubMessage::Close {
                    error: Some("xyz".into()),
                    allow_reconnect: true,
                },
            ),
            (
                &[0x92, 0x08, 0xcc, 0x24],
                HubMessage::Ack { sequence_id: 0x24 },
            ),
            (
                &[0x92, 0x09, 0x13],
                HubMessage::Sequence { sequence_id: 0x13 },
            ),
        ];
        for (bytes, message) in cases {
            assert_eq!(
                parse_message(bytes),
                Ok(Some(message.clone())),
                "{bytes:02x?}"
            );
            let again = parse_message(&encode_body(&message)).unwrap();
            assert_eq!(again, Some(message));
        }
        // Only the specification's Invocation with an empty stream id list differs: we write
        // five items, as the official client does.
        let streamless = &[
            0x95, 0x01, 0x80, 0xc0, 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a,
        ];
        let message = parse_message(streamless).unwrap().unwrap();
        assert_eq!(encode_body(&message), streamless.to_vec());
    }

    #[test]
    fn headers_are_read_and_dropped() {
        let bytes = [
            0x96, 0x01, 0x82, 0xa1, b'x', 0xa1, b'y', 0xa1, b'z', 0xa1, b'z', 0xa3, b'x', b'y',
            b'z', 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90,
        ];
        let Some(HubMessage::Invocation { target, .. }) = parse_message(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(target, "method");
        let mut bad = bytes;
        bad[5] = 0x2a; // a header value that is not a string
        assert!(parse_message(&bad).is_err());
    }

    #[test]
    fn stream_ids_are_read_when_present() {
        let bytes = [
            0x96, 0x04, 0x80, 0xa1, b'1', 0xa1, b'm', 0x90, 0x92, 0xa1, b'2', 0xa1, b'3',
        ];
        let Some(HubMessage::StreamInvocation { stream_ids, .. }) = parse_message(&bytes).unwrap()
        else {
            panic!()
        };
        assert_eq!(stream_ids, vec!["2".to_string(), "3".to_string()]);
    }

    #[test]
    fn varint_lengths_frame_several_messages() {
        let mut frame = encode(&HubMessage::Ping);
        let long = HubMessage::Close {
            error: Some("e".repeat(200)),
            allow_reconnect: false,
        };
        frame.extend(encode(&long));
        // 200 + 4 bytes of body need a two-byte length.
        assert_eq!(&frame[3..5], &[0xcc, 0x01]);
        assert_eq!(
            parse_frame(&frame, 1 << 20).unwrap(),
            vec![HubMessage::Ping, long]
        );
        assert_eq!(read_varint(&[0x80, 0x29]), Ok((0x1480, 2)));
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0x07]),
            Ok((0x7fff_ffff, 5))
        );
    }

    #[test]
    fn bad_frames_are_errors() {
        let cases: &[(&str, &[u8])] = &[
            ("truncated varint", &[0x80]),
            ("overlong varint", &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            ("length past the frame", &[0x05, 0x91, 0x06]),
            ("huge claimed length", &[0xff, 0xff, 0xff, 0xff, 0x0f, 0x91]),
            (
                "message split across frames",
                &[0x02, 0x91, 0x06, 0x02, 0x91],
            ),
        ];
        for (what, frame) in cases {
            assert!(parse_frame(frame, 1 << 20).is_err(), "{what}");
        }
        assert_eq!(
            parse_frame(&[0; 10], 5),
            Err(ProtocolError::TooLarge { size: 10, limit: 5 })
        );
    }

    #[test]
    fn bad_messages_are_errors() {
        let cases: &[(&str, &[u8])] = &[
            ("empty body", &[]),
            ("a map where the array belongs", &[0x81, 0x01, 0x06]),
            ("an empty array", &[0x90]),
            ("a type that is no integer", &[0x91, 0xa1, b'6']),
            ("too few items", &[0x93, 0x01, 0x80, 0xc0]),
            (
                "arguments that are a map",
                &[0x95, 0x01, 0x80, 0xc0, 0xa1, b'm', 0x80],
            ),
            (
                "headers that are an array",
                &[0x95, 0x01, 0x90, 0xc0, 0xa1, b'm', 0x90],
            ),
            ("a huge array claim", &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]),
            (
                "a huge string claim",
                &[0x92, 0x07, 0xdb, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                "a huge nested claim",
                &[
                    0x95, 0x01, 0x80, 0xc0, 0xa1, b'm', 0xdd, 0x7f, 0xff, 0xff, 0xff,
                ],
            ),
            (
                "an unknown result kind",
                &[0x95, 0x03, 0x80, 0xa1, b'1', 0x07, 0x2a],
            ),
            (
                "an error result without its error",
                &[0x94, 0x03, 0x80, 0xa1, b'1', 0x01],
            ),
            (
                "a stream invocation without id",
                &[0x95, 0x04, 0x80, 0xc0, 0xa1, b'm', 0x90],
            ),
            ("a negative sequence id", &[0x92, 0x08, 0xff]),
            ("trailing bytes", &[0x91, 0x06, 0x06]),
            ("invalid UTF-8", &[0x92, 0x07, 0xa1, 0xff]),
            ("the never-used marker", &[0x92, 0x07, 0xc1]),
        ];
        for (what, body) in cases {
            assert!(
                parse_message(body).is_err(),
                "{what}: {:?}",
                parse_message(body)
            );
        }
    }

    #[test]
    fn unknown_types_are_skipped_and_extra_items_ignored() {
        assert_eq!(parse_message(&[0x92, 0x63, 0x01]), Ok(None));
        assert_eq!(
            parse_message(&[0x93, 0x06, 0x01, 0x02]),
            Ok(Some(HubMessage::Ping))
        );
    }

    #[test]
    fn raw_values_must_be_exactly_one_value() {
        assert!(RawMessagePack::parse(vec![0x92, 0x01]).is_err());
        assert!(RawMessagePack::parse(vec![0x01, 0x02]).is_err());
        assert!(RawMessagePack::parse(vec![0x92, 0x01, 0xc4, 0x01, 0xff]).is_ok());
    }

    #[cfg(feature = "json-values")]
    #[test]
    fn json_conversion_keeps_values() {
        let value = serde_json::json!({"a": [1, -2, 3.5, "x", null, true], "b": {"c": 18446744073709551615u64}, "d": -9007199254740993i64});
        assert_eq!(to_json(&from_json(&value)).unwrap(), value);
        let bin = RawMessagePack::parse(vec![0xc4, 0x03, 1, 2, 3]).unwrap();
        assert_eq!(to_json(&bin).unwrap(), serde_json::json!("AQID"));
        let tagged = RawMessagePack::parse(vec![0x92, 0xc4, 0x03, 1, 2, 3, 0xd6, 0xff, 0, 0, 0, 9]).unwrap();
        let json = to_tagged_json(&tagged).unwrap();
        assert_eq!(json, serde_json::json!([{"$binary": "AQID"}, {"$ext": -1, "$data": "AAAACQ=="}]));
        assert_eq!(from_tagged_json(&json), tagged);
        let ordered = RawMessagePack::parse(vec![0x82, 0xa1, b'z', 0x01, 0xa1, b'a', 0xc4, 0x01, 0x05]).unwrap();
        let text = to_tagged_json_text(&ordered).unwrap();
        assert_eq!(text, r#"{"z":1,"a":{"$binary":"BQ=="}}"#);
        assert_eq!(from_tagged_json_text(&text).unwrap(), ordered);
        assert_eq!(to_tagged_json_text(&tagged).unwrap(), r#"[{"$binary":"AQID"},{"$data":"AAAACQ==","$ext":-1}]"#);
        assert_eq!(from_tagged_json_text(r#"[{"$binary":"AQID"},{"$data":"AAAACQ==","$ext":-1}]"#).unwrap(), tagged);
        let mut deep = vec![0x91; MAX_JSON_DEPTH + 5];
        deep.push(0xc0);
        assert!(to_json(&RawMessagePack::parse(deep).unwrap()).is_err());
    }
}
