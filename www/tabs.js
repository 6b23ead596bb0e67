// The tab-sharing test page (tests/js/tab-sharing.test.mjs). Two parts:
//
//   controller  (no ?tab=) opens tabs with window.open on a click of #open (the test sets
//               window.nextTab first), keeps them in window.tabs, and can close them: the
//               test drives every tab from here, as same-origin windows of one browser context
//   tab         (?tab=NAME) one connection built with withTabSharing() (and, with ?plain=1, a
//               shared plain socket), recording what arrives in window.tab
//
// ?nolocks=1 removes the Web Locks API before the package is loaded, as in a browser without it.

const params = new URLSearchParams(location.search);

if (params.get("nolocks") === "1") {
  Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
}

const name = params.get("tab");
if (!name) {
  window.tabs = {};
  window.nextTab = null;
  document.querySelector("#open").addEventListener("click", () => {
    const next = window.nextTab;
    if (!next) return;
    window.nextTab = null;
    const query = new URLSearchParams({ tab: next.name, ...(next.query ?? {}) });
    window.tabs[next.name] = window.open(`${next.path ?? "tabs.html"}?${query}`, `tab-${next.name}`);
  });
  window.tabsReady = true;
} else {
  const { HubConnection, HubConnectionBuilder, HttpTransportType, Subject } = await import("/pkg/index.js");
  const { connectPlain } = await import("/pkg/live.js");
  const sharing = {};
  if (params.has("key")) sharing.key = params.get("key");
  if (params.has("user")) sharing.userId = params.get("user");
  const telemetry = [];
  const connection = new HubConnectionBuilder()
    .withUrl("/hub", { transport: HttpTransportType.WebSockets })
    .withAutomaticReconnect([0, 200, 500])
    .withTelemetry({ onEvent: (record) => telemetry.push(record) })
    .withTabSharing(sharing)
    .build();
  const received = [];
  const states = [];
  const lifecycle = [];
  const handlerThis = [];
  connection.on("JobAssigned", function (job) {
    received.push(job);
    handlerThis.push(this === connection);
  });
  connection.onstatechange((change) => states.push(`${change.previous}->${change.current}`));
  connection.onreconnecting(() => lifecycle.push("reconnecting"));
  connection.onreconnected((id) => lifecycle.push(`reconnected:${typeof id === "string" && id !== ""}`));
  connection.onclose(() => lifecycle.push("close"));

  let plain = null;
  const plainReceived = [];
  if (params.get("plain") === "1") {
    plain = connectPlain("/ws", { shareAcrossTabs: { ...sharing }, reconnect: [0, 200] });
    plain.on("stats:tasks", (payload) => plainReceived.push(payload));
  }

  const started = connection.start().then(
    () => "started",
    (error) => `failed: ${error?.message ?? error}`,
  );
  const group = (region) => ({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [region] });

  window.tab = {
    name,
    started,
    connection,
    received,
    states,
    lifecycle,
    telemetry,
    plainReceived,
    handlerThis,
    isHubConnection: () => connection instanceof HubConnection,
    state: () => connection.state,
    health: () => JSON.parse(JSON.stringify(connection.health())),
    plainState: () => plain?.state ?? null,
    plainSharing: () => plain?.tabSharing ?? null,
    invoke: (method, ...args) => connection.invoke(method, ...args).then((value) => ({ value }), (error) => ({ error: String(error?.message ?? error) })),
    join: (region) => connection.joinGroup(group(region)).then(() => "joined", (error) => `failed: ${error?.message ?? error}`),
    leave: (region) => connection.leaveGroup(group(region)).then(() => "left", (error) => `failed: ${error?.message ?? error}`),
    stream: (count) =>
      new Promise((resolve) => {
        const items = [];
        connection.stream("Count", count, 1).subscribe({
          next: (item) => items.push(item),
          error: (error) => resolve({ items, error: String(error?.message ?? error) }),
          complete: () => resolve({ items }),
        });
      }),
    upload: (items) => {
      const source = new Subject();
      const answer = window.tab.invoke("UploadSum", source);
      for (const item of items) source.next(item);
      source.complete();
      return answer;
    },
    stop: () => connection.stop().then(() => "stopped"),
  };
  document.querySelector("#status").textContent = `tab ${name}`;
}
