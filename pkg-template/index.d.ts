// Type declarations for hubwire's JavaScript entry (index.js).

/** The library version, as built into the WebAssembly core. */
export declare const VERSION: string;

/** Connection states, spelled as in `@microsoft/signalr`. */
export declare const HubConnectionState: {
  readonly Disconnected: "Disconnected";
  readonly Connecting: "Connecting";
  readonly Connected: "Connected";
  readonly Disconnecting: "Disconnecting";
  readonly Reconnecting: "Reconnecting";
};
export type HubConnectionState = (typeof HubConnectionState)[keyof typeof HubConnectionState];

/** Transport bit flags, as in `@microsoft/signalr`. This release connects over WebSockets. */
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
  /** Allowed transports: `HttpTransportType` flags or a transport name. Must include WebSockets in this release. */
  transport?: HttpTransportType | "WebSockets" | "ServerSentEvents" | "LongPolling";
}

/** A connection to a SignalR hub. Create one with `HubConnectionBuilder`. */
export declare class HubConnection {
  private constructor();
  /** The current state. */
  readonly state: HubConnectionState;
  /** The server's id for this connection, or null when not connected. */
  readonly connectionId: string | null;
  /** Connects; resolves once the handshake completed, rejects with the reason it could not. */
  start(): Promise<void>;
  /** Disconnects; resolves once the connection is Disconnected. */
  stop(): Promise<void>;
  /** Registers a handler for calls of `methodName` from the server (names ignore case). */
  on(methodName: string, newMethod: (...args: any[]) => any): void;
  /** Removes one handler of `methodName`, or all of them when `method` is omitted. */
  off(methodName: string, method?: (...args: any[]) => any): void;
  /** Calls a hub method; resolves with its result, rejects with the server's error message. */
  invoke<T = any>(methodName: string, ...args: any[]): Promise<T>;
  /** Calls a hub method without waiting for it to run; resolves once sent. */
  send(methodName: string, ...args: any[]): Promise<void>;
  /** Registers a callback for when the connection closes; it gets an Error when the close was not requested. */
  onclose(callback: (error?: Error) => void): void;
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
  /** The configured connection, not yet started. */
  build(): HubConnection;
}
