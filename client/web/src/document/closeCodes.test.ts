import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeClose, shouldRetry } from "./closeCodes";

// Every close code the server documents (docs/protocol.md, "Close codes") becomes a message.
const protocol = readFileSync(new URL("../../../../docs/protocol.md", import.meta.url), "utf8");
const table = protocol.split("### Close codes")[1].split("\n\n")[1];
const documented = [...table.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));

describe("close codes", () => {
  it("reads the documented codes", () => {
    expect(documented).toContain(1009);
    expect(documented).toContain(4413);
    expect(documented.length).toBeGreaterThanOrEqual(11);
  });

  it.each(documented.filter((code) => code !== 1000))("%i has an actionable message", (code) => {
    const info = describeClose(code, "the bad value");
    expect(info.code).toBe(code);
    expect(info.message).toBeTruthy();
    expect(info.message).not.toMatch(/^The connection closed \(code/); // not the generic fallback
  });

  it("never retries the refusals the protocol says not to retry", () => {
    for (const code of [4400, 4413, 4401, 4403, 4499]) expect(shouldRetry(code)).toBe(false);
    for (const code of [1001, 1006, 1008, 1011, 4008]) expect(shouldRetry(code)).toBe(true);
  });

  it("appends the server's reason where it names the bad value", () => {
    expect(describeClose(4400, "document id must be ..., got 'a b'").message).toContain("got 'a b'");
    expect(describeClose(1000).message).toBeNull();
    expect(describeClose(null).message).toBeNull();
  });
});
