// The error classes an app sees, with the official client's names, fields and `instanceof`
// behaviour, and the factory the WebAssembly shell uses to build them.
//
// The shell knows only an error's kind and text (see `to_js_error` in src/web/driver.rs); the
// loader hands it `createError` right after instantiation (wasm.js), so every promise the
// connection rejects and every error a callback receives is an instance of one of these classes.
//
// As in `@microsoft/signalr`, each class keeps Error's `name` ("Error"): apps that print
// `String(error)` see the same text with either client, and tell the kinds apart by
// `instanceof` or by `errorType`.

/** An HTTP request failed; `statusCode` is the response's status. */
export class HttpError extends Error {
  /** @param {string} errorMessage @param {number} statusCode */
  constructor(errorMessage, statusCode) {
    super(`${errorMessage}: Status code '${statusCode}'`);
    this.statusCode = statusCode;
  }
}

/** A timeout elapsed (an HTTP request's `timeout`). */
export class TimeoutError extends Error {
  constructor(errorMessage = "A timeout occurred.") {
    super(errorMessage);
  }
}

/** An operation was aborted (`stop()` during `start()`, an aborted request). */
export class AbortError extends Error {
  constructor(errorMessage = "An abort occurred.") {
    super(errorMessage);
  }
}

/** Base of the transport errors that carry which transport and an `errorType`. */
class TransportError extends Error {
  constructor(message, transport, errorType) {
    super(message);
    this.transport = transport;
    this.errorType = errorType;
  }
}

/** The transport the app asked for is not supported by the runtime. */
export class UnsupportedTransportError extends TransportError {
  constructor(message, transport) {
    super(message, transport, "UnsupportedTransportError");
  }
}

/** The transport is disabled by the server's or the app's choice. */
export class DisabledTransportError extends TransportError {
  constructor(message, transport) {
    super(message, transport, "DisabledTransportError");
  }
}

/** The transport could not be started. */
export class FailedToStartTransportError extends TransportError {
  constructor(message, transport) {
    super(message, transport, "FailedToStartTransportError");
  }
}

/** The negotiate request failed. */
export class FailedToNegotiateWithServerError extends Error {
  constructor(message) {
    super(message);
    this.errorType = "FailedToNegotiateWithServerError";
  }
}

/** Every transport failed; `innerErrors` holds one error per transport tried. */
export class AggregateErrors extends Error {
  constructor(message, innerErrors) {
    super(message);
    this.innerErrors = innerErrors;
  }
}

const CLASSES = {
  HttpError,
  TimeoutError,
  AbortError,
  UnsupportedTransportError,
  DisabledTransportError,
  FailedToStartTransportError,
  FailedToNegotiateWithServerError,
  AggregateErrors,
};

/**
 * An error of the class called `kind` (one of the classes above or `TypeError`; plain `Error`
 * for an unknown kind) whose message is
 * exactly `message`, with `fields` (`statusCode`, `transport`, `innerErrors`) copied on. Used by
 * the shell, which has finished texts rather than constructor arguments.
 */
export function createError(kind, message, fields) {
  // The runtime's own TypeError too: a failed fetch reaches the app as one, as with the official client.
  const Class = CLASSES[kind] ?? (kind === "TypeError" ? TypeError : Error);
  // Reflect.construct with Error as the constructor keeps the text as given (HttpError's own
  // constructor would append the status again) while the prototype is the class's.
  const error = Reflect.construct(Error, [message], Class);
  if (Class.prototype instanceof TransportError || Class === FailedToNegotiateWithServerError) error.errorType = kind;
  if (fields && typeof fields === "object") Object.assign(error, fields);
  return error;
}
