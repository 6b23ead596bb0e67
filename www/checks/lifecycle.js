// Checks of the browser lifecycle in a real page: online/offline, visibility and the
// back/forward cache's pagehide/pageshow, fired as DOM events on the page's own window and
// document (what the browser itself dispatches), with what the hub sees read from its log.
//
// Headless Chromium never goes offline, hides a tab or freezes a page by itself, so each check
// sets the matching property (`navigator.onLine`, `document.visibilityState`) on the page and
// dispatches the event the browser would; the client under test only listens, as it does for
// the real ones.

import { HttpTransportType, HubConnectionState } from "/pkg/index.js";
import { check, connect, control, equal, sleep, until } from "./util.js";

const WS_ONLY = { transport: HttpTransportType.WebSockets };

/** Negotiates the hub answered since the log was last cleared. */
async function negotiates() {
  return (await control("log")).filter((e) => e.kind === "negotiate").length;
}

/** Overrides a read-only browser property for the rest of a check; returns the undo. */
function pretend(target, property, value) {
  const own = Object.getOwnPropertyDescriptor(target, property);
  Object.defineProperty(target, property, { configurable: true, get: () => value });
  return () => {
    if (own) Object.defineProperty(target, property, own);
    else delete target[property];
  };
}

/**
 * A connection dropped with its first retry refused, so its next attempt waits 60 s: only a
 * lifecycle event can make it come sooner.
 */
async function waitingForASlowRetry() {
  const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect([0, 60_000, 60_000, 60_000]));
  await connection.start();
  await control("faults", { refuseConnects: 1 });
  // Cleared first, so the refusal waited for is this check's and not an earlier check's.
  await control("log", undefined, "DELETE");
  await control("drop", {});
  await until(async () => (await control("log")).some((e) => e.kind === "refused"), "the refused attempt");
  return connection;
}

function pageTransition(type, persisted) {
  return new PageTransitionEvent(type, { persisted });
}

export const checks = {
  async "offline: a dropped connection makes no attempt until online, then reconnects at once"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect([0, 60_000, 60_000, 60_000]));
    await connection.start();
    const restore = pretend(Navigator.prototype, "onLine", false);
    try {
      window.dispatchEvent(new Event("offline"));
      await control("log", undefined, "DELETE");
      await control("drop", {});
      await until(() => connection.state === HubConnectionState.Reconnecting, "Reconnecting");
      await sleep(1000);
      equal(await negotiates(), 0, "negotiates while offline");
      restore();
      const online = performance.now();
      window.dispatchEvent(new Event("online"));
      await until(() => connection.state === HubConnectionState.Connected, "Connected after online", 3000);
      const took = performance.now() - online;
      // The policy's next step is 60 s away: only the online event can explain a quick attempt.
      check(took < 3000, `reconnected ${Math.round(took)} ms after online`);
      equal(await negotiates(), 1, "negotiates after online");
    } finally {
      restore();
      await connection.stop();
    }
  },

  async "visible again: a retry waiting 60 s runs at once"() {
    const connection = await waitingForASlowRetry();
    await sleep(300);
    equal(connection.state, HubConnectionState.Reconnecting, "state while waiting");
    const restore = pretend(Document.prototype, "visibilityState", "visible");
    try {
      document.dispatchEvent(new Event("visibilitychange"));
      await until(() => connection.state === HubConnectionState.Connected, "Connected after visibilitychange", 3000);
    } finally {
      restore();
      await connection.stop();
    }
  },

  async "a hidden page's visibilitychange does not retry"() {
    const connection = await waitingForASlowRetry();
    await control("log", undefined, "DELETE");
    const restore = pretend(Document.prototype, "visibilityState", "hidden");
    try {
      document.dispatchEvent(new Event("visibilitychange"));
      await sleep(800);
      equal(await negotiates(), 0, "negotiates after a change to hidden");
      equal(connection.state, HubConnectionState.Reconnecting, "state");
    } finally {
      restore();
      await connection.stop();
    }
  },

  async "pagehide stops cleanly; pageshow from the cache starts again and re-joins the groups"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect([0, 100]));
    await connection.start();
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["europe"] });
    const firstId = connection.connectionId;
    window.dispatchEvent(pageTransition("pagehide", true));
    await until(() => connection.state === HubConnectionState.Disconnected, "Disconnected after pagehide");
    await until(
      async () => !(await control("connections")).some((c) => c.connectionId === firstId),
      "the hub to see the connection end",
    );
    await control("log", undefined, "DELETE");
    window.dispatchEvent(pageTransition("pageshow", true));
    await until(() => connection.state === HubConnectionState.Connected, "Connected after pageshow");
    check(connection.connectionId !== firstId, "a new connection id");
    const log = await control("log");
    equal(log.filter((e) => e.kind === "negotiate").length, 1, "negotiates after pageshow");
    const joins = log.filter((e) => e.kind === "invocation" && e.target === "JoinDispatchGroup");
    equal(joins.map((e) => e.arguments), [["europe"]], "re-joins");
    await connection.stop();
  },

  async "a normal pageshow (not from the cache) after pagehide does not start the connection"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect([0, 100]));
    await connection.start();
    window.dispatchEvent(pageTransition("pagehide", false));
    await until(() => connection.state === HubConnectionState.Disconnected, "Disconnected after pagehide");
    await control("log", undefined, "DELETE");
    window.dispatchEvent(pageTransition("pageshow", false));
    await sleep(800);
    equal(await negotiates(), 0, "negotiates after a normal pageshow");
    equal(connection.state, HubConnectionState.Disconnected, "state");
  },
};
