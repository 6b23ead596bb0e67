// Type declarations for hubwire/testing/react (testing-react.js).

import type { ReactElement, ReactNode } from "react";
import type { HubConnection, HubConnectionBuilder } from "./index.js";
import type { TestHub } from "./testing.js";

/** A HubProvider whose connection goes to `hub` (it calls `hub.install()`). */
export declare function TestHubProvider(props: {
  hub: TestHub;
  configure?: (builder: HubConnectionBuilder) => HubConnectionBuilder | void;
  children?: ReactNode;
}): ReactElement;

/** The connection the latest TestHubProvider of `hub` built, or null. */
export declare function testHubConnection(hub: TestHub): HubConnection | null;

/** Resolves once the latest TestHubProvider connection of `hub` is in `state`. */
export declare function waitForConnectionState(hub: TestHub, state: string, options?: { timeoutMs?: number }): Promise<void>;
