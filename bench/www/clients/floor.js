// The floor: the least a page can do to be a SignalR client. A bare WebSocket to the hub
// (negotiation skipped), the JSON handshake, frames split on 0x1E, each record JSON.parse'd
// and dispatched to a handler; invocations matched to their completions by id; a Ping every
// 15 s; on close, reconnect after the same delays and re-join the groups in order. No
// negotiate, no transports, no options: whatever a real client spends beyond this is its cost.

const RS = "\u001e";
const KEEP_ALIVE_MS = 15_000;

export async function createClient({ url, delays }) {
  const wsUrl = new URL(url, location.href);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  const handlers = new Map();
  const pending = new Map();
  const groups = [];
  let socket = null;
  let nextId = 1;
  let stopped = false;
  let recovered = () => {};
  let connected = () => {};
  let lostCallback = () => {};
  let keepAlive = null;

  function open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      let handshaken = false;
      ws.onopen = () => ws.send(`{"protocol":"json","version":1}${RS}`);
      ws.onmessage = (event) => {
        const records = event.data.split(RS);
        let start = 0;
        if (!handshaken) {
          const answer = JSON.parse(records[0]);
          if (answer.error) {
            reject(new Error(answer.error));
            ws.close();
            return;
          }
          handshaken = true;
          socket = ws;
          resolve();
          start = 1;
        }
        for (let i = start; i < records.length; i++) {
          if (records[i]) receive(JSON.parse(records[i]));
        }
      };
      ws.onclose = () => {
        if (!handshaken) {
          reject(new Error("WebSocket closed before the handshake"));
          return;
        }
        lost(ws);
      };
    });
  }

  function receive(message) {
    if (message.type === 1) {
      const handler = handlers.get(message.target.toLowerCase());
      if (handler) handler(...message.arguments);
    } else if (message.type === 3) {
      const call = pending.get(message.invocationId);
      if (!call) return;
      pending.delete(message.invocationId);
      if (message.error) call.reject(new Error(message.error));
      else call.resolve(message.result);
    } else if (message.type === 7) {
      socket?.close();
    }
  }

  function lost(ws) {
    if (ws !== socket) return;
    socket = null;
    for (const call of pending.values()) call.reject(new Error("connection lost"));
    pending.clear();
    if (!stopped) {
      lostCallback();
      reconnect();
    }
  }

  async function reconnect() {
    for (const delay of delays) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (stopped) return;
      try {
        await open();
      } catch {
        continue;
      }
      connected();
      for (const id of groups) await invoke("JoinContractorGroup", id);
      recovered();
      return;
    }
  }

  function invoke(target, ...args) {
    if (!socket) return Promise.reject(new Error("not connected"));
    const invocationId = String(nextId++);
    const promise = new Promise((resolve, reject) => pending.set(invocationId, { resolve, reject }));
    socket.send(JSON.stringify({ type: 1, invocationId, target, arguments: args }) + RS);
    return promise;
  }

  return {
    name: "floor",
    version: "WebSocket + JSON.parse",
    async start() {
      stopped = false;
      await open();
      keepAlive = setInterval(() => socket?.send(`{"type":6}${RS}`), KEEP_ALIVE_MS);
    },
    async stop() {
      stopped = true;
      clearInterval(keepAlive);
      socket?.close();
      socket = null;
    },
    on: (target, handler) => handlers.set(target.toLowerCase(), handler),
    invoke,
    async joinGroups(ids) {
      for (const id of ids) {
        await invoke("JoinContractorGroup", id);
        groups.push(id);
      }
    },
    onRecovered(callback) {
      recovered = callback;
    },
    onConnected(callback) {
      connected = callback;
    },
    onLost(callback) {
      lostCallback = callback;
    },
    wasmBytes: () => null,
  };
}
