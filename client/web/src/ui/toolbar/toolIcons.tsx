import type { ReactNode } from "react";
import type { ToolName } from "../../store/editorStore";

function Svg({ children }: { children: ReactNode }) {
  return (
    <svg
      width="18"
      height="18"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      {children}
    </svg>
  );
}

/** Inline SVG icons for the tools (no icon font, nothing loaded). */
export function ToolIcon({ tool }: { tool: ToolName }) {
  switch (tool) {
    case "select-rect":
      return (
        <Svg>
          <rect x="4" y="5" width="16" height="14" rx="1" strokeDasharray="3 2.5" />
        </Svg>
      );
    case "lasso":
      return (
        <Svg>
          <path d="M7 17c-3-1.5-4-4-3-6.5C5.5 6.5 10 4.5 14.5 5s6.5 3.5 5.5 6.5-5 4.5-9.5 4.5" strokeDasharray="3 2.5" />
          <path d="M7 17c0 2 1 3 3 4" />
        </Svg>
      );
    case "mask-brush":
    case "mask-eraser":
      return (
        <Svg>
          <rect x="3" y="3" width="18" height="18" rx="2" strokeDasharray="3 2.5" />
          <circle cx="12" cy="12" r="4.5" fill={tool === "mask-brush" ? "currentColor" : "none"} />
        </Svg>
      );
    case "segment-points":
      return (
        <Svg>
          <circle cx="12" cy="12" r="3" fill="currentColor" />
          <path d="M12 3v4M12 17v4M3 12h4M17 12h4" />
        </Svg>
      );
    case "brush":
      return (
        <Svg>
          <path d="M18.4 3.6a2 2 0 0 1 2.8 2.8L11 16.6 7.4 13z" />
          <path d="M7 14c-2 0-3.5 1.5-3.5 3.5 0 1.2-.5 2.2-1.5 2.9 3.8.6 7.5-.6 7.9-3.5z" />
        </Svg>
      );
    case "eraser":
      return (
        <Svg>
          <path d="M7 20h13" />
          <path d="M4.6 14.6 14.2 5a2 2 0 0 1 2.8 0l3 3a2 2 0 0 1 0 2.8L11.4 19.4a2 2 0 0 1-1.4.6H8a2 2 0 0 1-1.4-.6l-2-2a2 2 0 0 1 0-2.8z" />
          <path d="m9 10 6 6" />
        </Svg>
      );
    case "move":
      return (
        <Svg>
          <path d="M12 2v20M2 12h20" />
          <path d="m9 5 3-3 3 3M9 19l3 3 3-3M5 9l-3 3 3 3M19 9l3 3-3 3" />
        </Svg>
      );
    case "eyedropper":
      return (
        <Svg>
          <path d="m2 22 1-1h3l9-9" />
          <path d="M3 21v-3l9-9" />
          <path d="m15 6 3.4-3.4a2.1 2.1 0 1 1 3 3L18 9l.4.4a2.1 2.1 0 1 1-3 3l-3.8-3.8a2.1 2.1 0 1 1 3-3z" />
        </Svg>
      );
    case "pan":
      return (
        <Svg>
          <path d="M18 11V6a2 2 0 0 0-4 0v5" />
          <path d="M14 10V4a2 2 0 0 0-4 0v6" />
          <path d="M10 10.5V6a2 2 0 0 0-4 0v8" />
          <path d="M18 8a2 2 0 1 1 4 0v6a8 8 0 0 1-8 8h-2c-2.8 0-4.5-.9-6-2.4l-3.6-3.6a2 2 0 0 1 2.8-2.8L7 15" />
        </Svg>
      );
  }
}
