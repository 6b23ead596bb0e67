// Declarations of hubwire/msgpack: the MessagePack hub protocol with the API and options of
// `@microsoft/signalr-protocol-msgpack`.

import type { HubMessage, IHubProtocol, ILogger, TransferFormat } from "./index.js";

/** Options of the MessagePack encoder and decoder (`@msgpack/msgpack`), as the official package's. */
export interface MessagePackOptions {
  /** Custom extension types (an `ExtensionCodec`); also how timestamps are read and written. */
  extensionCodec?: any;
  /** Passed to the extension codec's functions. */
  context?: any;
  /** Deepest nesting the encoder accepts (default 100). */
  maxDepth?: number;
  /** The encoder's first buffer size in bytes (default 2048). */
  initialBufferSize?: number;
  /** Write map keys sorted (default false). */
  sortKeys?: boolean;
  /** Write non-integer numbers as 32-bit floats (default false). */
  forceFloat32?: boolean;
  /** Write integers as floats (default false). */
  forceIntegerToFloat?: boolean;
  /** Leave out object properties that are undefined (default false). */
  ignoreUndefined?: boolean;
  /** Longest string the decoder accepts. */
  maxStrLength?: number;
  /** Longest binary value the decoder accepts. */
  maxBinLength?: number;
  /** Longest array the decoder accepts. */
  maxArrayLength?: number;
  /** Largest map the decoder accepts. */
  maxMapLength?: number;
  /** Longest extension value the decoder accepts. */
  maxExtLength?: number;
}

/** The MessagePack hub protocol: `withHubProtocol(new MessagePackHubProtocol(options))`. */
export declare class MessagePackHubProtocol implements IHubProtocol {
  /** "messagepack". */
  readonly name: string;
  /** 2. */
  readonly version: number;
  /** Binary. */
  readonly transferFormat: TransferFormat;
  constructor(messagePackOptions?: MessagePackOptions);
  /** The messages of one binary frame. */
  parseMessages(input: ArrayBuffer, logger: ILogger): HubMessage[];
  /** One message as a binary frame. */
  writeMessage(message: HubMessage): ArrayBuffer;
}
