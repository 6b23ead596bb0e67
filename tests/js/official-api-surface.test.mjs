// The parts of the official API that need no hub, run side by side with @microsoft/signalr:
// the builder's argument errors, logging settings, the enums, the JSON hub protocol object, the
// HTTP client classes and the error classes. Each case runs the same code against both
// packages and compares what an app would observe (return values, thrown class and message).
//
// Run: node --test tests/js/official-api-surface.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";

const official = await import("@microsoft/signalr");
const hubwire = await import("../../pkg/index.js");

/** What running `body(lib)` looks like to an app: its value, or the error class name and message. */
function observe(lib, body) {
  try {
    const value = body(lib);
    return { value };
  } catch (error) {
    const kind = ["AbortError", "HttpError", "TimeoutError"].find((name) => error instanceof lib[name]) ?? error?.constructor?.name;
    return { threw: kind, name: error?.name, message: error?.message };
  }
}

/** Asserts `body` is observed the same with both packages. */
function same(body) {
  assert.deepEqual(observe(hubwire, body), observe(official, body));
}

const cases = {
  "withUrl without a url": (lib) => new lib.HubConnectionBuilder().withUrl(undefined),
  "withUrl with an empty url": (lib) => new lib.HubConnectionBuilder().withUrl(""),
  "build without withUrl": (lib) => new lib.HubConnectionBuilder().build(),
  "configureLogging with nothing": (lib) => new lib.HubConnectionBuilder().configureLogging(undefined),
  "configureLogging with an unknown level name": (lib) => new lib.HubConnectionBuilder().configureLogging("nonsense"),
  "configureLogging with level names in any case": (lib) =>
    ["warn", "Information", "TRACE", "none", "critical"].map((name) => typeof new lib.HubConnectionBuilder().configureLogging(name)),
  "withAutomaticReconnect twice": (lib) => new lib.HubConnectionBuilder().withAutomaticReconnect().withAutomaticReconnect([0]),
  "withHubProtocol with nothing": (lib) => new lib.HubConnectionBuilder().withHubProtocol(undefined),
  "withServerTimeout with nothing": (lib) => new lib.HubConnectionBuilder().withServerTimeout(undefined),
  "withKeepAliveInterval with nothing": (lib) => new lib.HubConnectionBuilder().withKeepAliveInterval(undefined),
  "the builder's public fields": (lib) => {
    const builder = new lib.HubConnectionBuilder().withUrl("http://127.0.0.1:1/hub", { timeout: 5 }).withUrl("http://127.0.0.1:1/hub2", { withCredentials: false });
    return { url: builder.url, options: builder.httpConnectionOptions };
  },
  "a built connection's settings": (lib) => {
    const connection = new lib.HubConnectionBuilder().withUrl("http://127.0.0.1:1/hub").withServerTimeout(4000).withKeepAliveInterval(1000).build();
    return { state: connection.state, id: connection.connectionId, url: connection.baseUrl, timeout: connection.serverTimeoutInMilliseconds, keepAlive: connection.keepAliveIntervalInMilliseconds };
  },
  "baseUrl changed while disconnected": (lib) => {
    const connection = new lib.HubConnectionBuilder().withUrl("http://127.0.0.1:1/hub").build();
    connection.baseUrl = "http://127.0.0.1:2/other";
    connection.serverTimeoutInMilliseconds = 1234;
    return [connection.baseUrl, connection.serverTimeoutInMilliseconds];
  },
  "enum reverse lookup": (lib) => [lib.LogLevel[3], lib.HttpTransportType[4], lib.MessageType[7], lib.TransferFormat[2], lib.HubConnectionState.Reconnecting],
  "NullLogger": (lib) => [typeof lib.NullLogger.instance.log, lib.NullLogger.instance.log(lib.LogLevel.Error, "x")],
  "JsonHubProtocol fields": (lib) => {
    const protocol = new lib.JsonHubProtocol();
    return [protocol.name, protocol.version, protocol.transferFormat];
  },
  "JsonHubProtocol writes a message": (lib) => new lib.JsonHubProtocol().writeMessage({ type: 1, target: "Send", arguments: [1, "a"], invocationId: "3" }),
  "JsonHubProtocol parses several messages": (lib) =>
    new lib.JsonHubProtocol().parseMessages('{"type":6}\u001e{"type":1,"target":"T","arguments":[1]}\u001e{"type":3,"invocationId":"1","result":2}\u001e', lib.NullLogger.instance),
  "JsonHubProtocol skips an unknown type": (lib) => new lib.JsonHubProtocol().parseMessages('{"type":99}\u001e{"type":6}\u001e', lib.NullLogger.instance),
  "JsonHubProtocol on an incomplete message": (lib) => new lib.JsonHubProtocol().parseMessages('{"type":6}', lib.NullLogger.instance),
  "JsonHubProtocol on a message without a type": (lib) => new lib.JsonHubProtocol().parseMessages("{}\u001e", lib.NullLogger.instance),
  "JsonHubProtocol on a bad Completion": (lib) => new lib.JsonHubProtocol().parseMessages('{"type":3,"invocationId":"1","result":1,"error":"x"}\u001e', lib.NullLogger.instance),
  "JsonHubProtocol on a bad Ack": (lib) => new lib.JsonHubProtocol().parseMessages('{"type":8}\u001e', lib.NullLogger.instance),
  "JsonHubProtocol on a non-string": (lib) => new lib.JsonHubProtocol().parseMessages(42, lib.NullLogger.instance),
  "HttpError": (lib) => {
    const error = new lib.HttpError("Not Found", 404);
    return [error instanceof lib.HttpError, error instanceof Error, error.name, error.message, error.statusCode, String(error)];
  },
  "TimeoutError and AbortError defaults": (lib) => [new lib.TimeoutError().message, new lib.AbortError().message, new lib.AbortError("x") instanceof lib.AbortError, String(new lib.TimeoutError())],
  "HttpResponse": (lib) => ({ ...new lib.HttpResponse(201, "Created", "body") }),
  "HttpClient helpers fill in the method": (lib) => {
    class Recorder extends lib.HttpClient {
      seen = [];
      send(request) {
        this.seen.push(request);
        return Promise.resolve(new lib.HttpResponse(200));
      }
    }
    const client = new Recorder();
    client.get("http://a/1", { timeout: 5 });
    client.post("http://a/2", { content: "x" });
    client.delete("http://a/3");
    return [client.seen, client.getCookieString("http://a/")];
  },
};

for (const [name, body] of Object.entries(cases)) {
  test(`same as the official client: ${name}`, () => same(body));
}

test("a relative url in Node: the official client throws from build(); hubwire builds (server rendering) and start() rejects with the same error", async () => {
  const expected = observe(official, (lib) => new lib.HubConnectionBuilder().withUrl("/hub").build());
  assert.equal(expected.message, "Cannot resolve '/hub'.");
  const connection = new hubwire.HubConnectionBuilder().withUrl("/hub").build();
  assert.equal(connection.state, "Disconnected");
  await assert.rejects(connection.start(), { message: expected.message });
});

/** A server on 127.0.0.1 answering every request with `status` and `body`; closes after the test. */
async function answering(t, status, body) {
  const server = http.createServer((request, response) => {
    response.writeHead(status, { "content-type": "text/plain" });
    response.end(body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}/`;
}

/** What an app sees from `promise`: its response fields, or the error's class and fields. */
async function settle(lib, promise) {
  try {
    const response = await promise;
    return { statusCode: response.statusCode, content: response.content };
  } catch (error) {
    const kind = ["AbortError", "HttpError", "TimeoutError"].find((name) => error instanceof lib[name]) ?? error?.constructor?.name;
    return { threw: kind, message: error.message, statusCode: error.statusCode };
  }
}

test("DefaultHttpClient: a 200 answer, a 404 answer and an aborted request, as the official client", async (t) => {
  const ok = await answering(t, 200, "fine");
  const missing = await answering(t, 404, "");
  for (const [label, run] of [
    ["200", (lib) => new lib.DefaultHttpClient(lib.NullLogger.instance).get(ok)],
    ["404", (lib) => new lib.DefaultHttpClient(lib.NullLogger.instance).get(missing)],
    ["aborted", (lib) => new lib.DefaultHttpClient(lib.NullLogger.instance).get(ok, { abortSignal: { aborted: true, onabort: null } })],
  ]) {
    assert.deepEqual(await settle(hubwire, run(hubwire)), await settle(official, run(official)), label);
  }
});
