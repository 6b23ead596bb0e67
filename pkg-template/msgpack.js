// hubwire/msgpack: the MessagePack hub protocol, as `@microsoft/signalr-protocol-msgpack`
// exports it. `withHubProtocol(new MessagePackHubProtocol(options))` makes a connection speak
// MessagePack: hubwire's core reads the message envelopes and the binary framing, and hands every
// payload (arguments, results, stream items) to the encoder and decoder built here, with the
// options the app gave, so values arrive in the official package's shapes (maps as objects,
// binary as Uint8Array, timestamps as its extension codec says).
//
// Only this entry imports @msgpack/msgpack: an app that never imports hubwire/msgpack bundles
// none of it.

import { Decoder, Encoder } from "@msgpack/msgpack";
import { LogLevel, MessageType, NullLogger, TransferFormat } from "./signalr-api.js";
// The wasm module with the MessagePack codec: imported here so only apps that import
// hubwire/msgpack bundle it (connections with this protocol are built on it).
import { fullModule } from "./wasm-full.js";

/** Where the JS entry finds a protocol's payload codec (shared by name across modules). */
const PAYLOAD_CODEC = Symbol.for("hubwire.payloadCodec");

const ERROR_RESULT = 1;
const VOID_RESULT = 2;
const NON_VOID_RESULT = 3;

/** The MessagePack hub protocol: `name` "messagepack", version 2, binary transfer format. */
export class MessagePackHubProtocol {
  /** The protocol's name in the handshake. */
  name = "messagepack";
  /** The protocol version. */
  version = 2;
  /** MessagePack is binary. */
  transferFormat = TransferFormat.Binary;
  #encoder;
  #decoder;

  /** `messagePackOptions`: the official package's `MessagePackOptions` for @msgpack/msgpack. */
  constructor(messagePackOptions) {
    const o = messagePackOptions || {};
    this.#encoder = new Encoder(
      o.extensionCodec,
      o.context,
      o.maxDepth,
      o.initialBufferSize,
      o.sortKeys,
      o.forceFloat32,
      o.ignoreUndefined,
      o.forceIntegerToFloat,
    );
    this.#decoder = new Decoder(o.extensionCodec, o.context, o.maxStrLength, o.maxBinLength, o.maxArrayLength, o.maxMapLength, o.maxExtLength);
    const encoder = this.#encoder;
    const decoder = this.#decoder;
    Object.defineProperty(this, PAYLOAD_CODEC, {
      // The encoder reuses its buffer: the core copies the bytes before the next call.
      value: Object.freeze({ encode: (value) => encoder.encode(value), decode: (bytes) => decoder.decode(bytes), module: fullModule }),
    });
  }

  /** The messages of one binary frame (an ArrayBuffer); throws on a malformed one. */
  parseMessages(input, logger) {
    if (!isArrayBuffer(input)) throw new Error("Invalid input for MessagePack hub protocol. Expected an ArrayBuffer.");
    const log = logger ?? NullLogger.instance;
    const messages = [];
    for (const body of splitFrame(new Uint8Array(input))) {
      const message = this.#parse(body, log);
      if (message) messages.push(message);
    }
    return messages;
  }

  #parse(body, logger) {
    if (body.length === 0) throw new Error("Invalid payload.");
    const items = this.#decoder.decode(body);
    if (!Array.isArray(items) || items.length === 0) throw new Error("Invalid payload.");
    const need = (count, name) => {
      if (items.length < count) throw new Error(`Invalid payload for ${name} message.`);
    };
    const headers = () => {
      if (typeof items[1] !== "object") throw new Error("Invalid headers.");
      return items[1];
    };
    switch (items[0]) {
      case MessageType.Invocation: {
        need(5, "Invocation");
        const message = { arguments: items[4], headers: headers(), streamIds: [], target: items[3], type: MessageType.Invocation };
        if (items[2]) message.invocationId = items[2];
        return message;
      }
      case MessageType.StreamItem:
        need(4, "StreamItem");
        return { headers: headers(), invocationId: items[2], item: items[3], type: MessageType.StreamItem };
      case MessageType.Completion: {
        need(4, "Completion");
        const kind = items[3];
        if (kind !== VOID_RESULT) need(5, "Completion");
        return {
          error: kind === ERROR_RESULT ? items[4] : undefined,
          headers: headers(),
          invocationId: items[2],
          result: kind === NON_VOID_RESULT ? items[4] : undefined,
          type: MessageType.Completion,
        };
      }
      case MessageType.Ping:
        return { type: MessageType.Ping };
      case MessageType.Close:
        need(2, "Close");
        return { allowReconnect: items.length >= 3 ? items[2] : undefined, error: items[1], type: MessageType.Close };
      case MessageType.Ack:
        return { sequenceId: items[1], type: MessageType.Ack };
      case MessageType.Sequence:
        return { sequenceId: items[1], type: MessageType.Sequence };
      default:
        logger.log(LogLevel.Information, `Unknown message type '${items[0]}' ignored.`);
        return null;
    }
  }

  /** One message as a binary frame (an ArrayBuffer: length prefix and body). */
  writeMessage(message) {
    const encode = (items) => frame(this.#encoder.encode(items).slice());
    const headers = message.headers || {};
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation: {
        const items = [message.type, headers, message.invocationId || null, message.target, message.arguments];
        if (message.streamIds) items.push(message.streamIds);
        return encode(items);
      }
      case MessageType.StreamItem:
        return encode([MessageType.StreamItem, headers, message.invocationId, message.item]);
      case MessageType.Completion: {
        const kind = message.error ? ERROR_RESULT : message.result !== undefined ? NON_VOID_RESULT : VOID_RESULT;
        const items = [MessageType.Completion, headers, message.invocationId, kind];
        if (kind === ERROR_RESULT) items.push(message.error);
        if (kind === NON_VOID_RESULT) items.push(message.result);
        return encode(items);
      }
      case MessageType.Ping:
        return frame(new Uint8Array([0x91, MessageType.Ping]));
      case MessageType.CancelInvocation:
        return encode([MessageType.CancelInvocation, headers, message.invocationId]);
      case MessageType.Close:
        return encode([MessageType.Close, null]);
      case MessageType.Ack:
        return encode([MessageType.Ack, message.sequenceId]);
      case MessageType.Sequence:
        return encode([MessageType.Sequence, message.sequenceId]);
      default:
        throw new Error("Invalid message type.");
    }
  }
}

function isArrayBuffer(value) {
  return value instanceof ArrayBuffer || Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

/** The message bodies of a frame: VarInt length (at most 5 bytes) then that many bytes each. */
function splitFrame(bytes) {
  const bodies = [];
  let at = 0;
  while (at < bytes.length) {
    let length = 0;
    let size = 0;
    let byte;
    do {
      if (size === 5 || at + size >= bytes.length) throw new Error("Cannot read message size.");
      byte = bytes[at + size];
      length += (byte & 0x7f) * 2 ** (7 * size);
      size++;
    } while (byte & 0x80);
    if (at + size + length > bytes.length) throw new Error("Incomplete message.");
    bodies.push(bytes.subarray(at + size, at + size + length));
    at += size + length;
  }
  return bodies;
}

/** A body with its VarInt length in front, as an ArrayBuffer. */
function frame(body) {
  const prefix = [];
  let length = body.byteLength;
  do {
    let byte = length & 0x7f;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    prefix.push(byte);
  } while (length > 0);
  const out = new Uint8Array(prefix.length + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out.buffer;
}
