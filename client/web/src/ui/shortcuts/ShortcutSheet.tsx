import { Fragment } from "react";
import { isMacPlatform, keyName, SHORTCUTS, type ShortcutGroup } from "../../tools/keyboard";
import { Modal } from "../common/Modal";

const GROUPS: readonly ShortcutGroup[] = ["Tools", "Brush", "View", "Edit", "Help"];

function Keys({ keys, mac }: { keys: readonly string[]; mac: boolean }) {
  return (
    <span className="inline-flex items-center gap-0.5">
      {keys.map((key, index) => (
        <Fragment key={key}>
          {index > 0 ? <span className="text-neutral-500">+</span> : null}
          <kbd className="rounded border border-neutral-600 bg-neutral-900 px-1.5 py-px font-mono text-[11px] text-neutral-100">
            {keyName(key, mac)}
          </kbd>
        </Fragment>
      ))}
    </span>
  );
}

/** Every shortcut of tools/keyboard.ts, grouped; Escape closes. */
export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  const mac = isMacPlatform();
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} width="w-[36rem]">
      <div className="grid max-h-[70vh] grid-cols-2 gap-x-6 gap-y-3 overflow-y-auto">
        {GROUPS.map((group) => (
          <section key={group}>
            <h3 className="mb-1 text-xs font-semibold tracking-wide text-neutral-400 uppercase">{group}</h3>
            <dl className="flex flex-col gap-1">
              {SHORTCUTS.filter((s) => s.group === group).map((shortcut) => (
                <div key={shortcut.label} className="flex items-center justify-between gap-3 text-xs">
                  <dt className="text-neutral-200">{shortcut.label}</dt>
                  <dd className="flex flex-wrap justify-end gap-1.5">
                    {shortcut.keys.map((keys) => (
                      <Keys key={keys.join("+")} keys={keys} mac={mac} />
                    ))}
                  </dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Modal>
  );
}
