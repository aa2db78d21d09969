import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/rest";
import { describeError } from "./aiApi";

describe("describeError", () => {
  it("adds the retry time the server's message leaves out", () => {
    const error = new ApiError(429, "too_many_jobs", "'Alice' may submit 30 jobs per minute", 60);
    expect(describeError(error)).toBe("'Alice' may submit 30 jobs per minute — retry in 60 s");
  });

  it("says the retry time once when the server's message names it (503 jobs_busy)", () => {
    const message = "the AI job queue is full (1 jobs queued or running); retry in 5 s";
    expect(describeError(new ApiError(503, "jobs_busy", message, 5))).toBe(message);
  });

  it("shows other errors as the server wrote them", () => {
    expect(describeError(new ApiError(422, "invalid", "steps must be an integer from 1 to 50, got 60"))).toBe(
      "steps must be an integer from 1 to 50, got 60",
    );
  });
});
