// Type declarations for hubwire's JavaScript entry (index.js).

import type { TabSharingInfo, TabSharingOptions } from "./tabs.js";
export type { TabSharingInfo, TabSharingOptions };

/** The library version (the package's, and the WebAssembly core's). */
export declare const VERSION: string;

/**
 * Instantiates the WebAssembly module, once (later calls share the same promise; a failed load
 * is tried again by the next call). Optional: `start()` and every other async method await it
 * themselves. Call it to preload the module, or to learn early that it cannot load. In Node the
 * module is read from the package's own `hubwire_bg.wasm`; in browsers it is fetched from the
 * URL the bundler gave it.
 */
export declare function ready(): Promise<void>;

/** Connection states, spelled as in `@microsoft/signalr`. */
export declare enum HubConnectionState {
  Disconnected = "Disconnected",
  Connecting = "Connecting",
  Connected = "Connected",
  Disconnecting = "Disconnecting",
  Reconnecting = "Reconnecting",
}

/** Transport bit flags, as in `@microsoft/signalr` (`HttpTransportType[1]` is "WebSockets"). */
export declare enum HttpTransportType {
  None = 0,
  WebSockets = 1,
  ServerSentEvents = 2,
  LongPolling = 4,
}

/** Transfer formats of a hub protocol. */
export declare enum TransferFormat {
  Text = 1,
  Binary = 2,
}

/** Log levels, as in `@microsoft/signalr` (`LogLevel[3]` is "Warning"). */
export declare enum LogLevel {
  Trace = 0,
  Debug = 1,
  Information = 2,
  Warning = 3,
  Error = 4,
  Critical = 5,
  None = 6,
}

/** Hub message types of the SignalR protocol. */
export declare enum MessageType {
  Invocation = 1,
  StreamItem = 2,
  Completion = 3,
  StreamInvocation = 4,
  CancelInvocation = 5,
  Ping = 6,
  Close = 7,
  Ack = 8,
  Sequence = 9,
}

/** A log sink: `configureLogging(logger)` or the `logger` option. It gets every line and filters itself. */
export interface ILogger {
  log(logLevel: LogLevel, message: string): void;
}

/** A logger that drops every line. */
export declare class NullLogger implements ILogger {
  static instance: ILogger;
  private constructor();
  log(_logLevel: LogLevel, _message: string): void;
}

/** An HTTP request failed; `statusCode` is the response's status. */
export declare class HttpError extends Error {
  statusCode: number;
  constructor(errorMessage: string, statusCode: number);
}

/** A timeout elapsed (an HTTP request's `timeout`). */
export declare class TimeoutError extends Error {
  constructor(errorMessage?: string);
}

/** An operation was aborted (`stop()` during `start()`, an aborted request). */
export declare class AbortError extends Error {
  constructor(errorMessage?: string);
}

/** What a request's `abortSignal` offers (a DOM `AbortSignal` qualifies). */
export interface AbortSignal {
  aborted: boolean;
  onabort: (() => void) | null;
}

/** Header names to values. */
export interface MessageHeaders {
  [key: string]: string;
}

/** A request an `HttpClient` performs. */
export interface HttpRequest {
  method?: string;
  url?: string;
  content?: string | ArrayBuffer;
  headers?: MessageHeaders;
  responseType?: XMLHttpRequestResponseType;
  abortSignal?: AbortSignal;
  /** Milliseconds; 0 or absent for none. */
  timeout?: number;
  withCredentials?: boolean;
}

/** An HTTP response, as an `HttpClient` resolves it. */
export declare class HttpResponse {
  readonly statusCode: number;
  readonly statusText?: string | undefined;
  readonly content?: string | ArrayBuffer | undefined;
  constructor(statusCode: number);
  constructor(statusCode: number, statusText: string);
  constructor(statusCode: number, statusText: string, content: string);
  constructor(statusCode: number, statusText: string, content: ArrayBuffer);
  constructor(statusCode: number, statusText: string, content: string | ArrayBuffer);
}

/** Performs the connection's HTTP requests when passed as the `httpClient` option; subclasses implement `send`. */
export declare abstract class HttpClient {
  get(url: string): Promise<HttpResponse>;
  get(url: string, options: HttpRequest): Promise<HttpResponse>;
  post(url: string): Promise<HttpResponse>;
  post(url: string, options: HttpRequest): Promise<HttpResponse>;
  delete(url: string): Promise<HttpResponse>;
  delete(url: string, options: HttpRequest): Promise<HttpResponse>;
  abstract send(request: HttpRequest): Promise<HttpResponse>;
  getCookieString(url: string): string;
}

/** An `HttpClient` on `fetch`: rejects with `HttpError` outside 200-299, `TimeoutError`, `AbortError`. */
export declare class DefaultHttpClient extends HttpClient {
  constructor(logger: ILogger);
  send(request: HttpRequest): Promise<HttpResponse>;
  getCookieString(url: string): string;
}

/** Messages of the SignalR hub protocol. */
export type HubMessage =
  | InvocationMessage
  | StreamInvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage;

export interface HubMessageBase {
  readonly type: MessageType;
}

export interface HubInvocationMessage extends HubMessageBase {
  readonly headers?: MessageHeaders;
  readonly invocationId?: string;
}

export interface InvocationMessage extends HubInvocationMessage {
  readonly type: MessageType.Invocation;
  readonly target: string;
  readonly arguments: any[];
  readonly streamIds?: string[];
}

export interface StreamInvocationMessage extends HubInvocationMessage {
  readonly type: MessageType.StreamInvocation;
  readonly invocationId: string;
  readonly target: string;
  readonly arguments: any[];
  readonly streamIds?: string[];
}

export interface StreamItemMessage extends HubInvocationMessage {
  readonly type: MessageType.StreamItem;
  readonly invocationId: string;
  readonly item?: any;
}

export interface CompletionMessage extends HubInvocationMessage {
  readonly type: MessageType.Completion;
  readonly invocationId: string;
  readonly error?: string;
  readonly result?: any;
}

export interface PingMessage extends HubMessageBase {
  readonly type: MessageType.Ping;
}

export interface CloseMessage extends HubMessageBase {
  readonly type: MessageType.Close;
  readonly error?: string;
  readonly allowReconnect?: boolean;
}

export interface CancelInvocationMessage extends HubInvocationMessage {
  readonly type: MessageType.CancelInvocation;
  readonly invocationId: string;
}

export interface AckMessage extends HubMessageBase {
  readonly type: MessageType.Ack;
  readonly sequenceId: number;
}

export interface SequenceMessage extends HubMessageBase {
  readonly type: MessageType.Sequence;
  readonly sequenceId: number;
}

/** A hub protocol: `withHubProtocol` takes one named "json" or hubwire/msgpack's MessagePack protocol. */
export interface IHubProtocol {
  readonly name: string;
  readonly version: number;
  readonly transferFormat: TransferFormat;
  parseMessages(input: string | ArrayBuffer, logger: ILogger): HubMessage[];
  writeMessage(message: HubMessage): string | ArrayBuffer;
}

/** The JSON hub protocol. */
export declare class JsonHubProtocol implements IHubProtocol {
  readonly name: string;
  readonly version: number;
  readonly transferFormat: TransferFormat;
  parseMessages(input: string, logger: ILogger): HubMessage[];
  writeMessage(message: HubMessage): string;
}

/** A transport object, as in `@microsoft/signalr` (declared for type compatibility; see `IHttpConnectionOptions.transport`). */
export interface ITransport {
  connect(url: string, transferFormat: TransferFormat): Promise<void>;
  send(data: any): Promise<void>;
  stop(): Promise<void>;
  onreceive: ((data: string | ArrayBuffer) => void) | null;
  onclose: ((error?: Error) => void) | null;
}

/** Options for `HubConnectionBuilder.withUrl`. */
export interface IHttpConnectionOptions {
  /** Extra headers on every HTTP request (negotiate, sends, polls); browsers cannot set headers on WebSockets or EventSource. */
  headers?: MessageHeaders;
  /** Performs every HTTP request (negotiate, Long Polling, sends) instead of the runtime's `fetch`. */
  httpClient?: HttpClient;
  /** Allowed transports: `HttpTransportType` flags or a transport name (default all three, tried in the server's order). A custom `ITransport` object is refused with an error. */
  transport?: HttpTransportType | ITransport | "WebSockets" | "ServerSentEvents" | "LongPolling";
  /** Where this connection's log lines go: an `ILogger`, or a `LogLevel` for the console. Wins over `configureLogging`. */
  logger?: ILogger | LogLevel;
  /** Called before negotiate and before connecting; its token is sent as `Authorization: Bearer` on negotiate and as `access_token` on the WebSocket URL. */
  accessTokenFactory?(): string | Promise<string>;
  /** Trace lines show the content of messages sent and received (default: only their length). */
  logMessageContent?: boolean;
  /** Connect over WebSockets straight away without negotiate (requires `transport` WebSockets or unset). */
  skipNegotiation?: boolean;
  /** Send cookies with cross-origin negotiate requests (default true, as the official client). */
  withCredentials?: boolean;
  /** Timeout of negotiate and send requests in ms (default 100 000; 0 for none). */
  timeout?: number;
  /** The WebSocket class to use (default: the runtime's; `ws` in Node). */
  WebSocket?: any;
  /** The EventSource class to use (default: the runtime's; `eventsource` in Node). */
  EventSource?: any;
}

/** Options of `withStatefulReconnect`. */
export interface IStatefulReconnectOptions {
  /** Bound of unacknowledged bytes (default 100 000). */
  bufferSize: number;
}

/** Receives a stream's items. */
export interface IStreamSubscriber<T> {
  /** Set once the stream ended for this subscriber. */
  closed?: boolean;
  next(value: T): void;
  error(err: any): void;
  complete(): void;
}

/** A subscription to a stream; `dispose()` stops it. */
export interface ISubscription<T> {
  dispose(): void;
}

/** A server-to-client stream. */
export interface IStreamResult<T> {
  /** Starts receiving; `dispose()` stops the stream on the hub. */
  subscribe(subscriber: IStreamSubscriber<T>): ISubscription<T>;
}

/** A client-to-server stream source for `invoke`, `send` and `stream` arguments (any object with `subscribe`, RxJS observables included, is one too). */
export declare class Subject<T = any> implements IStreamResult<T> {
  constructor();
  next(item: T): void;
  error(err: any): void;
  complete(): void;
  subscribe(observer: Partial<IStreamSubscriber<T>>): ISubscription<T>;
}

/** What a retry policy is told about the failure. */
export interface RetryContext {
  /** Retries already made in this episode (0 for the first). */
  readonly previousRetryCount: number;
  /** Milliseconds since the connection was lost (or the first start failed). */
  readonly elapsedMilliseconds: number;
  /** Why the connection or the last attempt failed. */
  readonly retryReason: Error;
}

/** A custom retry policy, as in `@microsoft/signalr`; called as a method (`this` is the policy). */
export interface IRetryPolicy {
  /** Milliseconds until the next attempt, or null to give up. */
  nextRetryDelayInMilliseconds(retryContext: RetryContext): number | null;
}

/** hubwire's reconnect options (beyond the official client's). */
export interface ReconnectOptions {
  /** Delays in ms (default 0, 2000, 10000, 30000). */
  delays?: number[];
  /** Spread each delay by up to ±this fraction (0..1), so clients dropped together come back apart. */
  jitter?: number;
  /** After the last delay, keep retrying with the last delay forever. */
  keepTrying?: boolean;
  /** Apply the policy to the first `start()` too: it resolves once connected, or rejects when the policy gives up. */
  retryFirstStart?: boolean;
  /** A policy function; when set, `delays`, `jitter` and `keepTrying` are not used. */
  nextRetryDelayInMilliseconds?: (retryContext: RetryContext) => number | null;
  /**
   * How long a connection must last (and hear from the server after that) before its loss
   * starts the retry schedule afresh (default 5000 ms). A connection lost sooner continues the
   * schedule where it was, and a stateful one is not resumed, so a server that accepts and
   * drops every connection is retried on the policy's delays, not every round trip.
   */
  stableConnectionThresholdInMilliseconds?: number;
}

/** A group membership, by its join and leave hub methods and their arguments. */
export interface GroupSpec {
  /** Hub method that joins, e.g. "JoinDispatchGroup". */
  join: string;
  /** Hub method that leaves, e.g. "LeaveDispatchGroup". */
  leave: string;
  /** Arguments of both (one value or an array). */
  args?: unknown;
}

/** Dedupe options of `on(name, handler, { dedupe })`. */
export interface DedupeOptions {
  /** What an update is about (with `version`), or its identity (without): a repeat within the window is dropped. */
  key?: (...args: any[]) => unknown;
  /** A number or ISO timestamp; an update not newer than the last delivered one for its key is dropped. */
  version?: (...args: any[]) => number | string;
  /** How long exact repeats are remembered (default 1000 keys, 5 minutes). */
  window?: { count?: number; ms?: number; maxVersions?: number };
}

/** A state transition. */
export interface StateChange {
  previous: HubConnectionState;
  current: HubConnectionState;
  /** Why, in a few words. */
  reason: string;
  /** Retry attempts made in the current episode. */
  attempt: number;
  /** When a retry is scheduled, milliseconds until it. */
  nextRetryInMs: number | null;
  transport: "WebSockets" | "ServerSentEvents" | "LongPolling" | null;
  connectionId: string | null;
}

/** A health snapshot. */
export interface Health {
  state: HubConnectionState;
  transport: "WebSockets" | "ServerSentEvents" | "LongPolling" | null;
  connectionId: string | null;
  /** Wall-clock ms of the last data from the server. */
  lastMessageAt: number | null;
  /** The latest round trip (handshake, or an invocation and its result), in ms. */
  rttMs: number | null;
  reconnectCount: number;
  duplicatesDropped: number;
  /** Only on connections built with `withTabSharing()`: this tab's part in the sharing. */
  tabSharing?: TabSharingInfo;
}

/** A telemetry record. Never carries tokens or payloads. */
export type TelemetryRecord = { type: string; at: number } & (
  | { type: "connectionOpened"; connectionId: string | null }
  | { type: "connectionClosed"; reason: string | null }
  | { type: "reconnectAttempt"; attempt: number; delayMs: number; reason: string }
  | { type: "reconnected"; recoveryMs: number; groupsRejoined: number; attempts: number }
  | { type: "rejoinFailed"; join: string; error: string }
  | { type: "transportFallback"; from: "WebSockets" | "ServerSentEvents" | "LongPolling"; reason: string }
  | { type: "messageLatency"; event: string; latencyMs: number }
  | { type: "duplicateDropped"; event: string; reason: "repeat" | "stale" }
  | { type: "tabLeader"; tabId: string; previousTabId: string | null; failover: boolean; failovers: number }
);

/** Where telemetry goes. */
export interface TelemetryOptions {
  /** Called with each record. */
  onEvent?: (record: TelemetryRecord) => void;
  /** POST records here as JSON arrays (by beacon when the page hides). */
  url?: string;
  /** Records per POST (default 20). */
  batchSize?: number;
  /** Longest a record waits for its batch, ms (default 5000). */
  flushIntervalMs?: number;
  /** Per event name, the payload field with the time it was produced, for `messageLatency`. */
  latencyFields?: Record<string, string>;
}

/** A connection to a SignalR hub. Create one with `HubConnectionBuilder`. */
export declare class HubConnection {
  private constructor();
  /** Close the connection when the server is silent this long (ms); a change applies from the next message. */
  serverTimeoutInMilliseconds: number;
  /** Send a ping after this long (ms) without sending; a change applies from the next message. */
  keepAliveIntervalInMilliseconds: number;
  /** The current state. */
  get state(): HubConnectionState;
  /** The server's id for this connection, or null when not connected. */
  get connectionId(): string | null;
  /** The hub URL; settable while Disconnected or Reconnecting (the next attempt uses it). */
  get baseUrl(): string;
  set baseUrl(url: string);
  /** Connects (instantiating the WebAssembly module first when needed); resolves once the handshake completed, rejects with the reason it could not (a settings error included, when `build()` ran before the module was ready; an `AbortError` when `stop()` came first). */
  start(): Promise<void>;
  /** Disconnects; resolves once the connection is Disconnected. */
  stop(): Promise<void>;
  /** Calls a streaming hub method; observables and async iterables among the arguments are uploaded. */
  stream<T = any>(methodName: string, ...args: any[]): IStreamResult<T>;
  /** Calls a hub method without waiting for it to run; resolves once sent. */
  send(methodName: string, ...args: any[]): Promise<void>;
  /** Calls a hub method; resolves with its result, rejects with the server's error message. */
  invoke<T = any>(methodName: string, ...args: any[]): Promise<T>;
  /** Registers a handler for calls of `methodName` from the server (names ignore case; `this` is the connection); `dedupe` drops repeats and stale updates. */
  on(methodName: string, newMethod: (...args: any[]) => any, options?: { dedupe?: DedupeOptions }): void;
  /** Removes every handler of `methodName`. */
  off(methodName: string): void;
  /** Removes one handler of `methodName`. */
  off(methodName: string, method: (...args: any[]) => void): void;
  /** Registers a callback for when the connection closes for good; it gets an Error when the close was not requested. */
  onclose(callback: (error?: Error) => void): void;
  /** Registers a callback for when the connection was lost and automatic reconnect begins. */
  onreconnecting(callback: (error?: Error) => void): void;
  /** Registers a callback for when the connection is back, groups re-joined. */
  onreconnected(callback: (connectionId?: string) => void): void;
  /** Registers a callback for every state change. */
  onstatechange(callback: (change: StateChange) => void): void;
  /** Registers a callback for a group whose re-join failed after a reconnect (it is retried at the next one). */
  onrejoinfailed(callback: (failure: GroupSpec & { error: Error }) => void): void;
  /** Joins a group by its hub methods and re-joins it after every reconnect; settles when the hub answered. */
  joinGroup(spec: GroupSpec): Promise<void>;
  /** Leaves a group joined with `joinGroup` and stops re-joining it. */
  leaveGroup(spec: GroupSpec): Promise<void>;
  /** A health snapshot. */
  health(): Health;
  /** Sends telemetry waiting for its batch now. */
  flushTelemetry(): void;
}

/** Builds a `HubConnection`, as `@microsoft/signalr`'s builder does. */
export declare class HubConnectionBuilder {
  /** The hub URL given to `withUrl`. */
  url?: string;
  /** The options given to `withUrl`, merged over earlier calls. */
  httpConnectionOptions?: IHttpConnectionOptions;
  /** What `configureLogging` was given. */
  logger?: ILogger | LogLevel | string;
  /** The protocol from `withHubProtocol`. */
  protocol?: IHubProtocol;
  /** What `withAutomaticReconnect` was given. */
  reconnectPolicy?: IRetryPolicy | number[] | ReconnectOptions | true;
  /** The hub URL (absolute, or relative to the page). */
  withUrl(url: string): HubConnectionBuilder;
  /** The hub URL with the allowed transports. */
  withUrl(url: string, transportType: HttpTransportType): HubConnectionBuilder;
  /** The hub URL with options. */
  withUrl(url: string, options: IHttpConnectionOptions): HubConnectionBuilder;
  /** Log lines from this level up go to the console (default: warnings and errors). */
  configureLogging(logLevel: LogLevel): HubConnectionBuilder;
  /** Every log line goes to this logger. */
  configureLogging(logger: ILogger): HubConnectionBuilder;
  /** A level by name ("trace", "debug", "info", "information", "warn", "warning", "error", "critical", "none"); an unknown name throws. */
  configureLogging(logLevel: string): HubConnectionBuilder;
  configureLogging(logging: LogLevel | string | ILogger): HubConnectionBuilder;
  /**
   * The hub protocol: one named "json" (`new JsonHubProtocol()`, the default) or
   * `new MessagePackHubProtocol(options)` from `hubwire/msgpack`; any other throws.
   */
  withHubProtocol(protocol: IHubProtocol): HubConnectionBuilder;
  /** Reconnect after 0, 2, 10 and 30 s, then give up (the official default). */
  withAutomaticReconnect(): HubConnectionBuilder;
  /** Reconnect after these delays (ms), then give up. */
  withAutomaticReconnect(retryDelays: number[]): HubConnectionBuilder;
  /** Reconnect as this policy says (called as a method of it). */
  withAutomaticReconnect(reconnectPolicy: IRetryPolicy): HubConnectionBuilder;
  /** Reconnect with hubwire's options (delays, jitter, keepTrying, retryFirstStart, stable-connection threshold). */
  withAutomaticReconnect(options: ReconnectOptions): HubConnectionBuilder;
  /** Close the connection when the server is silent for this long (default 30 000 ms). */
  withServerTimeout(milliseconds: number): HubConnectionBuilder;
  /** Send a ping after this long without sending anything (default 15 000 ms). */
  withKeepAliveInterval(milliseconds: number): HubConnectionBuilder;
  /** Stateful reconnect over WebSockets: socket drops are absorbed and messages replayed; `bufferSize` bounds unacknowledged bytes (default 100 000). */
  withStatefulReconnect(options?: Partial<IStatefulReconnectOptions>): HubConnectionBuilder;
  /** Where telemetry goes. */
  withTelemetry(options: TelemetryOptions | ((record: TelemetryRecord) => void)): HubConnectionBuilder;
  /** Follow online/offline, visibility and back/forward cache events (default true). */
  withBrowserLifecycle(enabled: boolean): HubConnectionBuilder;
  /**
   * One real connection for all tabs of this origin with the same URL and options: one tab
   * leads (holds it, with its own settings and token), the others use it through the leader.
   * Without Web Locks or BroadcastChannel each tab connects on its own (see `health().tabSharing`).
   * The tab-sharing code is a separate file, fetched when such a connection is built; `build()`
   * stays synchronous and `start()` waits for it (and rejects when it cannot be loaded).
   */
  withTabSharing(options?: TabSharingOptions): HubConnectionBuilder;
  /** The configured connection, not yet started. Synchronous; its settings are checked here once the WebAssembly module is ready, else by `start()`. */
  build(): HubConnection;
}
