import schema from "../../document/schema.json";
import type { BlendMode } from "../../document/types";

/** The 27 modes in the union's (Photoshop's) order, used when schema.json has none. */
const FALLBACK: readonly BlendMode[] = [
  "normal",
  "dissolve",
  "darken",
  "multiply",
  "color-burn",
  "linear-burn",
  "darker-color",
  "lighten",
  "screen",
  "color-dodge",
  "linear-dodge",
  "lighter-color",
  "overlay",
  "soft-light",
  "hard-light",
  "vivid-light",
  "linear-light",
  "pin-light",
  "hard-mix",
  "difference",
  "exclusion",
  "subtract",
  "divide",
  "hue",
  "saturation",
  "color",
  "luminosity",
];

function isBlendMode(value: unknown): value is BlendMode {
  return typeof value === "string" && (FALLBACK as readonly string[]).includes(value);
}

function fromSchema(): readonly BlendMode[] {
  const listed: unknown = (schema as { blend_modes?: unknown }).blend_modes;
  if (!Array.isArray(listed)) return FALLBACK;
  const modes = listed.filter(isBlendMode);
  return modes.length > 0 ? modes : FALLBACK;
}

export const BLEND_MODES: readonly BlendMode[] = fromSchema();

/** Photoshop's groups: the <select> shows a separator between them. */
const GROUP_STARTS: ReadonlySet<BlendMode> = new Set<BlendMode>(["darken", "lighten", "overlay", "difference", "hue"]);

/** The modes split into Photoshop's groups, in order. */
export function blendModeGroups(modes: readonly BlendMode[] = BLEND_MODES): BlendMode[][] {
  const groups: BlendMode[][] = [];
  for (const mode of modes) {
    if (groups.length === 0 || GROUP_STARTS.has(mode)) groups.push([]);
    groups[groups.length - 1].push(mode);
  }
  return groups;
}

const SPECIAL: Partial<Record<BlendMode, string>> = {
  "linear-dodge": "Linear dodge (add)",
};

/** "color-burn" -> "Color burn". */
export function blendModeLabel(mode: BlendMode): string {
  const special = SPECIAL[mode];
  if (special) return special;
  const words = mode.replace(/-/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
