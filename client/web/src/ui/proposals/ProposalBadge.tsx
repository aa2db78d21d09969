import type { Layer } from "../../document/types";

/** Who asked for a proposal, from the layer's `proposal` map ("" when it does not say). */
export function proposedBy(layer: Pick<Layer, "proposal">): string {
  const p = layer.proposal;
  if (!p) return "";
  return typeof p.name === "string" && p.name ? p.name : typeof p.user === "string" ? p.user : "";
}

/** The small "Proposal" tag of a staged AI layer in the layers list. */
export function ProposalBadge({ layer }: { layer: Pick<Layer, "proposal"> }) {
  if (!layer.proposal) return null;
  const who = proposedBy(layer);
  return (
    <span
      data-testid="proposal-badge"
      title={`AI proposal${who ? ` for ${who}` : ""}: not in exports until someone accepts it`}
      className="shrink-0 rounded bg-violet-600/80 px-1 py-px text-[9px] leading-tight font-semibold tracking-wide text-white uppercase"
    >
      Proposal
    </span>
  );
}
