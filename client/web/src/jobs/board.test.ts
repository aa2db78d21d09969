import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { elapsedMs, formatElapsed, inputsText, kindName, labelDetail, observeJobs, readJobEntry, readJobs } from "./board";

function board(entries: Record<string, Record<string, unknown>>): Y.Doc {
  const doc = new Y.Doc();
  const jobs = doc.getMap("jobs");
  for (const [id, fields] of Object.entries(entries)) {
    const entry = new Y.Map<unknown>();
    for (const [k, v] of Object.entries(fields)) entry.set(k, v);
    jobs.set(id, entry);
  }
  return doc;
}

describe("readJobs", () => {
  it("reads the server's entries, newest first", () => {
    const doc = board({
      a: { id: "a", kind: "segment", state: "done", progress: 100, user: "ann", name: "Ann", label: "segment", layer_id: "ai-a", created_at: 1000, started_at: 1500, updated_at: 4000 },
      b: {
        id: "b",
        kind: "generative_fill",
        state: "running",
        progress: 35,
        user: "bob",
        name: "Bob",
        label: "generative fill: a red sofa",
        stage: true,
        region: { x: 8, y: 4, width: 32, height: 16 },
        created_at: 2000,
        updated_at: 2500,
      },
    });
    const [b, a] = readJobs(doc);
    expect(b).toMatchObject({ id: "b", state: "running", progress: 35, stage: true, region: { x: 8, y: 4, width: 32, height: 16 }, startedAt: null });
    expect(a).toMatchObject({ id: "a", state: "done", layerId: "ai-a", stage: false, region: null, startedAt: 1500 });
    expect(labelDetail(b)).toBe("a red sofa");
    expect(kindName(b.kind)).toBe("Generative fill");
  });

  it("reads what a job read and what ran", () => {
    const done = readJobEntry("c", {
      kind: "generative_fill",
      state: "done",
      label: "Fill (OpenCV inpainting, prompt not used)",
      method: "OpenCV inpainting, prompt not used: no model configured",
      fallback: true,
      source: "composite",
      inputs: [{ id: "p", name: "photo" }, { id: "n", name: "notes" }, { name: "no id" }, 7],
    });
    expect(done).toMatchObject({ fallback: true, source: "composite", method: "OpenCV inpainting, prompt not used: no model configured" });
    expect(inputsText(done)).toBe("Composite: photo, notes");
    expect(labelDetail(done)).toBe(""); // the label is the layer's name, not "kind: prompt"
    const old = readJobEntry("d", { kind: "segment", state: "queued", inputs: "x" });
    expect(old).toMatchObject({ fallback: false, source: null, method: null, inputs: [] });
    expect(inputsText(old)).toBe("");
  });

  it("tolerates foreign values with defaults", () => {
    const job = readJobEntry("x", { state: "exploded", progress: 400, kind: 3, region: { x: 1, y: 1, width: 0, height: 4 }, error: 5 });
    expect(job).toMatchObject({ id: "x", state: "queued", progress: 100, kind: "job", region: null, error: null, user: "", createdAt: 0 });
    const doc = new Y.Doc();
    doc.getMap("jobs").set("junk", 42);
    expect(readJobs(doc)).toEqual([]);
  });

  it("notifies on deep changes", () => {
    const doc = board({ a: { id: "a", state: "queued" } });
    let calls = 0;
    const stop = observeJobs(doc, () => calls++);
    (doc.getMap("jobs").get("a") as Y.Map<unknown>).set("state", "running");
    stop();
    (doc.getMap("jobs").get("a") as Y.Map<unknown>).set("state", "done");
    expect(calls).toBe(1);
  });
});

describe("elapsed", () => {
  it("counts from the start to now while running, to the last update once finished", () => {
    const running = readJobEntry("r", { state: "running", created_at: 1000, started_at: 2000, updated_at: 3000 });
    expect(elapsedMs(running, 9000)).toBe(7000);
    const done = readJobEntry("d", { state: "done", created_at: 1000, started_at: 2000, updated_at: 5000 });
    expect(elapsedMs(done, 9000)).toBe(3000);
    expect(elapsedMs(readJobEntry("q", { state: "queued" }), 9000)).toBeNull();
  });

  it("formats as m:ss or h:mm:ss", () => {
    expect(formatElapsed(7_400)).toBe("0:07");
    expect(formatElapsed(125_000)).toBe("2:05");
    expect(formatElapsed(3_723_000)).toBe("1:02:03");
  });
});
