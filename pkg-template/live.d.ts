// Type declarations for hubwire/live (live.js): live subscriptions and plain WebSocket connections.

export { ready } from "./index.js";

import type { GroupSpec, HubConnection, HubConnectionState, IRetryPolicy, ReconnectOptions, StateChange, TabSharingInfo, TabSharingOptions, TelemetryRecord } from "./index.js";

/** Options of a plain JSON WebSocket connection. */
export interface PlainSocketOptions {
  /** Called before every connect; its token goes in the URL's query (`tokenParam`). */
  accessTokenFactory?: () => string | Promise<string>;
  /** The query parameter that carries the token (default "access_token"). */
  tokenParam?: string;
  /** Automatic reconnect, as `withAutomaticReconnect` takes it (default: 0, 2, 10, 30 s); `false` turns it off. A normal closure (1000) by the server never reconnects. */
  reconnect?: boolean | number[] | IRetryPolicy | ReconnectOptions;
  /** Give up on a socket that has not opened within this long (default 15 000 ms). */
  openTimeoutMs?: number;
  /** Follow online/offline, visibility and back/forward cache events (default true). */
  browserLifecycle?: boolean;
  /** The lowest log level written to the console (default Information). */
  logLevel?: number;
  /** Connection telemetry records (connectionOpened, reconnectAttempt, ...). */
  telemetry?: ((record: TelemetryRecord) => void) | { onEvent?: (record: TelemetryRecord) => void };
  /** One socket for all tabs of this origin with the same URL (and `key`, `userId`), held by a leading tab; as `withTabSharing`. */
  shareAcrossTabs?: boolean | TabSharingOptions;
}

/** A connection to a WebSocket endpoint whose server sends `{ type, payload }` JSON messages. */
export declare class PlainSocketConnection {
  constructor(url: string, options?: PlainSocketOptions);
  /** The current state. */
  readonly state: HubConnectionState;
  /** Successful reconnects so far. */
  readonly reconnectCount: number;
  /** Only with `shareAcrossTabs`: this tab's part in the sharing. */
  readonly tabSharing?: TabSharingInfo;
  /** Connects; resolves once the socket is open, rejects when the start fails for good. */
  start(): Promise<void>;
  /** Disconnects; resolves once Disconnected. */
  stop(): Promise<void>;
  /** Calls `handler(payload, type)` for every message of `type` (exact match). */
  on(type: string, handler: (payload: any, type: string) => void): void;
  /** Removes `handler` from `type`, or every handler of it. */
  off(type: string, handler?: (payload: any, type: string) => void): void;
  /** Sends `{ type, payload }`; resolves once handed to the socket. */
  send(type: string, payload?: unknown): Promise<void>;
  /** Registers a callback for when the connection ends for good (with an Error if it failed). */
  onclose(callback: (error?: Error) => void): void;
  /** Registers a callback for when the connection was lost and is being retried. */
  onreconnecting(callback: (error?: Error) => void): void;
  /** Registers a callback for when the connection is back. */
  onreconnected(callback: () => void): void;
  /** Registers a callback for every state change. */
  onstatechange(callback: (change: StateChange) => void): void;
}

/** A `PlainSocketConnection`, already starting. */
export declare function connectPlain(url: string, options?: PlainSocketOptions): PlainSocketConnection;

/** Where a subscription's updates come from now. */
export type LiveSource = "push" | "polling" | "idle";

/** A connection, or a function returning one the first time push is needed. */
export type PushConnection = HubConnection | PlainSocketConnection;

/** A telemetry record of a subscription. Never carries payloads. */
export type LiveTelemetryRecord = { type: string; at: number; subscription: string } & (
  | {
      type: "fallbackStarted";
      reason: "noPushConnection" | "flagOff" | "connectingTooLong" | "reconnectingTooLong" | "pushFailed";
      detail: string;
    }
  | { type: "fallbackStopped"; reason: "pushUp" | "unsubscribed"; pollingMs: number; polls: number }
  | { type: "pollMade"; kind: "scheduled" | "catchUp" | "refresh" }
  | { type: "pollFailed"; kind: "scheduled" | "catchUp" | "refresh"; error: string; retryInMs: number | null }
  | { type: "sourceSwitched"; from: LiveSource; to: LiveSource }
  | { type: "duplicateDropped"; source: "push" | "poll"; reason: "repeat" | "stale" }
  | { type: "flagChanged"; enabled: boolean }
  | { type: "flagReadFailed"; error: string }
);

/** What a poll function is given. */
export interface PollContext {
  /** Aborted when the poll timed out or the subscription ended. */
  signal: AbortSignal;
  /** Why the poll is made. */
  kind: "scheduled" | "catchUp" | "refresh";
}

/** The poll request: a URL fetched as JSON, or an async function. */
export type PollRequest<R> = string | ((context: PollContext) => R | Promise<R>);

/** A live subscription's spec. */
export interface LiveSpec<T = any, R = any> {
  /** The connection (with `subscribe(spec)`); null or absent for polling only. */
  connection?: PushConnection | (() => PushConnection) | null;
  /** The hub event to listen for, e.g. "LongTermObligationsUpdated". */
  event?: string;
  /** The plain WebSocket message type to listen for, e.g. "stats:tasks". */
  type?: string;
  /** A group to join while push is in use (HubConnection only), e.g. `{ join: "JoinUserGroup", leave: "LeaveUserGroup", args: [userId] }`. */
  group?: GroupSpec;
  /** Which pushed payloads belong to this subscription (for a connection several share). */
  filter?: (payload: T) => boolean;
  /** The poll request, or `{ url | fetch, intervalMs?, map?, timeoutMs? }`. */
  poll?: PollRequest<R> | { url?: string; fetch?: (context: PollContext) => R | Promise<R>; intervalMs?: number; map?: (result: R) => T; timeoutMs?: number };
  /** Time from one poll's answer to the next (default 45 000 ms). */
  intervalMs?: number;
  /** From the poll result to the pushed payload's shape. */
  map?: (result: R) => T;
  /** What an update is about (with `version`), or its identity (without): a function or a property name. */
  key?: ((value: T) => unknown) | string;
  /** How new an update is (a number or an ISO timestamp): a function or a property name. Older or equal versions are dropped. */
  version?: ((value: T) => number | string | Date) | string;
  /** The feature flag that turns push on: a boolean, a function (boolean or Promise), or a JSON flags document and the flag's name. */
  flag?: boolean | (() => boolean | Promise<boolean>) | { url: string; name: string; refreshMs?: number };
  /** How often a function or document flag is re-read (default 60 000 ms; 0: only on refresh()). */
  flagRefreshMs?: number;
  /** How long push may be (re)connecting before polling takes over (default 10 000 ms). */
  fallbackAfterMs?: number;
  /** A poll not answered within this failed (default 30 000 ms). */
  pollTimeoutMs?: number;
  /** The longest wait after failed polls (default 300 000 ms). */
  maxBackoffMs?: number;
  /** Send cookies with poll and flag requests to other origins. */
  withCredentials?: boolean;
  /** Names the subscription in telemetry (default: the event or type, else the poll URL's path without its query). */
  name?: string;
  /** A first update listener. */
  onUpdate?: (value: T, info: { source: "push" | "poll" }) => void;
  /** Telemetry records of this subscription. */
  onTelemetry?: (record: LiveTelemetryRecord) => void;
}

/** Counters of a subscription. */
export interface LiveStats {
  delivered: number;
  pollsMade: number;
  pollsFailed: number;
  duplicatesDropped: number;
  sourceSwitches: number;
  fallbacks: number;
}

/** One live value: updates from push and polling, deduped, delivered once and never backwards. */
export declare class LiveSubscription<T = any> implements AsyncIterable<T> {
  private constructor();
  /** The latest value delivered, or undefined before the first. */
  readonly current: T | undefined;
  /** Where updates come from now. */
  readonly source: LiveSource;
  /** The flag in force, or undefined before it was read. */
  readonly flag: boolean | undefined;
  /** The connection this subscription pushes over, once it was first needed. */
  readonly connection: PushConnection | null;
  /** Calls `listener` for every delivered update; returns a remover. */
  onUpdate(listener: (value: T, info: { source: "push" | "poll" }) => void): () => void;
  /** Calls `listener` when the source changes; returns a remover. */
  onSourceChange(listener: (change: { current: LiveSource; previous: LiveSource }) => void): () => void;
  /** Re-reads the flag and polls now; resolves once that poll settled. Never rejects. */
  refresh(): Promise<void>;
  /** Counters. */
  stats(): LiveStats;
  /** Stops for good. */
  unsubscribe(): void;
  /** The current value (if any), then every update until unsubscribed. */
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** Subscribes over a connection (or a factory of one, or null for polling only). */
export declare function subscribe<T = any, R = any>(
  connection: PushConnection | (() => PushConnection) | null,
  spec: LiveSpec<T, R>,
): LiveSubscription<T>;
/** Subscribes with the connection in `spec.connection`. */
export declare function subscribe<T = any, R = any>(spec: LiveSpec<T, R>): LiveSubscription<T>;
