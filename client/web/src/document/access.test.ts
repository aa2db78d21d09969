import * as encoding from "lib0/encoding";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import { type Access, MESSAGE_NEXUS, parseHello } from "./access";
import { DocumentSession } from "./session";

/** A server socket that sends what the Nexus server sends first: hello, then sync step 1. */
class HelloSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static last: HelloSocket | null = null;
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
    HelloSocket.last = this;
  }

  open(hello: unknown): void {
    this.readyState = 1;
    this.onopen?.();
    this.deliver(nexusFrame(hello));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeSyncStep1(encoder, new Y.Doc());
    this.deliver(encoding.toUint8Array(encoder));
  }

  deliver(data: Uint8Array): void {
    this.onmessage?.({ data: data.slice().buffer });
  }

  send(): void {}

  close(): void {
    this.readyState = 3;
  }
}

function nexusFrame(body: unknown): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_NEXUS);
  encoding.writeVarString(encoder, JSON.stringify(body));
  return encoding.toUint8Array(encoder);
}

const sessions: DocumentSession[] = [];

function open(): DocumentSession {
  const session = DocumentSession.open({
    docId: "plan",
    user: { id: "u-vic", name: "Vic", color: "#14b8a6" },
    serverUrl: "http://example.test:8000/",
    persist: false,
    WebSocketPolyfill: HelloSocket as unknown as typeof WebSocket,
  });
  sessions.push(session);
  return session;
}

afterEach(() => {
  for (const s of sessions.splice(0)) s.destroy();
  vi.restoreAllMocks();
});

const hello = { type: "hello", doc: "plan", role: "viewer", user: "8f3a", name: "vic" };

describe("hello", () => {
  it("parses the server's hello and refuses anything else", () => {
    expect(parseHello(hello)).toEqual({ docId: "plan", role: "viewer", userId: "8f3a", name: "vic", readOnly: true });
    expect(parseHello({ ...hello, role: "editor" })?.readOnly).toBe(false);
    expect(parseHello({ ...hello, role: "owner" })?.readOnly).toBe(false);
    expect(parseHello({ ...hello, role: "admin" })).toBeNull();
    expect(parseHello({ ...hello, type: "other" })).toBeNull();
    expect(parseHello({ ...hello, name: "" })).toBeNull();
    expect(parseHello({ id: 3, ok: true })).toBeNull();
    expect(parseHello(null)).toBeNull();
    expect(parseHello("hello")).toBeNull();
  });

  it("gives the session its role from the first frame, without a console error", async () => {
    const errors = vi.spyOn(console, "error");
    const session = open();
    expect(session.access()).toBeNull();
    expect(session.readOnly).toBe(false);
    const seen: Access[] = [];
    session.onAccess((a) => seen.push(a));
    HelloSocket.last?.open(hello);
    expect(session.access()).toMatchObject({ role: "viewer", name: "vic", userId: "8f3a", docId: "plan" });
    expect(session.readOnly).toBe(true);
    expect(seen).toHaveLength(1);
    // a reply to a command and a broken body are ignored, quietly
    HelloSocket.last?.deliver(nexusFrame({ id: 1, ok: true }));
    const broken = encoding.createEncoder();
    encoding.writeVarUint(broken, MESSAGE_NEXUS);
    encoding.writeVarString(broken, "{not json");
    HelloSocket.last?.deliver(encoding.toUint8Array(broken));
    HelloSocket.last?.deliver(nexusFrame(hello)); // the same hello again: no new event
    expect(seen).toHaveLength(1);
    HelloSocket.last?.deliver(nexusFrame({ ...hello, role: "editor" }));
    expect(seen.map((a) => a.role)).toEqual(["viewer", "editor"]);
    expect(session.readOnly).toBe(false);
    expect(errors).not.toHaveBeenCalled();
  });
});
