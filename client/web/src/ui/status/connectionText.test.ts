import { describe, expect, it } from "vitest";
import type { ConnectionState } from "../../document/types";
import { connectionBanner, connectionText } from "./connectionText";

function state(props: Partial<ConnectionState>): ConnectionState {
  return {
    phase: "connected",
    unsynced: 0,
    closeCode: null,
    message: null,
    retrying: true,
    ...props,
  };
}

describe("connection texts", () => {
  it("names each phase", () => {
    expect(connectionText(state({})).text).toBe("Connected");
    expect(connectionText(state({ phase: "syncing" })).text).toBe("Syncing…");
    expect(connectionText(state({ phase: "offline", unsynced: 3 })).text).toBe("Offline — 3 unsynced changes");
    expect(connectionText(state({ phase: "offline", unsynced: 1 })).text).toBe("Offline — 1 unsynced change");
    expect(connectionText(state({ phase: "reconnecting" })).text).toBe("Reconnecting…");
    expect(connectionText(state({ phase: "closed", retrying: false })).tone).toBe("error");
  });

  it("shows the close message in a banner until connected again", () => {
    const closed = state({
      phase: "closed",
      closeCode: 4413,
      message: "The document is full",
      retrying: false,
    });
    expect(connectionBanner(closed)).toBe("The document is full");
    expect(connectionBanner(state({ message: "old" }))).toBeNull();
    expect(connectionBanner(state({ phase: "offline" }))).toBeNull();
  });
});
