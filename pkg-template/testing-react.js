// hubwire/testing/react: a HubProvider wired to a test hub (hubwire/testing), and a wait for a
// connection state, for React Testing Library or plain react-dom tests.
//
//   render(<TestHubProvider hub={hub}><Dashboard /></TestHubProvider>);
//   await waitForConnectionState(hub, "Connected");

import { createElement, useMemo } from "react";
import { HubConnectionBuilder } from "./index.js";
import { HubProvider } from "./react.js";
import { waitForState } from "./testing.js";

/** hub -> the connections its providers built, oldest first. */
const clientsOf = new WeakMap();

/**
 * A `HubProvider` whose connection goes to `hub` (by `hub.clientOptions`; the hub is also
 * installed, so its `http` routes answer the app's fetches, and other connection code of the
 * app reaches it too). `configure(builder)` adds builder calls, as HubProvider's does. The
 * provider starts the connection on mount and stops it on unmount.
 */
export function TestHubProvider({ hub, configure, children }) {
  hub.install();
  const connection = useMemo(() => {
    const builder = new HubConnectionBuilder().withUrl(hub.url, hub.clientOptions);
    const built = (configure?.(builder) ?? builder).build();
    if (!clientsOf.has(hub)) clientsOf.set(hub, []);
    clientsOf.get(hub).push(built);
    return built;
    // `configure` is read when the connection is built, as HubProvider reads it.
  }, [hub]);
  return createElement(HubProvider, { connection }, children);
}

/** The connection the latest `TestHubProvider` of `hub` built, or null. */
export function testHubConnection(hub) {
  const clients = clientsOf.get(hub);
  return clients?.[clients.length - 1] ?? null;
}

/** Resolves once the latest `TestHubProvider` connection of `hub` is in `state`. */
export function waitForConnectionState(hub, state, options) {
  const connection = testHubConnection(hub);
  if (!connection) return Promise.reject(new Error("waitForConnectionState: no TestHubProvider of this hub was rendered"));
  return waitForState(connection, state, options);
}
