// Type declarations for hubwire/testing (testing.js): an in-process SignalR hub for tests.

/** What a hub method is called with (before the client's arguments). */
export interface HubMethodContext {
  /** The calling connection's id. */
  readonly connectionId: string;
  /** The hub. */
  readonly hub: TestHub;
  /** Adds the calling connection to `group`. */
  addToGroup(group: string): void;
  /** Removes the calling connection from `group`. */
  removeFromGroup(group: string): void;
  /** Calls `target(...args)` on the calling client. */
  send(target: string, ...args: unknown[]): void;
}

/**
 * A hub method: its return value (or promise) is the invocation's result; a throw fails the
 * invocation with the error's message; for a streaming call an iterable or async iterable
 * gives the stream's items.
 */
export type HubMethod = (context: HubMethodContext, ...args: any[]) => unknown;

/** An endpoint answered next to the hub (install mode): a JSON value, or a function of the request giving one. */
export type TestRoute = unknown | ((request: { url: URL; method: string; body: string }) => unknown);

/** Options of `createTestHub`. */
export interface TestHubOptions {
  /** The hub's URL (absolute, or relative to the page); default a unique `http://hub-N.test/hub`. */
  url?: string;
  /** Hub methods by name (names ignore case). A method not named here echoes its first argument. */
  methods?: Record<string, HubMethod>;
  /** Endpoints answered with JSON next to the hub, as `"GET /api/obligations"` -> answer (used by `install()` and `hub.fetch`). */
  http?: Record<string, TestRoute>;
  /** The hub's keep-alive ping interval in ms (default 15 000, as a real server; 0: none). */
  keepAliveIntervalMs?: number;
}

/** A hub method call a client made. */
export interface TestInvocation {
  connectionId: string;
  /** The method name as the client spelled it. */
  method: string;
  args: any[];
  /** invoke (a result awaited), send (none), or stream. */
  kind: "invoke" | "send" | "stream";
}

/** A connect attempt the hub saw. */
export interface TestConnectAttempt {
  /** `Date.now()` when it came (fake time under fake timers). */
  at: number;
  /** negotiate, or a socket opened without negotiate. */
  kind: "negotiate" | "socket";
  /** Whether `refuseConnects` refused it. */
  refused: boolean;
}

/** An in-process SignalR hub. */
export declare class TestHub {
  private constructor();
  /** The hub's URL, for `withUrl`. */
  readonly url: string;
  /** `{ WebSocket, httpClient }` of this hub, for `withUrl(hub.url, hub.clientOptions)` of hubwire or @microsoft/signalr. */
  readonly clientOptions: { WebSocket: TestHub["WebSocket"]; httpClient: TestHub["httpClient"] };
  /** A WebSocket class whose sockets reach this hub (for a client's `WebSocket` option). */
  readonly WebSocket: { new (url: string | URL, protocols?: string | string[]): WebSocket; readonly CONNECTING: 0; readonly OPEN: 1; readonly CLOSING: 2; readonly CLOSED: 3 };
  /** A fetch answering this hub's negotiate and `http` routes (404 for anything else). */
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** An HttpClient for @microsoft/signalr's `withUrl(url, { httpClient })`. */
  readonly httpClient: {
    send(request: { method?: string; url?: string; content?: string | ArrayBuffer }): Promise<{ statusCode: number; statusText?: string; content?: string }>;
    get(url: string, options?: object): Promise<{ statusCode: number; statusText?: string; content?: string }>;
    post(url: string, options?: object): Promise<{ statusCode: number; statusText?: string; content?: string }>;
    delete(url: string, options?: object): Promise<{ statusCode: number; statusText?: string; content?: string }>;
    getCookieString(url: string): string;
  };
  /** The keep-alive ping interval in ms (0: none). */
  keepAliveIntervalMs: number;
  /** Every hub method call, in order (a copy). */
  readonly invocations: TestInvocation[];
  /** Every connect attempt, in order (a copy). */
  readonly attempts: TestConnectAttempt[];
  /** The live (handshaken) connections. */
  readonly connections: { id: string; groups: string[] }[];
  /** Group name -> ids of its connections. */
  readonly groups: Record<string, string[]>;
  /** Calls `target(...args)` on every client, a group's or one connection's; returns how many clients. */
  publish(target: string, args?: unknown[] | unknown, options?: { group?: string; connectionId?: string }): number;
  /** Drops connections as a network failure would (close code 1006, no Close message). */
  drop(options?: { connectionId?: string }): void;
  /** Closes connections with a SignalR Close message. */
  close(options?: { error?: string | Error; allowReconnect?: boolean; connectionId?: string }): void;
  /** Refuses the next `count` connect attempts (negotiate answers 503). */
  refuseConnects(count?: number): void;
  /** Fails calls of `method` with `error` (null: run them again); `times` limits how many. */
  failMethod(method: string, error: string | Error | null, options?: { times?: number }): void;
  /** Sends each of the next `count` published invocations twice. */
  sendTwice(count?: number): void;
  /** Resolves with `check(hub)`'s first truthy value, re-checked as things happen; rejects after `timeoutMs` real ms (default 5000). */
  waitFor<T>(check: (hub: TestHub) => T, options?: { timeoutMs?: number; what?: string }): Promise<NonNullable<T>>;
  /** Resolves with the calls of `method` once there are `count` (default 1) of them. */
  waitFor(method: string, options?: { timeoutMs?: number; count?: number }): Promise<TestInvocation[]>;
  /** Makes the global fetch and WebSocket (and hubwire's own host classes) reach this hub; returns `uninstall`. */
  install(): () => void;
  /** Undoes `install()`. */
  uninstall(): void;
  /** Drops every connection, uninstalls, and refuses any later connection. */
  stop(): void;
}

/** An in-process SignalR hub for tests. */
export declare function createTestHub(options?: TestHubOptions): TestHub;

/** Makes hubwire's shell use the global fetch and WebSocket at each use (what MSW replaces); returns an undo. */
export declare function useGlobalHostClasses(): () => void;

/** Resolves once `connection.state` is `state`; rejects after `timeoutMs` real ms (default 5000). */
export declare function waitForState(
  connection: { readonly state: string; onstatechange?(callback: (change: { current: string }) => void): void },
  state: string,
  options?: { timeoutMs?: number },
): Promise<void>;
