import type { Point } from "../../tools/camera";

/** The pointer positions of a pointermove relative to `host`, with the coalesced ones (oldest first). */
export function pointerSamples(event: PointerEvent, host: HTMLElement): Point[] {
  const rect = host.getBoundingClientRect();
  const coalesced = typeof event.getCoalescedEvents === "function" ? event.getCoalescedEvents() : [];
  const events = coalesced.length > 0 ? coalesced : [event];
  return events.map((e) => [e.clientX - rect.left, e.clientY - rect.top] as const);
}

export function pointerAt(event: { clientX: number; clientY: number }, host: HTMLElement): Point {
  const rect = host.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}
