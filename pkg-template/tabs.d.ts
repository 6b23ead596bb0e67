// Type declarations of tab sharing (tabs.js); index.d.ts re-exports them.

/** Options of `withTabSharing()`: connections share when their URL, `key` and `userId` are all equal. */
export interface TabSharingOptions {
  /** Separates connections to one URL that must not share (e.g. different settings). */
  key?: string;
  /** The signed-in user: tabs of two users in one browser never share. */
  userId?: string;
}

/** Where this tab stands in the sharing of its connection. */
export interface TabSharingInfo {
  /** False when the browser lacks Web Locks or BroadcastChannel: the tab connects on its own. */
  shared: boolean;
  /** "leading": this tab holds the real connection; "following": another tab does; "waiting": started, no leader heard yet (also while the tab-sharing code is still loading); "idle": not started; "alone": not shared. */
  role: "leading" | "following" | "waiting" | "idle" | "alone";
  /** Why the connection is not shared (only when `shared` is false). */
  reason?: string;
  /** This tab's random id (new for every connection object). */
  tabId: string;
  /** The leading tab's id, when known. */
  leaderTabId: string | null;
  /** Changes of leader this tab went through while connected. */
  failovers: number;
}
