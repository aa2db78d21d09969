import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { afterEach, describe, expect, it } from "vitest";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import { describeClose } from "./closeCodes";
import { DocumentSession } from "./session";
import type { ConnectionState, DocumentChange } from "./types";
import { CanvasDoc } from "./writers";

/** An in-memory y-websocket server: one Y.Doc, answering sync messages of its sockets. */
const server = { doc: new Y.Doc(), sockets: [] as FakeSocket[] };

class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  readonly OPEN = 1;
  readyState = 0;
  binaryType = "arraybuffer";
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  readonly url: string;

  constructor(url: string) {
    this.url = url;
    server.sockets.push(this);
  }

  accept(): void {
    this.readyState = 1;
    this.onopen?.();
    // the server's own sync step 1, so the client sends what the server lacks
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeSyncStep1(encoder, server.doc);
    this.deliver(encoding.toUint8Array(encoder));
  }

  deliver(data: Uint8Array): void {
    queueMicrotask(() => {
      if (this.readyState === 1) this.onmessage?.({ data: data.slice().buffer });
    });
  }

  send(data: Uint8Array): void {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== 0) return; // awareness: ignored here
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.readSyncMessage(decoder, encoder, server.doc, "client");
    if (encoding.length(encoder) > 1) this.deliver(encoding.toUint8Array(encoder));
  }

  close(): void {
    this.readyState = 3;
  }

  /** the server closes the connection */
  drop(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** A fresh server document whose live updates go to every open socket (not back to clients). */
function resetServer(): void {
  server.doc = new Y.Doc();
  server.sockets = [];
  server.doc.on("update", (update: Uint8Array, origin: unknown) => {
    if (origin === "client") return;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeUpdate(encoder, update);
    const data = encoding.toUint8Array(encoder);
    for (const socket of server.sockets) socket.deliver(data);
  });
}
resetServer();

const last = () => server.sockets[server.sockets.length - 1];
const flush = () => new Promise((resolve) => setTimeout(resolve, 5));
const sessions: DocumentSession[] = [];

function open(): DocumentSession {
  const session = DocumentSession.open({
    docId: "doc-1",
    user: { id: "u-abc", name: "Ann", color: "#14b8a6" },
    serverUrl: "http://example.test:8000/",
    persist: false,
    WebSocketPolyfill: FakeSocket as unknown as typeof WebSocket,
  });
  sessions.push(session);
  return session;
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.destroy();
  resetServer();
});

describe("DocumentSession", () => {
  it("connects to /ws/{docId} with the user and goes connecting -> syncing -> connected", async () => {
    new CanvasDoc(server.doc).addLayer("from server");
    const session = open();
    const phases: string[] = [];
    session.onConnection((s) => phases.push(s.phase));
    expect(session.connection().phase).toBe("connecting");
    expect(last().url).toBe("ws://example.test:8000/ws/doc-1?user=u-abc&name=Ann");
    last().accept();
    await session.synced;
    expect(phases).toEqual(["syncing", "connected"]);
    expect(session.canvas.readLayers().map((l) => l.name)).toEqual(["from server"]);
  });

  it("reports which layers a transaction changed", async () => {
    const session = open();
    last().accept();
    await session.synced;
    const changes: DocumentChange[] = [];
    session.onChange((c) => changes.push(c));
    const a = session.canvas.addLayer("a", { kind: "paint" });
    const b = session.canvas.addLayer("b");
    expect(changes.at(-1)).toMatchObject({ structure: true, meta: false, history: false, local: true });
    expect([...(changes.at(-1)?.layers ?? [])]).toEqual([b]);
    session.canvas.updateLayer(a, { opacity: 40 });
    expect(changes.at(-1)).toMatchObject({ structure: false, meta: false, local: true });
    expect([...(changes.at(-1)?.layers ?? [])]).toEqual([a]);
    const s = session.canvas.beginStroke(a, { points: [0, 0] });
    session.canvas.appendPoints(a, s, [1, 1]);
    expect([...(changes.at(-1)?.layers ?? [])]).toEqual([a]);
    session.transact(() => {
      session.canvas.setMeta({ name: "x" });
      session.canvas.updateLayer(b, { visible: false });
    });
    expect(changes.at(-1)).toMatchObject({ meta: true, structure: false });
    expect([...(changes.at(-1)?.layers ?? [])]).toEqual([b]);
    // a remote change
    await flush();
    new CanvasDoc(server.doc).updateLayer(b, { name: "renamed" });
    await flush();
    expect(changes.at(-1)).toMatchObject({ local: false, structure: false });
    expect([...(changes.at(-1)?.layers ?? [])]).toEqual([b]);
    expect(session.canvas.getLayer(b)?.name).toBe("renamed");
  });

  it("counts edits made while disconnected and resets after the reconnect's sync", async () => {
    const session = open();
    last().accept();
    await session.synced;
    const first = last();
    first.drop(1006);
    expect(session.connection()).toMatchObject({ phase: "reconnecting", retrying: true, closeCode: 1006 });
    session.canvas.addLayer("offline 1");
    const paint = session.canvas.addLayer("offline 2", { kind: "paint" });
    const stroke = session.canvas.beginStroke(paint, { points: [1, 1] });
    session.canvas.appendPoints(paint, stroke, [2, 2]); // the same stroke growing: no new change
    session.canvas.appendPoints(paint, stroke, [3, 3]);
    expect(session.connection().unsynced).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the provider's backoff
    expect(last()).not.toBe(first);
    last().accept();
    await flush();
    await flush();
    expect(session.connection()).toMatchObject({ phase: "connected", unsynced: 0, message: null });
    expect(new CanvasDoc(server.doc).readLayers().map((l) => l.name)).toEqual(["offline 1", "offline 2"]);
  });

  it("stops for close codes that must not be retried", async () => {
    const session = open();
    const states: ConnectionState[] = [];
    session.onConnection((s) => states.push(s));
    last().accept();
    await session.synced;
    last().drop(4413, "update of 9000000 bytes");
    expect(session.connection()).toMatchObject({ phase: "closed", retrying: false, closeCode: 4413 });
    expect(session.connection().message).toMatch(/document is full.*not retried/i);
    expect(session.provider.shouldConnect).toBe(false);
    const count = server.sockets.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.sockets.length).toBe(count);
  });

  it("reconnects once after 4403 (access changed) and stops when that is refused", async () => {
    const session = open();
    last().accept();
    await session.synced;
    const first = last();
    first.drop(4403, "share link revoked");
    expect(session.connection()).toMatchObject({ phase: "reconnecting", retrying: true, closeCode: 4403 });
    expect(session.connection().message).toMatch(/changed or was revoked/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the provider's backoff
    const second = last();
    expect(second).not.toBe(first);
    second.drop(1006); // the upgrade answered 403
    expect(session.connection()).toMatchObject({ phase: "closed", retrying: false, closeCode: 4403 });
    expect(session.connection().message).toMatch(/revoked.*not retried/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(last()).toBe(second);
  });

  it("keeps the connection after 4403 when the new role is accepted", async () => {
    const session = open();
    last().accept();
    await session.synced;
    last().drop(4403, "your role changed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    last().accept();
    await flush();
    await flush();
    expect(session.connection()).toMatchObject({ phase: "connected", message: null });
  });

  it("sends the token as a subprotocol and takes a refreshed one for the next connection", () => {
    const session = DocumentSession.open({
      docId: "doc-1",
      user: { id: "u-abc", name: "Ann", color: "#14b8a6" },
      serverUrl: "http://example.test:8000/",
      persist: false,
      WebSocketPolyfill: FakeSocket as unknown as typeof WebSocket,
      token: "t1",
    });
    sessions.push(session);
    expect(session.provider.protocols).toEqual(["nexus", "nexus.token.t1"]);
    expect(session.provider.url).not.toContain("t1");
    session.setToken("t2");
    expect(session.provider.protocols).toEqual(["nexus", "nexus.token.t2"]);
  });

  it("says what a rate-limit close means and keeps retrying", async () => {
    const session = open();
    last().accept();
    await session.synced;
    last().drop(1008, "over 200 messages/s");
    expect(session.connection()).toMatchObject({ phase: "reconnecting", retrying: true });
    expect(session.connection().message).toBe("You sent too much too fast; reconnecting in a moment.");
  });
});

describe("close codes", () => {
  it("has a message for every code of docs/protocol.md", () => {
    for (const code of [1001, 1002, 1003, 1007, 1008, 1009, 1011, 1013, 4008, 4400, 4413]) {
      expect(describeClose(code).message, String(code)).toBeTruthy();
    }
    expect(describeClose(4400).retry).toBe(false);
    expect(describeClose(4413).retry).toBe(false);
    expect(describeClose(4403).retry).toBe(false);
    expect(describeClose(4008).retry).toBe(true);
    expect(describeClose(1000).message).toBeNull();
    expect(describeClose(4400, "bad id 'x y'").message).toBe("This document id is invalid — not retried. (bad id 'x y')");
    expect(describeClose(4499).retry).toBe(false);
    expect(describeClose(4500).retry).toBe(true);
  });
});
