import { useEffect, useRef } from "react";
import type { DocumentSession } from "../../document/session";
import { MASK_THRESHOLD } from "../../masks/maskEngine";
import { useEditorStore } from "../../store/editorStore";
import { useMaskStore } from "../../store/maskStore";
import { useSessionValue } from "../common/useSessionValue";
import { docToScreen } from "../presence/followCamera";

/** the selection's tint (quick-mask pink) and a segmentation preview's (green) */
const SELECTED: readonly [number, number, number, number] = [255, 48, 120, 0.45];
const PREVIEW: readonly [number, number, number, number] = [40, 220, 120, 0.55];

function paint(canvas: HTMLCanvasElement): void {
  const { engine, preview } = useMaskStore.getState();
  const context = canvas.getContext("2d");
  if (!engine || !context) return;
  const image = context.createImageData(engine.width, engine.height);
  const out = image.data;
  let selected = 0;
  for (let i = 0; i < engine.data.length; i++) {
    const value = engine.data[i];
    const shown = preview ? preview[i] : 0;
    if (value >= MASK_THRESHOLD) selected++;
    const [r, g, b, a] = shown > value ? PREVIEW : SELECTED;
    const level = Math.max(value, shown);
    if (level === 0) continue;
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = Math.round(level * a);
  }
  context.putImageData(image, 0, 0);
  canvas.dataset.maskArea = String(selected);
  canvas.dataset.preview = preview ? "1" : "0";
  if (useMaskStore.getState().selected !== selected) useMaskStore.setState({ selected });
}

/**
 * The selection over the canvas: a 2D canvas of the document's size tinted where the mask is,
 * placed with the camera (a DOM layer above the WebGL view: the composited pixels never change),
 * plus the rectangle or lasso being drawn and the segment-by-click points.
 */
export function MaskOverlay({ session }: { session: DocumentSession }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const size = useSessionValue(
    session,
    (s) => {
      const meta = s.canvas.readMeta();
      return `${meta.width}x${meta.height}`;
    },
    (change) => change.meta,
  );
  const [width, height] = size.split("x").map(Number);
  const camera = useEditorStore((s) => s.camera);
  const draft = useMaskStore((s) => s.draft);
  const points = useMaskStore((s) => s.segmentPoints);

  // the mask follows the canvas size; redraw once a frame at most on changes
  useEffect(() => {
    useMaskStore.getState().ensureEngine(width, height);
    const canvas = canvasRef.current;
    if (!canvas) return;
    let frame = 0;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        paint(canvas);
      });
    };
    paint(canvas);
    const unsubscribe = useMaskStore.subscribe((state, previous) => {
      if (state.version !== previous.version || state.preview !== previous.preview || state.engine !== previous.engine) {
        schedule();
      }
    });
    return () => {
      unsubscribe();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [width, height]);

  const screen = (x: number, y: number) => docToScreen(camera, x, y);
  let outline: string | null = null;
  if (draft?.kind === "rect") {
    outline = [draft.from, [draft.to[0], draft.from[1]], draft.to, [draft.from[0], draft.to[1]]]
      .map(([x, y]) => screen(x, y).join(","))
      .join(" ");
  } else if (draft?.kind === "lasso") {
    outline = draft.points.map(([x, y]) => screen(x, y).join(",")).join(" ");
  }

  return (
    <div className="pointer-events-none absolute inset-0 z-[5] overflow-hidden" aria-hidden="true">
      <canvas
        ref={canvasRef}
        data-testid="mask-overlay"
        width={width}
        height={height}
        className="absolute top-0 left-0 origin-top-left"
        style={{
          transform: `translate(${camera.x}px, ${camera.y}px) scale(${camera.zoom})`,
          imageRendering: camera.zoom >= 2 ? "pixelated" : "auto",
        }}
      />
      <svg aria-hidden="true" className="absolute inset-0 h-full w-full">
        {outline ? (
          <>
            <polygon points={outline} fill="none" stroke="#000" strokeWidth="1" />
            <polygon points={outline} fill="rgba(255,48,120,0.12)" stroke="#fff" strokeWidth="1" strokeDasharray="4 4" />
          </>
        ) : null}
        {points.map((point, index) => {
          const [x, y] = screen(point.x, point.y);
          return (
            <circle
              // biome-ignore lint/suspicious/noArrayIndexKey: points are only ever appended
              key={index}
              data-testid="segment-point"
              cx={x}
              cy={y}
              r="5"
              fill={point.positive ? "#22c55e" : "#ef4444"}
              stroke="#fff"
              strokeWidth="1.5"
            />
          );
        })}
      </svg>
    </div>
  );
}
