// Recording and normalising what an app observes, for the differential tests
// (tests/js/differential.test.mjs runs each scenario of scenarios.mjs on the official client and
// on hubwire and compares the two records).
//
// A record is a plain list of JSON-able entries in the order the app saw them. Values that
// differ between runs only (connection ids, ports, tokens, clock readings) are replaced by
// stable placeholders here, so two records of the same behaviour are deep-equal; nothing else is
// normalised.

/** How long a scenario waits for an awaited event before recording that it never came. */
export const EVENT_WAIT_MS = 5_000;

/** What `outcome` sees when a promise did not settle within EVENT_WAIT_MS. */
const NEVER_SETTLED = Symbol("never settled");

/** The error class an error is an instance of, by the library's own exported classes. */
function errorClass(lib, error) {
  for (const name of ["AbortError", "TimeoutError", "HttpError"]) {
    const exported = lib[name];
    if (typeof exported === "function" && error instanceof exported) return name;
  }
  return error instanceof Error ? "Error" : typeof error;
}

/**
 * One recording: entries, connection-id aliases and the helpers a scenario uses. `lib` is the
 * client library's namespace (for `instanceof` on its error classes).
 */
export class Recorder {
  constructor(lib) {
    this.lib = lib;
    this.entries = [];
    this.ids = new Map();
    this.waiters = [];
  }

  /** A stable alias for a connection id (`<id1>`, `<id2>`, ... in order of appearance). */
  alias(id) {
    if (id === null || id === undefined) return id;
    if (typeof id !== "string") return `<non-string ${typeof id}>`;
    if (!this.ids.has(id)) this.ids.set(id, `<id${this.ids.size + 1}>`);
    return this.ids.get(id);
  }

  /** An app-observable value as JSON-able data: errors described, functions named, ids kept. */
  describe(value) {
    if (value instanceof Error || (value && typeof value === "object" && "message" in value && "name" in value)) {
      return this.error(value);
    }
    if (value === undefined) return "<undefined>";
    if (typeof value === "function") return "<function>";
    if (typeof value === "bigint") return `<bigint ${value}>`;
    if (Array.isArray(value)) return value.map((item) => this.describe(item));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.describe(item)]));
    }
    if (typeof value === "number" && !Number.isFinite(value)) return `<${value}>`;
    return value;
  }

  /** An error as `{ class, name, message, statusCode?, errorType? }`. */
  error(error) {
    if (!(error && typeof error === "object")) return { class: typeof error, value: this.describe(error) };
    const described = {
      class: errorClass(this.lib, error),
      name: error.name,
      message: this.text(String(error.message)),
    };
    if ("statusCode" in error) described.statusCode = error.statusCode;
    if ("errorType" in error) described.errorType = error.errorType;
    return described;
  }

  /** A text with the run-dependent parts replaced: ports, connection ids seen so far. */
  text(text) {
    let result = text.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>");
    for (const [id, alias] of this.ids) result = result.split(id).join(alias);
    // Connection tokens and ids in query strings the recorder has not seen as ids.
    result = result.replace(/([?&](?:id|access_token)=)[^&\s'"]+/g, "$1<value>");
    return result;
  }

  /** Appends an entry and wakes whoever waits for its `event`. */
  push(event, data = {}) {
    const entry = { event, ...data };
    this.entries.push(entry);
    for (const waiter of [...this.waiters]) {
      if (waiter.matches(entry)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
    return entry;
  }

  /**
   * Resolves with the first entry (already recorded or coming) named `event` (and matching
   * `where`, if given); after `ms` without one, records `{ event: "timeout", waitedFor }` and
   * resolves with null, so a missing event shows as a difference instead of a hung test.
   */
  waitFor(event, { ms = EVENT_WAIT_MS, where = () => true, count = 1 } = {}) {
    const matching = () => this.entries.filter((entry) => entry.event === event && where(entry));
    if (matching().length >= count) return Promise.resolve(matching()[count - 1]);
    return new Promise((resolve) => {
      const waiter = {
        matches: (entry) => entry.event === event && where(entry) && matching().length >= count,
        resolve: (entry) => {
          clearTimeout(timer);
          resolve(entry);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        this.push("timeout", { waitedFor: event });
        resolve(null);
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Records how a promise settles as `{ event, resolved }` or `{ event, rejected }`; resolves when it did. */
  async outcome(event, promise, extra = {}) {
    let timer;
    const never = new Promise((resolve) => (timer = setTimeout(() => resolve(NEVER_SETTLED), EVENT_WAIT_MS)));
    try {
      const value = await Promise.race([promise, never]);
      if (value === NEVER_SETTLED) return this.push(event, { ...extra, neverSettled: true });
      return this.push(event, { ...extra, resolved: this.describe(value) });
    } catch (error) {
      return this.push(event, { ...extra, rejected: this.error(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records a synchronous call's outcome (returned value or thrown error). */
  call(event, fn) {
    try {
      return this.push(event, { returned: this.describe(fn()) });
    } catch (error) {
      return this.push(event, { threw: this.error(error) });
    }
  }
}

/** Log entry kinds kept in the record of what the hub received. */
const HUB_LOG_KINDS = new Set([
  "negotiate",
  "transportOpened",
  "handshake",
  "connect",
  "disconnect",
  "invocation",
  "streamInvocation",
  "refused",
  "redirect",
  "transportLost",
  "resumed",
]);

/**
 * The mock's log as comparable entries: timestamps dropped, connection ids aliased, tokens
 * reduced to whether one was sent. A stopping client sends its Close message and closes its
 * transport at once (on Server-Sent Events by a separate POST), and whether the hub sees the
 * message or the transport's end first is a race in both clients, more so on a loaded machine:
 * the hub's reason for that disconnect is reduced to "stopped". (`transport` is kept for
 * rules of one transport.)
 */
export function normaliseHubLog(recorder, log, { transport } = {}) {
  // The connections this scenario's client made: negotiated here, or opened on the scenario's
  // own transport (skipNegotiation). An EventSource an earlier scenario's official client left
  // retrying (it does not close one whose connect was refused) reconnects with its old id, on
  // its own schedule: its entries are not this scenario's.
  const ours = new Set(
    log
      .filter((entry) => entry.kind === "negotiate" || (entry.kind === "transportOpened" && entry.transport === transport))
      .map((entry) => entry.connectionId),
  );
  return log
    .filter((entry) => HUB_LOG_KINDS.has(entry.kind))
    .filter((entry) => !("connectionId" in entry) || !entry.connectionId || ours.has(entry.connectionId))
    .map((entry) => {
      const { at: _at, ...rest } = entry;
      if ("connectionId" in rest) rest.connectionId = recorder.alias(rest.connectionId);
      if ("accessToken" in rest) rest.accessToken = rest.accessToken ? "<token>" : rest.accessToken;
      if ("url" in rest) rest.url = recorder.text(String(rest.url));
      if (
        rest.kind === "disconnect" &&
        (rest.reason === "client closed" || rest.reason === "connection lost")
      ) {
        rest.reason = "<stopped: client closed or connection lost>";
      }
      return rest;
    });
}

/** The differences between two JSON-able values as `{ path, official, hubwire }` rows. */
export function differences(official, hubwire, path = "") {
  if (Object.is(official, hubwire)) return [];
  const bothObjects = official && hubwire && typeof official === "object" && typeof hubwire === "object";
  if (!bothObjects || Array.isArray(official) !== Array.isArray(hubwire)) {
    return [{ path: path || "/", official, hubwire }];
  }
  const rows = [];
  const keys = Array.isArray(official)
    ? [...Array(Math.max(official.length, hubwire.length)).keys()].map(String)
    : [...new Set([...Object.keys(official), ...Object.keys(hubwire)])];
  for (const key of keys) {
    const here = `${path}/${key}`;
    if (!(key in official)) rows.push({ path: here, official: "<absent>", hubwire: hubwire[key] });
    else if (!(key in hubwire)) rows.push({ path: here, official: official[key], hubwire: "<absent>" });
    else rows.push(...differences(official[key], hubwire[key], here));
  }
  return rows;
}

/** Whether an allow-list path pattern (`*` for one segment, a trailing `/**` for any rest) covers a path. */
export function pathMatches(pattern, path) {
  const want = pattern.split("/");
  const have = path.split("/");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === "**") return true;
    if (i >= have.length) return false;
    if (want[i] !== "*" && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

/** Resolves after `ms`. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
