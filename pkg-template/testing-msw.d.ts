// Type declarations for hubwire/testing/msw (testing-msw.js).

import type { RequestHandler, WebSocketHandler } from "msw";
import type { TestHub } from "./testing.js";

/** MSW 2 handlers of a test hub: negotiate over `http`, its WebSockets over `ws`. Also points hubwire's shell at the global fetch and WebSocket, which MSW replaces. */
export declare function signalrHandlers(hub: TestHub): [RequestHandler, WebSocketHandler];
