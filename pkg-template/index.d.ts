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
export declare const HubConnectionState: {
  readonly Disconnected: "Disconnected";
  readonly Connecting: "Connecting";
  readonly Connected: "Connected";
  readonly Disconnecting: "Disconnecting";
  readonly Reconnecting: "Reconnecting";
};
export type HubConnectionState = (typeof HubConnectionState)[keyof typeof HubConnectionState];

/** Transport bit flags, as in `@microsoft/signalr`. */
export declare const HttpTransportType: {
  readonly None: 0;
  readonly WebSockets: 1;
  readonly ServerSentEvents: 2;
  readonly LongPolling: 4;
};
export type HttpTransportType = number;

/** Log levels, as in `@microsoft/signalr`. */
export declare const LogLevel: {
  readonly Trace: 0;
  readonly Debug: 1;
  readonly Information: 2;
  readonly Warning: 3;
  readonly Error: 4;
  readonly Critical: 5;
  readonly None: 6;
};
export type LogLevel = number;

/** Options for `HubConnectionBuilder.withUrl`. */
export interface IHttpConnectionOptions {
  /** Called before negotiate and before connecting; its token is sent as `Authorization: Bearer` on negotiate and as `access_token` on the WebSocket URL. */
  accessTokenFactory?: () => string | Promise<string>;
  /** Connect over WebSockets straight away without negotiate (requires `transport` WebSockets or unset). */
  skipNegotiation?: boolean;
  /** Send cookies with cross-origin negotiate requests (default true, as the official client). */
  withCredentials?: boolean;
  /** Allowed transports: `HttpTransportType` flags or a transport name (default all three, tried in the server's order). */
  transport?: HttpTransportType | "WebSockets" | "ServerSentEvents" | "LongPolling";
  /** Extra headers on every HTTP request (negotiate, sends, polls); browsers cannot set headers on WebSockets or EventSource. */
  headers?: Record<string, string>;
  /** Timeout of negotiate and send requests in ms (default 100 000). */
  timeout?: number;
}

/** A client-to-server stream source for `invoke`, `send` and `stream` arguments. */
export declare class Subject<T = any> {
  next(item: T): void;
  error(err: any): void;
  complete(): void;
  subscribe(observer: { next?(item: T): void; error?(err: any): void; complete?(): void }): { dispose(): void };
}

/** Receives a stream's items. */
export interface IStreamSubscriber<T> {
  next(value: T): void;
  error(err: any): void;
  complete(): void;
}

/** A server-to-client stream. */
export interface IStreamResult<T> {
  /** Starts receiving; `dispose()` stops the stream on the hub. */
  subscribe(subscriber: IStreamSubscriber<T>): { dispose(): void };
}

/** What a retry policy is told about the failure. */
export interface RetryContext {
  /** Retries already made in this episode (0 for the first). */
  previousRetryCount: number;
  /** Milliseconds since the connection was lost (or the first start failed). */
  elapsedMilliseconds: number;
  /** Why the connection or the last attempt failed. */
  retryReason: Error;
}

/** A custom retry policy, as in `@microsoft/signalr`. */
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
  /** The current state. */
  readonly state: HubConnectionState;
  /** The server's id for this connection, or null when not connected. */
  readonly connectionId: string | null;
  /** Connects (instantiating the WebAssembly module first when needed); resolves once the handshake completed, rejects with the reason it could not (a settings error included, when `build()` ran before the module was ready). */
  start(): Promise<void>;
  /** Disconnects; resolves once the connection is Disconnected. */
  stop(): Promise<void>;
  /** Registers a handler for calls of `methodName` from the server (names ignore case); `dedupe` drops repeats and stale updates. */
  on(methodName: string, newMethod: (...args: any[]) => any, options?: { dedupe?: DedupeOptions }): void;
  /** Removes one handler of `methodName`, or all of them when `method` is omitted. */
  off(methodName: string, method?: (...args: any[]) => any): void;
  /** Calls a hub method; resolves with its result, rejects with the server's error message. */
  invoke<T = any>(methodName: string, ...args: any[]): Promise<T>;
  /** Calls a hub method without waiting for it to run; resolves once sent. */
  send(methodName: string, ...args: any[]): Promise<void>;
  /** Calls a streaming hub method; Subjects and async iterables among the arguments are uploaded. */
  stream<T = any>(methodName: string, ...args: any[]): IStreamResult<T>;
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
  /** The hub URL (absolute, or relative to the page), with a transport type or options. */
  withUrl(url: string, transportTypeOrOptions?: HttpTransportType | IHttpConnectionOptions): HubConnectionBuilder;
  /** The lowest `LogLevel` written to the console (default Information). */
  configureLogging(logLevel: LogLevel): HubConnectionBuilder;
  /** Close the connection when the server is silent for this long (default 30 000 ms). */
  withServerTimeout(milliseconds: number): HubConnectionBuilder;
  /** Send a ping after this long without sending anything (default 15 000 ms). */
  withKeepAliveInterval(milliseconds: number): HubConnectionBuilder;
  /** Reconnect automatically: the official default (0, 2, 10, 30 s), delays in ms, a policy, or hubwire's options. */
  withAutomaticReconnect(retryDelaysOrPolicy?: number[] | IRetryPolicy | ReconnectOptions): HubConnectionBuilder;
  /** Where telemetry goes. */
  withTelemetry(options: TelemetryOptions | ((record: TelemetryRecord) => void)): HubConnectionBuilder;
  /** Follow online/offline, visibility and back/forward cache events (default true). */
  withBrowserLifecycle(enabled: boolean): HubConnectionBuilder;
  /** Stateful reconnect over WebSockets: socket drops are absorbed and messages replayed; `bufferSize` bounds unacknowledged bytes (default 100 000). */
  withStatefulReconnect(options?: { bufferSize?: number }): HubConnectionBuilder;
  /**
   * One real connection for all tabs of this origin with the same URL and options: one tab
   * leads (holds it, with its own settings and token), the others use it through the leader.
   * Without Web Locks or BroadcastChannel each tab connects on its own (see `health().tabSharing`).
   */
  withTabSharing(options?: TabSharingOptions): HubConnectionBuilder;
  /** The configured connection, not yet started. Synchronous; its settings are checked here once the WebAssembly module is ready, else by `start()`. */
  build(): HubConnection;
}
