/**
 * A bare page around CanvasRenderer for the pixel-parity checks (tests/web/parity_fixture.py):
 * the check hands it a document as JSON and reads the pixels back. Not part of the app build.
 */

import type { Camera, CanvasMeta, Layer } from "../../document/types";
import { CanvasRenderer } from "../renderer";

interface ParityPage {
  renderer: CanvasRenderer;
  /** `changed`: the ids of the layers that changed since the last call (else: everything) */
  show(meta: CanvasMeta, layers: Layer[], activeId: string | null, camera?: Camera, changed?: string[]): void;
}

async function start(): Promise<void> {
  const host = document.getElementById("host");
  if (!host) return;
  const cache = new URLSearchParams(window.location.search).get("cache") !== "0";
  const renderer = await CanvasRenderer.create(host, { cache });
  const page: ParityPage = {
    renderer,
    show(meta, layers, activeId, camera, changed) {
      const renderer = page.renderer;
      renderer.setActiveLayer(activeId);
      const change = changed && {
        meta: false,
        structure: false,
        layers: new Set(changed),
        history: false,
        local: true,
      };
      renderer.setDocument(meta, layers, change || undefined);
      renderer.setCamera(camera ?? { x: 20, y: 20, zoom: 1 });
    },
  };
  (window as unknown as { __parity: ParityPage }).__parity = page;
  (window as unknown as { __recreate: () => Promise<void> }).__recreate = async () => {
    page.renderer.destroy();
    page.renderer = await CanvasRenderer.create(host, { cache });
  };
}

void start();
