import { useState } from "react";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { useMaskStore } from "../../store/maskStore";
import { Button } from "../common/Button";
import { base64Of, type FillRequest, submitFill } from "./aiApi";
import { Choice, Row, TextField } from "./fields";
import { JobStatus } from "./JobStatus";
import { sourceField } from "./source";
import { useJobRun } from "./useJobRun";
import { checkFill, FILL_DEFAULTS, type FillField, type FillForm, fillRegion, LIMITS } from "./validate";

/** Generative fill of the selection: prompt, negative prompt, steps, guidance, strength, seed; it reads `source`. */
export function GenerativeFillSection({ session, stage, source }: { session: DocumentSession; stage: boolean; source: string }) {
  const [form, setForm] = useState<FillForm>(FILL_DEFAULTS);
  const [errors, setErrors] = useState<Partial<Record<FillField, string>>>({});
  const hasMask = useMaskStore((s) => s.selected > 0);
  const run = useJobRun((job) => {
    if (job.layer_id && session.canvas.getLayer(job.layer_id)) useEditorStore.getState().setActiveLayer(job.layer_id);
  });
  const update = (patch: Partial<FillForm>) => {
    setForm((old) => ({ ...old, ...patch }));
    setErrors((old) => {
      const next = { ...old };
      for (const key of Object.keys(patch) as FillField[]) delete next[key];
      return next;
    });
  };

  const generate = async () => {
    const checked = checkFill(form);
    if (!checked.ok) {
      setErrors(checked.errors);
      run.refuse(`Fix the highlighted field: ${Object.values(checked.errors)[0]}`);
      return;
    }
    setErrors({});
    const engine = useMaskStore.getState().engine;
    const bounds = engine?.bounds();
    if (!engine || !bounds) {
      run.refuse(
        "mask is empty: no pixel marks an area to fill — select an area first (rectangle, lasso or mask brush)",
      );
      return;
    }
    const region = fillRegion(bounds, engine.width, engine.height);
    await run.start(async () => {
      const body: FillRequest = {
        ...checked.value,
        mask_png: await base64Of(await engine.toPngBlob(region ?? undefined)),
        ...(region ? { region } : {}),
        ...sourceField(source),
        stage,
      };
      return submitFill(session.docId, body);
    });
  };

  return (
    <form
      noValidate
      aria-label="Generative fill"
      className="flex flex-col gap-1.5"
      onSubmit={(event) => {
        event.preventDefault();
        void generate();
      }}
    >
      <TextField label="Prompt" multiline value={form.prompt} error={errors.prompt} placeholder="what to paint into the selection" onChange={(prompt) => update({ prompt })} />
      <TextField label="Negative prompt" multiline value={form.negativePrompt} error={errors.negativePrompt} placeholder="what to avoid" onChange={(negativePrompt) => update({ negativePrompt })} />
      <Row>
        <TextField label="Steps" hint={`1–${LIMITS.defaultMaxSteps}`} value={form.steps} error={errors.steps} onChange={(steps) => update({ steps })} />
        <TextField label="Guidance" hint="0–30" value={form.guidance} error={errors.guidance} onChange={(guidance) => update({ guidance })} />
      </Row>
      <Row>
        <TextField label="Strength" hint="0.01–1" value={form.strength} error={errors.strength} onChange={(strength) => update({ strength })} />
        <div className="flex flex-col gap-0.5">
          <span className="text-[11px] text-neutral-400">Seed</span>
          <Choice
            label="Seed"
            value={form.seedMode}
            options={[
              { value: "random", label: "Random" },
              { value: "fixed", label: "Fixed" },
            ]}
            onChange={(seedMode) => update({ seedMode })}
          />
        </div>
      </Row>
      {form.seedMode === "fixed" ? (
        <TextField label="Seed value" hint={`0–${LIMITS.maxSeed}`} value={form.seed} error={errors.seed} onChange={(seed) => update({ seed })} />
      ) : null}
      <Button type="submit" variant="primary" disabled={run.busy} title={hasMask ? undefined : "Select an area first"}>
        {run.busy ? "Generating…" : "Generate fill"}
      </Button>
      {!hasMask ? <p className="text-[11px] text-neutral-500">Select an area with the rectangle, lasso or mask brush first.</p> : null}
      <JobStatus run={run} done={stage ? "Added as a proposal layer for review" : "Added as a new layer"} />
    </form>
  );
}
