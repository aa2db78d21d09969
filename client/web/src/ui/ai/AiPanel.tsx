import { useState } from "react";
import type { DocumentSession } from "../../document/session";
import { GenerativeFillSection } from "./GenerativeFillSection";
import { RemoveBackgroundSection } from "./RemoveBackgroundSection";
import { SegmentSection } from "./SegmentSection";
import { SourcePicker } from "./SourcePicker";

type Tab = "fill" | "background" | "segment";

const TABS: readonly { tab: Tab; label: string }[] = [
  { tab: "fill", label: "Fill" },
  { tab: "background", label: "Background" },
  { tab: "segment", label: "Segment" },
];

/**
 * The AI tools: generative fill of the selection, background removal, segment by click; all
 * read the source chosen here (the composite by default, or one layer).
 */
export function AiPanel({ session }: { session: DocumentSession }) {
  const [tab, setTab] = useState<Tab>("fill");
  const [stage, setStage] = useState(true);
  const [source, setSource] = useState("");
  return (
    <section aria-labelledby="ai-heading" data-testid="ai-panel" className="border-b border-neutral-700 px-3 py-2.5">
      <div className="mb-1.5 flex items-center justify-between">
        <h2 id="ai-heading" className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">
          AI
        </h2>
        <div role="tablist" aria-label="AI tool" className="flex rounded bg-neutral-900 p-0.5 text-[11px]">
          {TABS.map((entry) => (
            <button
              key={entry.tab}
              type="button"
              role="tab"
              aria-selected={tab === entry.tab}
              onClick={() => setTab(entry.tab)}
              className={`rounded px-2 py-0.5 ${tab === entry.tab ? "bg-neutral-700 text-white" : "text-neutral-400 hover:text-white"}`}
            >
              {entry.label}
            </button>
          ))}
        </div>
      </div>
      <label className="mb-1.5 flex items-center gap-1.5 text-[11px] text-neutral-300" title="The result lands as a proposal that any editor can accept, discard or re-run">
        <input type="checkbox" checked={stage} onChange={(e) => setStage(e.target.checked)} className="accent-blue-500" />
        Stage result (a proposal to review)
      </label>
      <SourcePicker session={session} source={source} onChange={setSource} />
      <div role="tabpanel">
        {tab === "fill" ? <GenerativeFillSection session={session} stage={stage} source={source} /> : null}
        {tab === "background" ? <RemoveBackgroundSection session={session} stage={stage} source={source} /> : null}
        {tab === "segment" ? <SegmentSection session={session} stage={stage} source={source} /> : null}
      </div>
    </section>
  );
}
