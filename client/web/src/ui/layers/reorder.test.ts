import { describe, expect, it } from "vitest";
import { displayIndex, dropToMoveIndex, gapForPointer, insertAboveIndex, nextLayerName } from "./reorder";

/** Apply a moveLayer(newIndex) to a bottom-first list, like CanvasDoc does. */
function move<T>(list: readonly T[], from: number, to: number): T[] {
  const rest = list.filter((_, i) => i !== from);
  rest.splice(to, 0, list[from]);
  return rest;
}

describe("dropToMoveIndex", () => {
  // bottom first: A (bottom), B, C, D (top); display: D, C, B, A
  const bottomFirst = ["A", "B", "C", "D"];
  const display = (list: readonly string[]) => [...list].reverse();

  it("moves the top layer to the bottom", () => {
    const to = dropToMoveIndex(0, 4, 4);
    expect(to).toBe(0);
    expect(display(move(bottomFirst, 3, to ?? -1))).toEqual(["C", "B", "A", "D"]);
  });

  it("moves the bottom layer to the top", () => {
    const to = dropToMoveIndex(3, 0, 4);
    expect(to).toBe(3);
    expect(display(move(bottomFirst, 0, to ?? -1))).toEqual(["A", "D", "C", "B"]);
  });

  it("ignores drops onto the row's own gaps", () => {
    expect(dropToMoveIndex(1, 1, 4)).toBeNull();
    expect(dropToMoveIndex(1, 2, 4)).toBeNull();
    expect(dropToMoveIndex(0, 0, 1)).toBeNull();
  });

  it("agrees with a display-order splice for every drop", () => {
    const n = bottomFirst.length;
    for (let from = 0; from < n; from++) {
      for (let gap = 0; gap <= n; gap++) {
        const shown = display(bottomFirst);
        const expected = [...shown];
        const [item] = expected.splice(from, 1);
        expected.splice(gap > from ? gap - 1 : gap, 0, item);
        const to = dropToMoveIndex(from, gap, n);
        const actual = to === null ? shown : display(move(bottomFirst, n - 1 - from, to));
        expect(actual).toEqual(expected);
      }
    }
  });

  it("clamps gaps outside the list", () => {
    expect(dropToMoveIndex(2, 99, 4)).toBe(0);
    expect(dropToMoveIndex(2, -5, 4)).toBe(3);
  });
});

describe("helpers", () => {
  it("converts bottom-first to display positions", () => {
    expect(displayIndex(0, 4)).toBe(3);
    expect(displayIndex(3, 4)).toBe(0);
  });
  it("picks the gap by the pointer's half of the row", () => {
    expect(gapForPointer(2, 3, 28)).toBe(2);
    expect(gapForPointer(2, 20, 28)).toBe(3);
  });
  it("inserts above the active layer, or on top", () => {
    expect(insertAboveIndex(1, 4)).toBe(2);
    expect(insertAboveIndex(3, 4)).toBe(4);
    expect(insertAboveIndex(-1, 4)).toBe(4);
  });
  it("names new layers Layer N", () => {
    expect(nextLayerName([])).toBe("Layer 1");
    expect(nextLayerName(["Background"])).toBe("Layer 2");
    expect(nextLayerName(["Layer 1", "Layer 7", "Sky"])).toBe("Layer 8");
  });
});
