import { afterEach, describe, expect, it, vi } from "vitest";
import { createUser, isValidUserId, localUser, PALETTE, STORAGE_KEY, setLocalUserName } from "./identity";

function fakeStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k: string) => data.get(k) ?? null,
    key: (i: number) => [...data.keys()][i] ?? null,
    removeItem: (k: string) => {
      data.delete(k);
    },
    setItem: (k: string, v: string) => {
      data.set(k, String(v));
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("identity", () => {
  it("creates ids the server accepts, with a name and a palette colour", () => {
    for (let i = 0; i < 20; i++) {
      const user = createUser();
      expect(user.id).toMatch(/^u-[0-9a-f]{12}$/);
      expect(isValidUserId(user.id)).toBe(true);
      expect(user.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(PALETTE).toContain(user.color);
    }
    expect(isValidUserId("a b")).toBe(false);
    expect(isValidUserId("x".repeat(65))).toBe(false);
  });

  it("lets ?user= and ?name= win", () => {
    vi.stubGlobal("localStorage", fakeStorage());
    expect(localUser("?user=alice&name=Alice%20A")).toMatchObject({ id: "alice", name: "Alice A" });
    expect(localUser("?user=alice").id).toBe("alice");
    expect(localUser("?user=alice").color).toBe(localUser("?user=alice&name=x").color);
    // an id the server would refuse is ignored
    expect(localUser("?user=bad%20id").id).toMatch(/^u-/);
  });

  it("keeps the stored identity across calls and renames it", () => {
    const storage = fakeStorage();
    vi.stubGlobal("localStorage", storage);
    const first = localUser("");
    expect(localUser("")).toEqual(first);
    expect(JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}")).toEqual(first);
    expect(setLocalUserName("  Zed ").name).toBe("Zed");
    expect(localUser("")).toEqual({ ...first, name: "Zed" });
    storage.setItem(STORAGE_KEY, "{garbage");
    // garbage in storage: this page keeps its identity and repairs the stored copy
    expect(localUser("").id).toBe(first.id);
    expect(JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}").id).toBe(first.id);
  });
});
