import type { BlendMode } from "../../document/types";
import { BLEND_MODES } from "../../document/validate";

/** The 27 modes as schema.json lists them (generated from the Python schema: no second list). */
export { BLEND_MODES };

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
