import { afterEach, describe, expect, it, vi } from "vitest";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";
import type { PeerPresence } from "../document/types";
import { CURSOR_INTERVAL_MS, Presence, parsePeer } from "./presence";

const ann = { id: "u-ann", name: "Ann", color: "#14b8a6" };
const bob = { id: "u-bob", name: "Bob", color: "#f59e0b" };

/** Copy every state of `from` into `to`, as the server relays them. */
function relay(from: Awareness, to: Awareness): void {
  applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...from.getStates().keys()]), "remote");
}

const awarenesses: Awareness[] = [];
function awareness(): Awareness {
  const a = new Awareness(new Y.Doc());
  awarenesses.push(a);
  return a;
}

afterEach(() => {
  vi.useRealTimers();
  for (const a of awarenesses.splice(0)) a.destroy();
});

describe("Presence", () => {
  it("announces the local user and lists peers, not self", () => {
    const a = awareness();
    const b = awareness();
    const pa = new Presence(a, ann);
    const pb = new Presence(b, bob);
    pb.setLayer("L1");
    pb.setViewport({ camera: { x: 1, y: 2, zoom: 0.5 }, width: 800, height: 600 });
    pb.setCursor([10, 20]);
    const seen: PeerPresence[][] = [];
    pa.onPeers((peers) => seen.push(peers));
    relay(b, a);
    expect(pa.peers()).toEqual([
      {
        clientId: b.clientID,
        user: bob,
        cursor: [10, 20],
        layerId: "L1",
        viewport: { camera: { x: 1, y: 2, zoom: 0.5 }, width: 800, height: 600 },
      },
    ]);
    expect(seen.at(-1)).toEqual(pa.peers());
    expect(pb.peers()).toEqual([]);
  });

  it("skips garbage states from foreign clients", () => {
    const a = awareness();
    const pa = new Presence(a, ann);
    for (const state of [
      { user: "x" },
      { user: { id: "", name: "n" } },
      { user: { id: 5 } },
      {},
      { user: { id: "u-ok", name: 3, color: "red" }, cursor: [1, "a"], layer: 7, viewport: { camera: { zoom: 0 } } },
    ]) {
      const foreign = awareness();
      foreign.setLocalState(state);
      relay(foreign, a);
    }
    const peers = pa.peers();
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({ user: { id: "u-ok", name: "u-ok", color: "#a3a3a3" }, cursor: null, layerId: null, viewport: null });
    expect(parsePeer(1, null)).toBeNull();
    expect(parsePeer(1, "state")).toBeNull();
  });

  it("throttles the cursor to ~30 Hz and keeps the trailing call", () => {
    vi.useFakeTimers();
    const a = awareness();
    const presence = new Presence(a, ann);
    const cursor = () => (a.getLocalState() as { cursor: unknown }).cursor;
    presence.setCursor([1, 1]);
    expect(cursor()).toEqual([1, 1]);
    presence.setCursor([2, 2]);
    presence.setCursor([3, 3]);
    expect(cursor()).toEqual([1, 1]);
    vi.advanceTimersByTime(CURSOR_INTERVAL_MS);
    expect(cursor()).toEqual([3, 3]);
    presence.setCursor(null);
    expect(cursor()).toEqual([3, 3]);
    vi.advanceTimersByTime(CURSOR_INTERVAL_MS);
    expect(cursor()).toBeNull();
    vi.advanceTimersByTime(1000);
    presence.setCursor([4, 4]);
    expect(cursor()).toEqual([4, 4]);
    presence.destroy();
  });
});
