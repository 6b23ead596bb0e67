// hubwire/testing/msw: MSW 2 handlers for a test hub (hubwire/testing), for apps whose tests
// already run MSW: `setupServer(...signalrHandlers(hub), ...theAppsOwnHandlers)`.
//
// An `http` handler answers the hub's negotiate and a `ws` handler carries its WebSockets; both
// are the same TestHub (methods, groups, drop, close, refuseConnects, invocations) as without
// MSW. The app's polling endpoints stay ordinary MSW handlers.
//
// MSW intercepts by replacing the global `fetch` and `WebSocket`. hubwire's shell, in Node under
// jsdom, uses the `ws` package instead of the global WebSocket (see wasm.js); building these
// handlers therefore points the shell at the globals, looked up at each use, so MSW sees its
// traffic. Frames are handed on as promise jobs both ways, so neither side is re-entered.

import { http, HttpResponse, ws } from "msw";
import { useGlobalHostClasses } from "./testing.js";

function later(job) {
  Promise.resolve().then(job);
}

/** The MSW handlers (negotiate over `http`, the socket over `ws`) of `hub`. */
export function signalrHandlers(hub) {
  useGlobalHostClasses();
  const negotiate = http.post(`${hub.url}/negotiate`, async ({ request }) => {
    const answer = await hub._answer("POST", request.url, await request.text());
    return new HttpResponse(answer.body, {
      status: answer.status,
      statusText: answer.statusText,
      headers: answer.contentType ? { "content-type": answer.contentType } : {},
    });
  });
  const socket = ws.link(hub.url.replace(/^http/, "ws")).addEventListener("connection", ({ client }) => {
    const peer = {
      send: (text) => later(() => client.send(text)),
      close: (code, reason) => later(() => client.close(code, reason)),
      // MSW closes a mocked socket cleanly by its API; 1006 still tells the client it was lost.
      abort: () => later(() => client.close(1006, "")),
    };
    const hubSide = hub._accept(client.url.href, peer);
    if (!hubSide) {
      later(() => client.close(1006, "The test hub refused the connection."));
      return;
    }
    client.addEventListener("message", (event) => {
      const data = event.data;
      later(() => hubSide.text(data));
    });
    client.addEventListener("close", () => hubSide.closed());
  });
  return [negotiate, socket];
}
