import { describe, expect, it } from "vitest";
import type { HistoryEntry, PeerPresence } from "../../document/types";
import { colorForUser } from "../common/userColor";
import { historyItems, uniqueKeys } from "./historyView";

function entry(id: string, user: string, at: number): HistoryEntry {
  return { id, user, name: user, action: "edit", label: `edit ${id}`, at };
}

const bob: PeerPresence = {
  clientId: 2,
  user: { id: "u-bob", name: "Bob", color: "#00ff00" },
  cursor: null,
  layerId: null,
  viewport: null,
};

describe("historyItems", () => {
  it("lists newest first, keeping array order for equal times", () => {
    const items = historyItems(
      [entry("a", "u-me", 1), entry("b", "u-bob", 3), entry("c", "u-x", 3)],
      "u-me",
      "#ff0000",
      [],
    );
    expect(items.map((i) => i.entry.id)).toEqual(["c", "b", "a"]);
  });
  it("colours by presence, self, else the user id", () => {
    const items = historyItems(
      [entry("a", "u-me", 1), entry("b", "u-bob", 2), entry("c", "u-x", 3)],
      "u-me",
      "#ff0000",
      [bob],
    );
    expect(items.map((i) => i.color)).toEqual([colorForUser("u-x"), "#00ff00", "#ff0000"]);
    expect(items.map((i) => i.mine)).toEqual([false, false, true]);
  });
});

describe("uniqueKeys", () => {
  it("suffixes empty and repeated ids", () => {
    expect(uniqueKeys(["a", "b", "a", "", ""])).toEqual(["a", "b", "a~1", "~0", "~1"]);
  });
});
