import { type PointerEvent as ReactPointerEvent, useEffect, useMemo, useRef, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { DocumentChange } from "../../document/types";
import type { CanvasRenderer } from "../../render/renderer";
import { useEditorStore } from "../../store/editorStore";
import type { CameraController } from "../../tools/cameraController";
import { isTypingTarget } from "../../tools/keyboard";
import { PointerRouter } from "../../tools/pointerRouter";
import { pointerAt, pointerSamples } from "./pointerSamples";
import { useBrushOutline } from "./useBrushOutline";
import { useRenderer } from "./useRenderer";

export interface CanvasViewProps {
  session: DocumentSession;
  camera: CameraController;
  /** the renderer once it runs, null when it goes away */
  onRenderer?: (renderer: CanvasRenderer | null) => void;
}

/**
 * The canvas: a host element holding the WebGL CanvasRenderer, fed from the session and the
 * store's camera, and the pointer input that drives the tools (tools/pointerRouter.ts). The
 * renderer writes its frame count into the host's data-rendered.
 */
export function CanvasView({ session, camera, onRenderer }: CanvasViewProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const { renderer, error } = useRenderer(hostRef);
  const rendererRef = useRef<CanvasRenderer | null>(null);
  rendererRef.current = renderer;
  const [cursor, setCursor] = useState("crosshair");
  const outline = useBrushOutline();

  const router = useMemo(() => {
    const created: PointerRouter = new PointerRouter(
      session,
      camera,
      () => rendererRef.current,
      () => setCursor(created.cursor()),
    );
    return created;
  }, [session, camera]);

  useEffect(() => () => router.destroy(), [router]);

  useEffect(() => {
    onRenderer?.(renderer);
    return () => onRenderer?.(null);
  }, [renderer, onRenderer]);

  // the document's size, for fitting
  useEffect(() => {
    const update = () => {
      const meta = session.canvas.readMeta();
      camera.setDocumentSize(meta.width, meta.height);
    };
    update();
    return session.onChange((change) => {
      if (change.meta) update();
    });
  }, [session, camera]);

  // the document into the renderer
  useEffect(() => {
    if (!renderer) return;
    const push = (change?: DocumentChange) => {
      renderer.setDocument(session.canvas.readMeta(), session.canvas.readLayers(), change);
    };
    push();
    return session.onChange(push);
  }, [renderer, session]);

  // active layer and camera into the renderer; viewport to the collaborators
  useEffect(() => {
    if (!renderer) return;
    const apply = () => {
      const state = useEditorStore.getState();
      renderer.setActiveLayer(state.activeLayerId);
      renderer.setCamera(state.camera);
    };
    apply();
    return useEditorStore.subscribe((state, previous) => {
      if (state.activeLayerId !== previous.activeLayerId) renderer.setActiveLayer(state.activeLayerId);
      if (state.camera !== previous.camera) renderer.setCamera(state.camera);
    });
  }, [renderer]);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const announce = () => {
      const { width, height } = camera.viewSize;
      if (width > 0 && height > 0) {
        session.presence.setViewport({
          camera: useEditorStore.getState().camera,
          width,
          height,
        });
      }
    };
    const observer = new ResizeObserver(() => {
      camera.setViewSize(host.clientWidth, host.clientHeight);
      announce();
    });
    observer.observe(host);
    camera.setViewSize(host.clientWidth, host.clientHeight);
    announce();
    const unsubscribe = useEditorStore.subscribe((state, previous) => {
      if (state.camera !== previous.camera) announce();
      if (state.tool !== previous.tool) setCursor(router.cursor());
    });
    return () => {
      observer.disconnect();
      unsubscribe();
      session.presence.setViewport(null);
    };
  }, [session, camera, router]);

  // wheel: pan, or zoom with ctrl/cmd (a trackpad pinch); not passive, so the page never scrolls
  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      camera.wheel({
        deltaX: event.deltaX,
        deltaY: event.deltaY,
        deltaMode: event.deltaMode,
        zoom: event.ctrlKey || event.metaKey,
        shiftKey: event.shiftKey,
        at: pointerAt(event, host),
      });
    };
    host.addEventListener("wheel", onWheel, { passive: false });
    return () => host.removeEventListener("wheel", onWheel);
  }, [camera]);

  // Space held: the hand
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.code !== "Space" || isTypingTarget(event.target)) return;
      const down = event.type === "keydown";
      if (down) event.preventDefault();
      router.setSpaceHeld(down);
      outline.setHidden(down);
    };
    const release = () => {
      router.setSpaceHeld(false);
      outline.setHidden(false);
    };
    window.addEventListener("keydown", onKey);
    window.addEventListener("keyup", onKey);
    window.addEventListener("blur", release);
    return () => {
      window.removeEventListener("keydown", onKey);
      window.removeEventListener("keyup", onKey);
      window.removeEventListener("blur", release);
    };
  }, [router, outline]);

  const onPointerDown = (event: ReactPointerEvent<HTMLDivElement>) => {
    const host = hostRef.current;
    if (!host) return;
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && focused !== document.body) focused.blur();
    if (event.button === 1) event.preventDefault(); // no autoscroll
    const capture = router.down({
      button: event.button,
      altKey: event.altKey,
      shiftKey: event.shiftKey,
      at: pointerAt(event, host),
    });
    if (capture) {
      event.preventDefault();
      host.setPointerCapture(event.pointerId);
      outline.setHidden(router.cursor() === "grabbing");
    }
  };

  const onPointerMove = (event: ReactPointerEvent<HTMLDivElement>) => {
    const host = hostRef.current;
    if (!host) return;
    const samples = pointerSamples(event.nativeEvent, host);
    router.move(samples);
    outline.moveTo(samples[samples.length - 1] ?? null);
  };

  const onPointerUp = (event: ReactPointerEvent<HTMLDivElement>) => {
    router.up();
    const host = hostRef.current;
    if (host?.hasPointerCapture(event.pointerId)) host.releasePointerCapture(event.pointerId);
    outline.setHidden(false);
  };

  return (
    <div className="absolute inset-0 overflow-hidden bg-neutral-900">
      <div
        ref={hostRef}
        data-testid="canvas-host"
        data-rendered="0"
        className="absolute inset-0 touch-none select-none"
        style={{ cursor }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => {
          router.leave();
          outline.moveTo(null);
        }}
        onContextMenu={(event) => event.preventDefault()}
      />
      <div
        ref={outline.ref}
        aria-hidden="true"
        className="pointer-events-none absolute top-0 left-0 hidden rounded-full border border-white/80 mix-blend-difference"
      />
      {error ? (
        <div role="alert" className="absolute inset-x-0 top-1/3 mx-auto w-fit rounded bg-red-900/90 px-4 py-2 text-sm">
          {error}
        </div>
      ) : null}
    </div>
  );
}
