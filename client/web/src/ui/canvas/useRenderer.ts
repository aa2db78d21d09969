import { type RefObject, useEffect, useState } from "react";
import { blobUrl } from "../../api/rest";
import { CanvasRenderer } from "../../render/renderer";

export interface RendererState {
  readonly renderer: CanvasRenderer | null;
  readonly error: string | null;
}

/** Creates the WebGL renderer inside `host` once it is mounted; destroys it on unmount. */
export function useRenderer(host: RefObject<HTMLDivElement | null>): RendererState {
  const [state, setState] = useState<RendererState>({
    renderer: null,
    error: null,
  });

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let cancelled = false;
    let created: CanvasRenderer | null = null;
    CanvasRenderer.create(element, { blobUrl }).then(
      (renderer) => {
        if (cancelled) {
          renderer.destroy();
          return;
        }
        created = renderer;
        setState({ renderer, error: null });
      },
      (error: unknown) => {
        if (cancelled) return;
        const reason = error instanceof Error ? error.message : String(error);
        setState({
          renderer: null,
          error: `The canvas could not start (WebGL): ${reason}`,
        });
      },
    );
    return () => {
      cancelled = true;
      created?.destroy();
      setState({ renderer: null, error: null });
    };
  }, [host]);

  return state;
}
