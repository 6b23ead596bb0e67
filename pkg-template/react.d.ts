// Type declarations for hubwire's React hooks (react.js), imported as "hubwire/react".

import type { ReactElement, ReactNode } from "react";
import type { HubConnection, HubConnectionBuilder, HubConnectionState, IHttpConnectionOptions, TabSharingOptions } from "./index.js";
import type { LiveSource, LiveSpec } from "./live.js";

/** Props of `HubProvider`: a hub `url` (with `options` and `configure`), or a ready `connection`. */
export type HubProviderProps =
  | {
      /** The hub's address, absolute or relative to the page. A new `url` builds a new connection. */
      url: string;
      /** Options for `withUrl` (read when the connection is built). */
      options?: IHttpConnectionOptions;
      /** Further builder calls, e.g. `(b) => b.configureLogging(LogLevel.Warning)` (read when the connection is built). */
      configure?: (builder: HubConnectionBuilder) => HubConnectionBuilder | void;
      /** One connection for all tabs of the origin (`withTabSharing`): `true`, or its options (read when the connection is built). */
      shareAcrossTabs?: boolean | TabSharingOptions;
      connection?: undefined;
      children?: ReactNode;
    }
  | {
      /** A connection built by the app. Started on mount when Disconnected; stopped on unmount only if the provider started it. */
      connection: HubConnection;
      url?: undefined;
      options?: undefined;
      configure?: undefined;
      shareAcrossTabs?: undefined;
      children?: ReactNode;
    };

/**
 * Gives its children one hub connection, started on mount and stopped on unmount. Under
 * `React.StrictMode` the double mount reuses the same start: the hub sees one negotiate.
 */
export declare function HubProvider(props: HubProviderProps): ReactElement;

/** The connection of the nearest `HubProvider`. Throws outside of one. */
export declare function useHubConnection(): HubConnection;

/**
 * Calls `handler` for every call of the client method `name` (names ignore case) from the hub.
 * The latest `handler` is always the one called; the subscription is made once per name.
 * `options` go to `connection.on` as its third argument (read when subscribing). A falsy
 * `name` subscribes to nothing.
 */
export declare function useHubEvent<Args extends any[] = any[]>(
  name: string | null | undefined,
  handler: (...args: Args) => unknown,
  options?: Parameters<HubConnection["on"]>[2],
): void;

export type { LiveSource, LiveSpec };

/** What `useConnectionState` returns; a new object whenever a field changes. */
export interface ConnectionStatus {
  /** The connection's state. */
  readonly state: HubConnectionState;
  /** The reconnect attempt in progress (1 for the first retry), or 0. */
  readonly attempt: number;
  /** The delay before the next retry, as announced when the state changed; null when none is scheduled. */
  readonly nextRetryInMs: number | null;
  /** When the next retry happens (epoch milliseconds, for a countdown), or null. */
  readonly nextRetryAt: number | null;
  /** The transport in use (e.g. "WebSockets") when the connection reports it, else null. */
  readonly transport: string | null;
  /** The server's id for the connection, or null. */
  readonly connectionId: string | null;
  /** "push" while connected (unless the connection reports polling), else as the connection reports, or "idle". */
  readonly source: LiveSource;
  /** Why the connection last closed or failed to start, until it is Connected again; else null. */
  readonly error: Error | null;
}

/** The connection's state, re-rendering when it changes. */
export declare function useConnectionState(): ConnectionStatus;

/** What `useInvoke` returns. */
export interface InvokeResult<T> {
  /** Calls the hub method; resolves with its result, or with `undefined` when it failed (see `error`). Never rejects. */
  readonly invoke: (...args: any[]) => Promise<T | undefined>;
  /** True while the latest call is waiting for the hub. */
  readonly loading: boolean;
  /** The latest call's error, or null. */
  readonly error: Error | null;
  /** The last successful result (kept when a later call fails). */
  readonly data: T | undefined;
}

/** Calls the hub method `name` and tracks the latest call. */
export declare function useInvoke<T = any>(name: string): InvokeResult<T>;

/** A group membership by its join and leave hub methods, e.g. `{ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["north-america"] }`. */
export interface GroupSpec {
  /** The hub method that joins. */
  join: string;
  /** The hub method that leaves. */
  leave: string;
  /** Arguments of both (one value or an array). */
  args?: unknown;
}

/** What `useGroup` returns. */
export interface GroupStatus {
  /** True once the hub answered the join. */
  readonly joined: boolean;
  /** Why joining failed, or null. */
  readonly error: Error | null;
}

/**
 * Holds a group membership while mounted (`connection.joinGroup(spec)`, and
 * `connection.leaveGroup(spec)` on unmount); the connection keeps it across reconnects.
 * `null` holds nothing. Components holding an equal spec share one membership.
 */
export declare function useGroup(spec: GroupSpec | null | undefined): GroupStatus;

/** What `useLiveSubscription` returns. */
export interface LiveValue<T> {
  /** The latest value delivered (each change once, never older than one already shown), or undefined before the first. */
  readonly value: T | undefined;
  /** Where updates come from now. */
  readonly source: LiveSource;
  /** The subscription's last error (e.g. an invalid spec), or null. */
  readonly error: Error | null;
  /** Re-reads the flag and polls now; resolves once that poll settled. Never rejects. */
  readonly refresh: () => Promise<void>;
}

/**
 * The latest value of a live subscription (hubwire/live's `subscribe`: push when the hub
 * delivers, polling when it does not, deduped). Pushes over the provider's connection (or
 * `spec.connection`); outside a provider it polls only. Resubscribes when the spec's data
 * changes; functions in it are taken when subscribing. `null` subscribes to nothing.
 * Components passing an equal spec share one subscription.
 */
export declare function useLiveSubscription<T = any, R = any>(spec: LiveSpec<T, R> | null | undefined): LiveValue<T>;
