// The parts of `@microsoft/signalr`'s public API that are plain JavaScript and need no
// WebAssembly: its enums (with the reverse lookup TypeScript's numeric enums have), loggers, the
// JSON hub protocol object and the HTTP client classes an app may subclass or pass in. index.js
// re-exports all of it; the connection classes there hand these objects to the core.
//
// Nothing here reaches the network by itself: DefaultHttpClient does so only when the app (or
// a subclass) calls `send`, and the connection uses it only when the app passes an `httpClient`.

import { AbortError, HttpError, TimeoutError } from "./errors.js";

/** A frozen enum object with TypeScript's reverse mapping for its numeric members. */
function numericEnum(members) {
  const object = {};
  for (const [name, value] of Object.entries(members)) {
    object[name] = value;
    object[value] = name;
  }
  return Object.freeze(object);
}

/** Connection states, spelled as in `@microsoft/signalr` (a string enum: no reverse lookup). */
export const HubConnectionState = Object.freeze({
  Disconnected: "Disconnected",
  Connecting: "Connecting",
  Connected: "Connected",
  Disconnecting: "Disconnecting",
  Reconnecting: "Reconnecting",
});

/** Transport bit flags; `HttpTransportType[1]` is "WebSockets". */
export const HttpTransportType = numericEnum({ None: 0, WebSockets: 1, ServerSentEvents: 2, LongPolling: 4 });

/** Transfer formats of a hub protocol. */
export const TransferFormat = numericEnum({ Text: 1, Binary: 2 });

/** Log levels; `LogLevel[3]` is "Warning". */
export const LogLevel = numericEnum({ Trace: 0, Debug: 1, Information: 2, Warning: 3, Error: 4, Critical: 5, None: 6 });

/** Hub message types of the SignalR protocol. */
export const MessageType = numericEnum({
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
});

/** A logger that drops every line. */
export class NullLogger {
  /** The shared instance. */
  static instance = new NullLogger();

  /** Drops the line. */
  log() {}
}

/** The names `configureLogging` and `logger` accept, lower-cased, with their levels. */
const LEVEL_NAMES = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Information,
  information: LogLevel.Information,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  critical: LogLevel.Critical,
  none: LogLevel.None,
};

/**
 * What a logging setting means for the core: `{ logLevel }` for a level or a level name (lines
 * go to the console from that level up), `{ logger }` for an object with `log(level, message)`.
 * An unknown name throws, as in the official client.
 */
export function loggingSetting(logging) {
  if (logging !== null && typeof logging === "object" && logging.log !== undefined) return { logger: logging };
  if (typeof logging === "string") {
    const level = LEVEL_NAMES[logging.toLowerCase()];
    if (level === undefined) throw new Error(`Unknown log level: ${logging}`);
    return { logLevel: level };
  }
  if (typeof logging === "number" && LogLevel[logging] !== undefined) return { logLevel: logging };
  throw new Error(`Unknown log level: ${String(logging)}`);
}

const RECORD_SEPARATOR = "\u001e";

/** Throws `text` unless `value` is a non-empty string. */
function requireText(value, text) {
  if (typeof value !== "string" || value === "") throw new Error(text);
}

/** The JSON hub protocol: the one hubwire's core speaks (`withHubProtocol(new JsonHubProtocol())`). */
export class JsonHubProtocol {
  /** The protocol's name in the handshake. */
  name = "json";
  /** The protocol version. */
  version = 2;
  /** JSON is text. */
  transferFormat = TransferFormat.Text;

  /** The messages in `input` (records ending in 0x1E); throws on an incomplete or malformed one. */
  parseMessages(input, logger) {
    if (typeof input !== "string") throw new Error("Invalid input for JSON hub protocol. Expected a string.");
    if (!input) return [];
    if (input[input.length - 1] !== RECORD_SEPARATOR) throw new Error("Message is incomplete.");
    const records = input.split(RECORD_SEPARATOR);
    records.pop();
    const messages = [];
    for (const record of records) {
      const message = JSON.parse(record);
      if (typeof message?.type !== "number") throw new Error("Invalid payload.");
      switch (message.type) {
        case MessageType.Invocation:
          requireText(message.target, "Invalid payload for Invocation message.");
          if (message.invocationId !== undefined) requireText(message.invocationId, "Invalid payload for Invocation message.");
          break;
        case MessageType.StreamItem:
          requireText(message.invocationId, "Invalid payload for StreamItem message.");
          if (message.item === undefined) throw new Error("Invalid payload for StreamItem message.");
          break;
        case MessageType.Completion:
          if (message.result && message.error) throw new Error("Invalid payload for Completion message.");
          if (!message.result && message.error) requireText(message.error, "Invalid payload for Completion message.");
          requireText(message.invocationId, "Invalid payload for Completion message.");
          break;
        case MessageType.Ack:
        case MessageType.Sequence:
          if (typeof message.sequenceId !== "number") {
            throw new Error(`Invalid SequenceId for ${MessageType[message.type]} message.`);
          }
          break;
        case MessageType.Ping:
        case MessageType.Close:
          break;
        default:
          (logger ?? NullLogger.instance).log(LogLevel.Information, `Unknown message type '${message.type}' ignored.`);
          continue;
      }
      messages.push(message);
    }
    return messages;
  }

  /** One message as a JSON record. */
  writeMessage(message) {
    return JSON.stringify(message) + RECORD_SEPARATOR;
  }
}

/** An HTTP response, as an `HttpClient` resolves it. */
export class HttpResponse {
  constructor(statusCode, statusText, content) {
    this.statusCode = statusCode;
    this.statusText = statusText;
    this.content = content;
  }
}

/**
 * The HTTP client interface of `@microsoft/signalr`: subclasses implement `send(request)`;
 * `get`, `post` and `delete` are `send` with the method filled in. A connection given one as
 * `httpClient` makes every HTTP request through it (negotiate, Long Polling, sends).
 */
export class HttpClient {
  get(url, options) {
    return this.send({ ...options, method: "GET", url });
  }

  post(url, options) {
    return this.send({ ...options, method: "POST", url });
  }

  delete(url, options) {
    return this.send({ ...options, method: "DELETE", url });
  }

  /** Cookies for `url`, for transports that cannot send them themselves (none here). */
  getCookieString() {
    return "";
  }
}

/**
 * An `HttpClient` on the runtime's `fetch`, as the official client's default: rejects with an
 * `HttpError` for a status outside 200-299, a `TimeoutError` when `request.timeout` elapsed and
 * an `AbortError` when `request.abortSignal` aborted.
 */
export class DefaultHttpClient extends HttpClient {
  #logger;

  constructor(logger) {
    super();
    this.#logger = logger ?? NullLogger.instance;
  }

  async send(request) {
    if (request.abortSignal?.aborted) throw new AbortError();
    if (!request.method) throw new Error("No method defined.");
    if (!request.url) throw new Error("No url defined.");
    const controller = new AbortController();
    let timedOut = false;
    if (request.abortSignal) request.abortSignal.onabort = () => controller.abort();
    const timer =
      request.timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, request.timeout)
        : null;
    let response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        body: request.content === "" ? undefined : request.content,
        headers: { "X-Requested-With": "XMLHttpRequest", ...request.headers },
        credentials: request.withCredentials === false ? "same-origin" : "include",
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut) throw new TimeoutError();
      if (controller.signal.aborted) throw new AbortError();
      this.#logger.log(LogLevel.Warning, `Error from HTTP request. ${error}.`);
      throw error;
    } finally {
      if (timer !== null) clearTimeout(timer);
      if (request.abortSignal) request.abortSignal.onabort = null;
    }
    const content = request.responseType === "arraybuffer" ? await response.arrayBuffer() : await response.text();
    if (!response.ok) {
      throw new HttpError((typeof content === "string" && content) || response.statusText, response.status);
    }
    return new HttpResponse(response.status, response.statusText, content);
  }
}
