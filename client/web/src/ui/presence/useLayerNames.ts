import type { DocumentSession } from "../../document/session";
import { useSessionValue } from "../common/useSessionValue";

/** Layer id -> name, live. */
export function useLayerNames(session: DocumentSession): ReadonlyMap<string, string> {
  return useSessionValue(
    session,
    (s) => new Map(s.canvas.readLayers().map((layer) => [layer.id, layer.name] as const)),
    (c) => c.structure || c.layers.size > 0,
  );
}
