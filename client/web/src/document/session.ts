/**
 * DocumentSession: one open document — the Y.Doc, its WebSocket connection to the server
 * (y-websocket), its offline copy in IndexedDB (y-indexeddb), the connection state shown to the
 * person, and change events that say which layers a transaction touched.
 */
import { IndexeddbPersistence } from "y-indexeddb";
import * as authProtocol from "y-protocols/auth";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { Presence } from "../presence/presence";
import { type Access, MESSAGE_NEXUS, parseHello, readNexusMessage } from "./access";
import { describeClose } from "./closeCodes";
import { scanAll } from "./readers";
import type { ConnectionPhase, ConnectionState, DocumentChange, LocalUser } from "./types";
import { CanvasDoc } from "./writers";

export interface SessionOptions {
  docId: string;
  user: LocalUser;
  /** http(s):// or ws(s):// base of the server; default: this page's origin */
  serverUrl?: string;
  /** keep an offline copy in IndexedDB (default: true where IndexedDB exists) */
  persist?: boolean;
  /** for tests: a WebSocket implementation */
  WebSocketPolyfill?: typeof WebSocket;
  /** token mode (docs/security.md): the access or share token, sent as the WebSocket
   * subprotocol `nexus.token.<token>` (never in the URL) */
  token?: string | null;
}

/** y-websocket's message type of permission notices (`[2][0]reason`). */
const MESSAGE_AUTH = 2;
/** The server closed because this connection's access changed or was revoked. */
const ACCESS_CHANGED = 4403;
const ACCESS_CHECK =
  "Your access to this document changed or was revoked; reconnecting once to learn your new role…";

/** The subprotocols that carry `token` (the server echoes "nexus", never the token). */
export function tokenProtocols(token: string | null | undefined): string[] {
  return token ? ["nexus", `nexus.token.${token}`] : [];
}

/** Consecutive failed connection attempts after which "reconnecting" is shown as "offline". */
const OFFLINE_AFTER_FAILURES = 3;

function wsBase(serverUrl?: string): string {
  const base = serverUrl ?? `${location.protocol}//${location.host}`;
  return base.replace(/^http(s?):/, "ws$1:").replace(/\/+$/, "");
}

function browserOffline(): boolean {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}

/** An open document: Y.Doc + WebsocketProvider + IndexeddbPersistence + presence. */
export class DocumentSession {
  readonly docId: string;
  readonly user: LocalUser;
  readonly doc: Y.Doc;
  readonly canvas: CanvasDoc;
  readonly provider: WebsocketProvider;
  readonly presence: Presence;
  readonly persistence: IndexeddbPersistence | null;
  /** resolves after the first sync with the server, or the IndexedDB load when offline */
  readonly synced: Promise<void>;
  /** the origin of this session's own transactions */
  readonly origin: object = { session: "local" };

  private state: ConnectionState = { phase: "connecting", unsynced: 0, closeCode: null, message: null, retrying: true };
  private readonly connectionListeners = new Set<(s: ConnectionState) => void>();
  private readonly changeListeners = new Set<(c: DocumentChange) => void>();
  private accessState: Access | null = null;
  private readonly accessListeners = new Set<(a: Access) => void>();
  private resolveSynced: () => void = () => {};
  private storeLoaded = false;
  private failures = 0;
  /** after a 4403: the one reconnect that learns the new role (a refusal then is final) */
  private recheck = false;
  private denied: string | null = null;
  private pending = { meta: false, structure: false, history: false, layers: new Set<string>() };
  private readonly cleanups: (() => void)[] = [];

  /** Open `docId`: connect to the server and load the offline copy. */
  static open(opts: SessionOptions): DocumentSession {
    return new DocumentSession(opts);
  }

  private constructor(opts: SessionOptions) {
    this.docId = opts.docId;
    this.user = opts.user;
    this.doc = new Y.Doc();
    this.canvas = new CanvasDoc(this.doc, this.origin);
    this.synced = new Promise((resolve) => {
      this.resolveSynced = resolve;
    });
    this.observeDocument();
    const persist = opts.persist ?? typeof indexedDB !== "undefined";
    this.persistence = persist ? new IndexeddbPersistence(`nexus:${opts.docId}`, this.doc) : null;
    this.storeLoaded = this.persistence === null; // nothing to wait for
    this.persistence?.whenSynced.then(() => {
      this.storeLoaded = true;
      this.maybeResolveOffline();
    });
    this.provider = new WebsocketProvider(`${wsBase(opts.serverUrl)}/ws`, opts.docId, this.doc, {
      params: { user: opts.user.id, name: opts.user.name },
      protocols: tokenProtocols(opts.token),
      disableBc: true,
      // 4403: reconnect once with the new role (docs/security.md); a refusal then stops it
      shouldReconnect: (event) => event.code === ACCESS_CHANGED || describeClose(event.code, event.reason).retry,
      ...(opts.WebSocketPolyfill ? { WebSocketPolyfill: opts.WebSocketPolyfill } : {}),
    });
    // The server's notices (type 100): without a handler y-websocket logs "Unable to compute
    // message" for each one.
    this.provider.messageHandlers[MESSAGE_NEXUS] = (_encoder, decoder) => {
      this.onNexusMessage(readNexusMessage(decoder));
    };
    // The server refused an edit of a viewer (it was never applied): keep the reason instead of
    // y-websocket's console warning.
    this.provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, (_doc, reason) => {
        this.denied = reason;
      });
    };
    this.presence = new Presence(this.provider.awareness, opts.user);
    if (browserOffline()) this.state = { ...this.state, phase: "offline" };
    this.watchProvider();
    this.watchBrowser();
  }

  connection(): ConnectionState {
    return this.state;
  }

  /** Who this session is on the document and its role, as the server's last hello said (null
   * before the first connection); kept while disconnected. */
  access(): Access | null {
    return this.accessState;
  }

  /** The server gave this session a role that cannot edit (a viewer). */
  get readOnly(): boolean {
    return this.accessState?.readOnly ?? false;
  }

  /** Called with each hello whose role or identity differs from the last one. */
  /** The server's last refusal of an edit from this session (a viewer's), or null. */
  get permissionDenied(): string | null {
    return this.denied;
  }

  /** Token mode: use `token` from the next connection on (a refreshed access token). The live
   * connection stays: the server checks the token when a connection opens. */
  setToken(token: string | null): void {
    this.provider.protocols = tokenProtocols(token);
    // refused for an expired sign-in: try again with the new token
    if (token && this.state.phase === "closed" && this.state.closeCode === 4401) this.reconnect();
  }

  onAccess(listener: (a: Access) => void): () => void {
    this.accessListeners.add(listener);
    return () => {
      this.accessListeners.delete(listener);
    };
  }

  onConnection(listener: (s: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    return () => {
      this.connectionListeners.delete(listener);
    };
  }

  /** Called after each transaction that touched meta, layers or history. */
  onChange(listener: (c: DocumentChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  /** `doc.transact` with this session's local origin (writers inside join it). */
  transact(fn: () => void): void {
    this.doc.transact(fn, this.origin);
  }

  /** Try to connect again now (after a refusal that is not retried, or to skip the backoff). */
  reconnect(): void {
    this.recheck = this.state.closeCode === ACCESS_CHANGED;
    this.setState({ phase: "reconnecting", message: null, retrying: true });
    this.provider.disconnect();
    this.provider.connect();
  }

  destroy(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.presence.destroy();
    this.provider.destroy();
    void this.persistence?.destroy();
    this.connectionListeners.clear();
    this.changeListeners.clear();
    this.accessListeners.clear();
    this.doc.destroy();
  }

  // -- connection state -----------------------------------------------------------------------

  private onNexusMessage(body: unknown): void {
    const hello = parseHello(body);
    if (hello === null) return; // command replies: this app sends no commands over the socket
    this.recheck = false;
    const last = this.accessState;
    const same = last !== null && (Object.keys(hello) as (keyof Access)[]).every((k) => hello[k] === last[k]);
    if (same) return;
    this.accessState = hello;
    for (const listener of this.accessListeners) listener(hello);
  }

  private setState(patch: Partial<ConnectionState>): void {
    const next = { ...this.state, ...patch };
    const same = (Object.keys(next) as (keyof ConnectionState)[]).every((k) => next[k] === this.state[k]);
    if (same) return;
    this.state = next;
    for (const listener of this.connectionListeners) listener(next);
  }

  private downPhase(): ConnectionPhase {
    if (browserOffline() || this.failures >= OFFLINE_AFTER_FAILURES) return "offline";
    return "reconnecting";
  }

  private maybeResolveOffline(): void {
    const down = this.state.phase !== "connecting" && this.state.phase !== "syncing" && this.state.phase !== "connected";
    if (this.storeLoaded && (browserOffline() || down)) this.resolveSynced();
  }

  private watchProvider(): void {
    const provider = this.provider;
    const onStatus = ({ status }: { status: "connected" | "disconnected" | "connecting" }) => {
      if (status === "connected") this.setState({ phase: "syncing", retrying: true });
      else if (status === "connecting" && this.state.phase === "closed") this.setState({ phase: "reconnecting" });
    };
    const onSync = (isSynced: boolean) => {
      if (!isSynced) return;
      this.failures = 0;
      this.recheck = false;
      this.setState({ phase: "connected", unsynced: 0, message: null, retrying: true });
      this.resolveSynced();
    };
    const onClose = (event: CloseEvent | null) => {
      const info = describeClose(event ? event.code : null, event?.reason ?? "");
      this.failures += 1;
      if (event?.code === ACCESS_CHANGED) {
        this.recheck = true;
        this.setState({ phase: "reconnecting", closeCode: ACCESS_CHANGED, message: ACCESS_CHECK, retrying: true });
      } else if (this.recheck && event) {
        // the reconnect after a 4403 was refused (403 before any hello): the access is gone
        this.recheck = false;
        provider.shouldConnect = false;
        const revoked = describeClose(ACCESS_CHANGED);
        this.setState({ phase: "closed", closeCode: ACCESS_CHANGED, message: revoked.message, retrying: false });
      } else if (!info.retry) {
        provider.shouldConnect = false;
        this.setState({ phase: "closed", closeCode: info.code, message: info.message, retrying: false });
      } else {
        this.setState({ phase: this.downPhase(), closeCode: info.code ?? this.state.closeCode, message: info.message, retrying: true });
      }
      this.maybeResolveOffline();
    };
    provider.on("status", onStatus);
    provider.on("sync", onSync);
    provider.on("connection-close", onClose);
    this.cleanups.push(() => {
      provider.off("status", onStatus);
      provider.off("sync", onSync);
      provider.off("connection-close", onClose);
    });
  }

  private watchBrowser(): void {
    if (typeof window === "undefined") return;
    // The browser knows before the socket does (a socket can stay "open" for a long time on a
    // dead network): stop talking at once, so every edit from here on is kept locally and goes
    // out in one sync when the network is back.
    const offline = () => {
      if (this.state.phase === "closed") return;
      this.provider.disconnect();
      this.setState({ phase: "offline", message: "You are offline: edits are kept on this device." });
      this.maybeResolveOffline();
    };
    const online = () => {
      if (this.state.phase === "closed") return;
      if (this.state.phase !== "connected") this.setState({ phase: "reconnecting", message: null });
      if (!this.provider.wsconnected && !this.provider.wsconnecting) this.provider.connect();
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    this.cleanups.push(() => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
    });
  }

  // -- change events ----------------------------------------------------------------------------

  private observeDocument(): void {
    const { meta, layers, historyArray } = this.canvas;
    const onMeta = () => {
      this.pending.meta = true;
    };
    const onHistory = () => {
      this.pending.history = true;
    };
    const onLayers = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => {
      // Event paths index the raw array; map them to ids through the Maps' "id" (as read).
      const entries = scanAll(layers);
      const byPos = new Map(entries.map((entry) => [entry.pos, entry]));
      const added = new Set<unknown>();
      for (const event of events) {
        if (event.target === layers) {
          this.pending.structure = true;
          for (const item of event.changes.added) for (const value of item.content.getContent()) added.add(value);
          continue;
        }
        const index = event.path[0];
        const entry = typeof index === "number" ? byPos.get(index) : undefined;
        if (entry) this.pending.layers.add(entry.id);
      }
      for (const entry of entries) if (added.has(entry.map)) this.pending.layers.add(entry.id);
    };
    const afterTransaction = (tr: Y.Transaction) => {
      const local = tr.origin === this.origin || tr.local;
      const changedDoc = tr.changed.size > 0 || tr.deleteSet.clients.size > 0;
      // A change as the person counts it: a stroke's later point batches are part of the
      // stroke (as on the server, where they join the stroke's undo step).
      if (local && changedDoc && this.state.phase !== "connected" && !onlyAppendsPoints(tr)) {
        this.setState({ unsynced: this.state.unsynced + 1 });
      }
      const p = this.pending;
      if (!p.meta && !p.structure && !p.history && p.layers.size === 0) return;
      this.pending = { meta: false, structure: false, history: false, layers: new Set() };
      const change: DocumentChange = { meta: p.meta, structure: p.structure, layers: p.layers, history: p.history, local };
      for (const listener of this.changeListeners) listener(change);
    };
    meta.observeDeep(onMeta);
    layers.observeDeep(onLayers);
    historyArray.observeDeep(onHistory);
    this.doc.on("afterTransaction", afterTransaction);
    this.cleanups.push(() => {
      meta.unobserveDeep(onMeta);
      layers.unobserveDeep(onLayers);
      historyArray.unobserveDeep(onHistory);
      this.doc.off("afterTransaction", afterTransaction);
    });
  }
}

/** The transaction only grew strokes' `points` arrays (live drawing), nothing else. */
function onlyAppendsPoints(tr: Y.Transaction): boolean {
  if (tr.changed.size === 0 || tr.deleteSet.clients.size > 0) return false;
  for (const type of tr.changed.keys()) {
    const parent = type.parent;
    if (!(type instanceof Y.Array) || !(parent instanceof Y.Map) || parent.get("points") !== type) return false;
  }
  return true;
}
