// The differential scenarios: app code written against the official @microsoft/signalr API
// only, run unchanged on the official client and on hubwire (tests/js/differential.test.mjs).
//
// Each scenario's `run(env)` gets
//   env.lib        the client library's namespace (`import * as lib`)
//   env.rec        a Recorder (observe.mjs): everything the app observes goes into it
//   env.url        the mock hub's `/hub` URL; env.mockUrl its root
//   env.transport  "WebSockets", "ServerSentEvents" or "LongPolling"
//   env.control    the mock's control API (support/mock.mjs)
//   env.track(c)   registers a connection to be stopped after the scenario (unrecorded)
//   env.hubProtocol  undefined for the JSON protocol, or a function making the library's
//                  MessagePackHubProtocol (the runner repeats scenarios with MessagePack)
// and records into env.rec only; what the hub received is added by the runner.
// `transports` lists where a scenario applies (all three when absent), `hubProtocols` with which
// hub protocols ("JSON", "MessagePack"; both when absent); `mockArgs` asks for a
// mock hub started with extra flags.

import net from "node:net";
import { sleep } from "./observe.mjs";

export const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];

/** Retry delays kept short so the suite stays quick. */
const QUICK_RETRIES = [0, 100, 300];

/** A connection to the hub on the scenario's transport; `options` add to withUrl's options. */
function build(env, { options = {}, configure = (builder) => builder, url = env.url, transport } = {}) {
  const { lib } = env;
  const builder = new lib.HubConnectionBuilder()
    .withUrl(url, { transport: transport ?? lib.HttpTransportType[env.transport], ...options })
    .configureLogging(lib.LogLevel.None);
  if (env.hubProtocol) builder.withHubProtocol(env.hubProtocol());
  const connection = configure(builder).build();
  env.track(connection);
  return connection;
}

/** Records every onclose / onreconnecting / onreconnected call: state, `this`, arguments. */
function watch(env, connection) {
  const { rec } = env;
  connection.onclose(function (error) {
    rec.push("onclose", {
      state: connection.state,
      thisIsConnection: this === connection,
      argumentCount: arguments.length,
      error: rec.describe(error),
    });
  });
  connection.onreconnecting(function (error) {
    rec.push("onreconnecting", {
      state: connection.state,
      thisIsConnection: this === connection,
      argumentCount: arguments.length,
      error: rec.describe(error),
      connectionId: rec.alias(connection.connectionId),
    });
  });
  connection.onreconnected(function (connectionId) {
    rec.push("onreconnected", {
      state: connection.state,
      thisIsConnection: this === connection,
      argumentCount: arguments.length,
      connectionId: rec.alias(connectionId),
      matchesProperty: connectionId === connection.connectionId,
    });
  });
}

/** Records the state and (aliased) connection id now. */
function snapshot(env, connection, label) {
  env.rec.push(label, { state: connection.state, connectionId: env.rec.alias(connection.connectionId) });
}

/** Subscribes to a stream, recording each item, the error or the completion under `label`. */
function subscribeRecorded(env, stream, label, { onItem } = {}) {
  const { rec } = env;
  let subscription;
  subscription = stream.subscribe({
    next: (item) => {
      rec.push("stream item", { label, item: rec.describe(item) });
      onItem?.(item, subscription);
    },
    error: (error) => rec.push("stream end", { label, error: rec.error(error) }),
    complete: (...args) => rec.push("stream end", { label, completed: true, argumentCount: args.length }),
  });
  return subscription;
}

/** A tiny RxJS-like subject written by the app itself (the official API accepts any `subscribe`). */
function appSubject(lib) {
  return new lib.Subject();
}

/** A 127.0.0.1 port with nothing listening on it (a server bound and closed again). */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Waits until the hub has no connection left: `stop()` resolves before the hub has seen every
 * transport go (a WebSocket's closing handshake, an event stream's end), and the order of that
 * disconnect and a next connection's negotiate in the hub's log would otherwise be a race.
 */
async function hubForgotEveryone(env) {
  for (let waited = 0; waited < 3000; waited += 25) {
    if ((await env.control("/control/connections")).length === 0) return;
    await sleep(25);
  }
}

/** The transport the mock sees the connection on. */
async function hubTransport(env, connection) {
  const connections = await env.control("/control/connections");
  return connections.find((c) => c.connectionId === connection.connectionId)?.transport ?? null;
}

/** The transport after `name` in the official order, for fallback. */
function nextTransport(name) {
  return TRANSPORTS[TRANSPORTS.indexOf(name) + 1];
}

/** A retry policy object recording each call it gets and answering from `delays`. */
function recordingPolicy(env, delays) {
  return {
    nextRetryDelayInMilliseconds(context) {
      env.rec.push("policy asked", {
        previousRetryCount: context.previousRetryCount,
        elapsedMilliseconds: typeof context.elapsedMilliseconds,
        retryReason: env.rec.describe(context.retryReason),
      });
      return delays[context.previousRetryCount] ?? null;
    },
  };
}

/** Starts an invocation that stays pending (an upload never completed) and makes sure the hub has it. */
async function pendingInvocation(env, connection) {
  const subject = appSubject(env.lib);
  const pending = env.rec.outcome("pending invoke settled", connection.invoke("UploadSum", subject));
  subject.next(1);
  // The hub answers in order, so once this returns the upload's Invocation has arrived.
  await env.rec.outcome("sync invoke", connection.invoke("Echo", "sync"));
  return pending;
}

export const scenarios = [
  {
    name: "start and stop",
    async run(env) {
      const { rec } = env;
      const connection = build(env);
      watch(env, connection);
      snapshot(env, connection, "before start");
      await rec.outcome("start", connection.start());
      snapshot(env, connection, "after start");
      await rec.outcome("start again while connected", connection.start());
      await rec.outcome("stop", connection.stop());
      snapshot(env, connection, "after stop");
      await rec.outcome("stop again", connection.stop());
      await hubForgotEveryone(env);
      await rec.outcome("restart", connection.start());
      snapshot(env, connection, "after restart");
      await rec.outcome("stop after restart", connection.stop());
      snapshot(env, connection, "after second stop");
    },
  },
  {
    name: "stop during start",
    // Whether the negotiate reaches the hub before the stop is a race in both clients.
    hubLog: false,
    async run(env) {
      const { rec } = env;
      const connection = build(env);
      watch(env, connection);
      const starting = connection.start();
      snapshot(env, connection, "starting");
      const stopping = connection.stop();
      snapshot(env, connection, "stopping");
      await Promise.all([rec.outcome("start", starting), rec.outcome("stop", stopping)]);
      snapshot(env, connection, "after both");
      await hubForgotEveryone(env);
      await rec.outcome("start after the aborted start", connection.start());
      snapshot(env, connection, "after restart");
      await rec.outcome("stop", connection.stop());
    },
  },
  {
    name: "invoke: results and errors from the hub",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env);
      await rec.outcome("invoke before start", connection.invoke("Echo", 1));
      await connection.start();
      await rec.outcome("Echo object", connection.invoke("Echo", { a: [1, "x", null], b: true, n: 1.5 }));
      await rec.outcome("Echo string", connection.invoke("Echo", "text"));
      await rec.outcome("JoinDispatchGroup (void)", connection.invoke("JoinDispatchGroup", "europe"));
      await rec.outcome("Echo without its argument", connection.invoke("Echo"));
      await rec.outcome("Fail", connection.invoke("Fail", "broken on purpose"));
      await rec.outcome("unknown method", connection.invoke("NoSuchMethod", 1));
      await rec.outcome("streaming method invoked", connection.invoke("Count", 2));
      await control("/control/faults", { failMethod: { method: "Echo", times: 1, error: "injected" } });
      await rec.outcome("Echo with an injected fault", connection.invoke("Echo", 5));
      await rec.outcome("Echo after the fault", connection.invoke("Echo", 6));
      await connection.stop();
      await rec.outcome("invoke after stop", connection.invoke("Echo", 1));
    },
  },
  {
    name: "send",
    async run(env) {
      const { rec } = env;
      const connection = build(env);
      await rec.outcome("send before start", connection.send("Echo", 1));
      await connection.start();
      await rec.outcome("send Echo", connection.send("Echo", { sent: true }));
      await rec.outcome("send Fail (the hub's error is not reported)", connection.send("Fail", "x"));
      await rec.outcome("invoke after the sends", connection.invoke("Echo", 2));
      await connection.stop();
      await rec.outcome("send after stop", connection.send("Echo", 3));
    },
  },
  {
    name: "stream: items, completion, hub errors, dispose",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env);
      rec.call("stream before start", () => {
        const stream = connection.stream("Count", 1);
        subscribeRecorded(env, stream, "before start");
        return "returned a stream";
      });
      await rec.waitFor("stream end", { where: (e) => e.label === "before start", ms: 1000 });
      await connection.start();
      subscribeRecorded(env, connection.stream("Count", 3, 10), "Count 3");
      await rec.waitFor("stream end", { where: (e) => e.label === "Count 3" });
      subscribeRecorded(env, connection.stream("Count", 0), "Count 0");
      await rec.waitFor("stream end", { where: (e) => e.label === "Count 0" });
      subscribeRecorded(env, connection.stream("Echo", 1), "non-streaming method");
      await rec.waitFor("stream end", { where: (e) => e.label === "non-streaming method" });
      await control("/control/faults", { failMethod: { method: "Count", times: 1, error: "no counting today" } });
      subscribeRecorded(env, connection.stream("Count", 3), "Count with an injected fault");
      await rec.waitFor("stream end", { where: (e) => e.label === "Count with an injected fault" });
      subscribeRecorded(env, connection.stream("Count", 1000, 30), "disposed", {
        onItem: (item, subscription) => {
          if (item === 1) {
            subscription.dispose();
            rec.push("disposed after item", { item });
          }
        },
      });
      await rec.waitFor("disposed after item");
      // Nothing more may reach the disposed subscriber; the connection keeps working.
      await sleep(200);
      await rec.outcome("invoke after dispose", connection.invoke("Echo", "still here"));
      await connection.stop();
    },
  },
  {
    name: "upload: a client-to-server stream with Subject",
    async run(env) {
      const { rec, lib } = env;
      const connection = build(env);
      await connection.start();
      const subject = new lib.Subject();
      const sum = rec.outcome("UploadSum", connection.invoke("UploadSum", subject));
      for (const item of [1, 2, 3.5]) subject.next(item);
      subject.complete();
      await sum;
      const failing = new lib.Subject();
      const failed = rec.outcome("UploadSum ended with an error", connection.invoke("UploadSum", failing));
      failing.next(1);
      failing.error(new Error("the source broke"));
      await failed;
      const empty = new lib.Subject();
      const emptySum = rec.outcome("UploadSum of nothing", connection.invoke("UploadSum", empty));
      empty.complete();
      await emptySum;
      const bad = new lib.Subject();
      const badSum = rec.outcome("UploadSum with a non-number", connection.invoke("UploadSum", bad));
      bad.next("seven");
      bad.complete();
      await badSum;
      // An observable the app wrote itself (as RxJS's are): anything with `subscribe`.
      const observers = [];
      const observable = {
        subscribe(observer) {
          observers.push(observer);
          return { unsubscribe: () => observers.splice(observers.indexOf(observer), 1) };
        },
      };
      const fromObservable = rec.outcome("UploadSum from an app's own observable", connection.invoke("UploadSum", observable));
      rec.push("observable subscribed", { count: observers.length });
      for (const observer of [...observers]) {
        observer.next(10);
        observer.next(20);
        observer.complete();
      }
      await fromObservable;
      await rec.outcome("invoke after the uploads", connection.invoke("Echo", "ok"));
      await connection.stop();
    },
  },
  {
    name: "client results",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env);
      connection.on("Double", function (n) {
        rec.push("handler Double", { args: rec.describe([...arguments]), thisIsConnection: this === connection });
        return n * 2;
      });
      connection.on("Async", async (x) => ({ wrapped: x }));
      connection.on("Void", () => undefined);
      connection.on("Throws", () => {
        throw new TypeError("nope");
      });
      connection.on("Rejects", async () => {
        throw new RangeError("later");
      });
      connection.on("RejectsWithString", () => Promise.reject("plain text"));
      connection.on("Two", () => 1);
      connection.on("Two", () => 2);
      await connection.start();
      for (const [target, args] of [
        ["Double", [21]],
        ["Async", ["x"]],
        ["Void", []],
        ["Throws", []],
        ["Rejects", []],
        ["RejectsWithString", []],
        ["Two", []],
        ["NoHandler", [1]],
      ]) {
        const answer = await control("/control/invoke-client", {
          connectionId: connection.connectionId,
          target,
          arguments: args,
          timeoutMs: 3000,
        }).catch((error) => ({ controlFailed: String(error.message) }));
        rec.push("hub got", { target, answer });
      }
      await connection.stop();
    },
  },
  {
    name: "handlers: arguments, this, off",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env);
      const first = function (...args) {
        rec.push("first handler", { args: rec.describe(args), thisIsConnection: this === connection });
      };
      const second = function (...args) {
        rec.push("second handler", { args: rec.describe(args), thisIsConnection: this === connection });
      };
      const throwing = () => {
        rec.push("throwing handler");
        throw new Error("handler failure");
      };
      connection.on("Tick", first);
      connection.on("tick", second);
      connection.on("Tick", throwing);
      await connection.start();
      const sync = async (label) => rec.outcome(label, connection.invoke("Echo", label));
      await control("/control/publish", { target: "Tick", arguments: [1, { a: 2 }, null] });
      await sync("after the first publish");
      connection.off("Tick", throwing);
      connection.off("TICK", first);
      await control("/control/publish", { target: "tick", arguments: [] });
      await sync("after off(first)");
      connection.off("Tick");
      await control("/control/publish", { target: "Tick", arguments: [3] });
      await sync("after off(all)");
      await control("/control/publish", { target: "Unhandled", arguments: [4] });
      await sync("after an unhandled event");
      await connection.stop();
    },
  },
  {
    name: "drop without automatic reconnect",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env);
      watch(env, connection);
      await connection.start();
      const pending = await pendingInvocation(env, connection);
      subscribeRecorded(env, connection.stream("Count", 1000, 100), "stream open at the drop");
      // The hub has the stream once its first item arrived.
      await rec.waitFor("stream item");
      await control("POST /control/drop");
      await rec.waitFor("onclose");
      await pending;
      await rec.waitFor("stream end");
      snapshot(env, connection, "after close");
      await rec.outcome("invoke after close", connection.invoke("Echo", 1));
    },
  },
  {
    name: "drop with automatic reconnect",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env, { configure: (b) => b.withAutomaticReconnect(QUICK_RETRIES) });
      watch(env, connection);
      await connection.start();
      snapshot(env, connection, "connected");
      const pending = await pendingInvocation(env, connection);
      subscribeRecorded(env, connection.stream("Count", 1000, 100), "stream open at the drop");
      // The hub has the stream once its first item arrived.
      await rec.waitFor("stream item");
      await control("POST /control/drop");
      await rec.waitFor("onreconnected");
      await pending;
      await rec.waitFor("stream end");
      snapshot(env, connection, "after reconnect");
      await rec.outcome("invoke after reconnect", connection.invoke("Echo", "back"));
      await rec.outcome("stop", connection.stop());
    },
  },
  {
    name: "retry policy that gives up at once",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env, { configure: (b) => b.withAutomaticReconnect(recordingPolicy(env, [])) });
      watch(env, connection);
      await connection.start();
      await control("POST /control/drop");
      await rec.waitFor("onclose");
      snapshot(env, connection, "after close");
    },
  },
  {
    name: "retries used up",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env, { configure: (b) => b.withAutomaticReconnect(recordingPolicy(env, [0, 100])) });
      watch(env, connection);
      await connection.start();
      await control("/control/faults", { refuseNegotiations: 100 });
      await control("POST /control/drop");
      await rec.waitFor("onclose");
      snapshot(env, connection, "after close");
    },
  },
  {
    name: "class-based retry policy reading this.delays",
    async run(env) {
      const { rec, control } = env;
      class ShortPolicy {
        constructor() {
          this.delays = [0, 100];
        }
        nextRetryDelayInMilliseconds(context) {
          rec.push("policy asked", { thisIsPolicy: this === policy, previousRetryCount: context.previousRetryCount });
          return this.delays[context.previousRetryCount] ?? null;
        }
      }
      const policy = new ShortPolicy();
      const connection = build(env, { configure: (b) => b.withAutomaticReconnect(policy) });
      watch(env, connection);
      await connection.start();
      await control("POST /control/drop");
      await rec.waitFor("onreconnected");
      snapshot(env, connection, "after reconnect");
      await connection.stop();
    },
  },
  {
    name: "Close message without allowReconnect",
    async run(env) {
      const { rec, control } = env;
      const connection = build(env, { configure: (b) => b.withAutomaticReconnect(QUICK_RETRIES) });
      watch(env, connection);
      await connection.start();
      const pending = await pendingInvocation(env, connection);
      await control("/control/close", { error: "going away" });
      await rec.waitFor("onclose");
      await pending;
      snapshot(env, connection, "after close");
      await rec.outcome("restart", connection.start());
      await control("/control/close", {});
      await rec.waitFor("onclose", { count: 2 });
      snapshot(env, connection, "after a clean Close");
    },
  },
  {
    name: "Close message with allowReconnect",
    async run(env) {
      const { rec, control } = env;
      const withReconnect = build(env, { configure: (b) => b.withAutomaticReconnect(QUICK_RETRIES) });
      watch(env, withReconnect);
      await withReconnect.start();
      await control("/control/close", { error: "restarting", allowReconnect: true });
      await rec.waitFor("onreconnected");
      snapshot(env, withReconnect, "after reconnect");
      await withReconnect.stop();
      await hubForgotEveryone(env);
      rec.push("--- without automatic reconnect ---");
      const without = build(env);
      watch(env, without);
      await without.start();
      await control("/control/close", { error: "restarting", allowReconnect: true });
      await rec.waitFor("onclose", { count: 2 });
      snapshot(env, without, "after close");
    },
  },
  {
    name: "server timeout",
    async run(env) {
      const { rec, control } = env;
      await control("/control/faults", { hostile: "oneFrameThenSilent" });
      const connection = build(env, { configure: (b) => b.withServerTimeout(600).withKeepAliveInterval(200) });
      watch(env, connection);
      await rec.outcome("start", connection.start());
      const pending = rec.outcome("invoke while the hub is silent", connection.invoke("Echo", 1));
      await rec.waitFor("onclose");
      await pending;
      snapshot(env, connection, "after close");
    },
  },
  {
    name: "keep-alive: pings keep a quiet connection open",
    // The hub closes a connection that sends nothing for a second, and pings every 400 ms
    // (the official client arms its next ping when it hears from the server).
    mockArgs: ["--client-timeout-ms", "1000", "--keep-alive-ms", "400"],
    async run(env) {
      const { rec } = env;
      const connection = build(env, { configure: (b) => b.withKeepAliveInterval(200) });
      watch(env, connection);
      await connection.start();
      await sleep(2500);
      snapshot(env, connection, "after 2.5 s of quiet");
      await rec.outcome("invoke", connection.invoke("Echo", "alive"));
      await rec.outcome("stop", connection.stop());
    },
  },
  {
    name: "access token factory failures",
    async run(env) {
      const { rec, control } = env;
      const throwing = build(env, {
        options: {
          accessTokenFactory: () => {
            throw new Error("no token for you");
          },
        },
      });
      watch(env, throwing);
      await rec.outcome("start with a throwing factory", throwing.start());
      snapshot(env, throwing, "after the throwing factory");
      const rejecting = build(env, { options: { accessTokenFactory: () => Promise.reject(new TypeError("token service down")) } });
      await rec.outcome("start with a rejecting factory", rejecting.start());
      snapshot(env, rejecting, "after the rejecting factory");
      await control("/control/auth", { token: "the-right-token" });
      const wrong = build(env, { options: { accessTokenFactory: () => "a-wrong-token" } });
      await rec.outcome("start with a wrong token", wrong.start());
      const right = build(env, { options: { accessTokenFactory: async () => "the-right-token" } });
      await rec.outcome("start with the right token", right.start());
      await rec.outcome("invoke with the right token", right.invoke("Echo", 1));
      await right.stop();
    },
  },
  {
    name: "negotiate failures",
    async run(env) {
      const { rec, control } = env;
      await control("/control/faults", { refuseNegotiations: 1 });
      const refused = build(env);
      watch(env, refused);
      await rec.outcome("start with negotiate answered 503", refused.start());
      snapshot(env, refused, "after 503");
      await rec.outcome("start again", refused.start());
      await refused.stop();
      await hubForgotEveryone(env);
      const missing = build(env, { url: new URL("no-such-hub", env.mockUrl).href });
      await rec.outcome("start on a path with no hub (404)", missing.start());
      const port = await closedPort();
      const unreachable = build(env, { url: `http://127.0.0.1:${port}/hub` });
      await rec.outcome("start with nothing listening", unreachable.start());
      snapshot(env, unreachable, "after unreachable");
    },
  },
  {
    name: "transport fallback: a transport the hub does not offer",
    async run(env) {
      const { rec, control, lib } = env;
      await control("/control/faults", { refuseTransports: [env.transport] });
      const all = lib.HttpTransportType.WebSockets | lib.HttpTransportType.ServerSentEvents | lib.HttpTransportType.LongPolling;
      const connection = build(env, { transport: all });
      await rec.outcome("start with every transport allowed", connection.start());
      rec.push("connected on", { transport: await hubTransport(env, connection) });
      await connection.stop();
      await hubForgotEveryone(env);
      const only = build(env);
      await rec.outcome("start with only the refused transport", only.start());
    },
  },
  {
    name: "transport fallback: a connect refused once",
    transports: ["WebSockets", "ServerSentEvents"],
    // The fallback goes to Server-Sent Events, which cannot carry MessagePack.
    hubProtocols: ["JSON"],
    async run(env) {
      const { rec, control, lib } = env;
      await control("/control/faults", { refuseConnects: 1 });
      const both = lib.HttpTransportType[env.transport] | lib.HttpTransportType[nextTransport(env.transport)];
      const connection = build(env, { transport: both });
      await rec.outcome("start", connection.start());
      rec.push("connected on", { transport: await hubTransport(env, connection) });
      await rec.outcome("invoke", connection.invoke("Echo", 1));
      await connection.stop();
    },
  },
];
