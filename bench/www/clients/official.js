// The official @microsoft/signalr client (dist/browser/signalr.min.js, loaded by the page as a
// classic script) behind the benchmark page's client interface (see ../bench.js), with the
// usual hand-written re-join code in onreconnected.

const signalR = globalThis.signalR;

export async function createClient({ url, delays }) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
    .withAutomaticReconnect(delays)
    .configureLogging(signalR.LogLevel.None)
    .build();
  const groups = [];
  let recovered = () => {};
  let connected = () => {};
  let lost = () => {};
  connection.onreconnecting(() => lost());
  // The server forgot our groups: join them again, in order, then the app is live again.
  connection.onreconnected(async () => {
    connected();
    for (const id of groups) await connection.invoke("JoinContractorGroup", id);
    recovered();
  });
  return {
    name: "official",
    version: signalR.VERSION,
    start: () => connection.start(),
    stop: () => connection.stop(),
    on: (target, handler) => connection.on(target, handler),
    invoke: (method, ...args) => connection.invoke(method, ...args),
    async joinGroups(ids) {
      for (const id of ids) {
        await connection.invoke("JoinContractorGroup", id);
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
      lost = callback;
    },
    wasmBytes: () => null,
  };
}
