import { type ReactNode, useEffect, useRef } from "react";

export interface ModalProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** buttons, right-aligned under the content */
  footer?: ReactNode;
  width?: string;
}

/** A modal dialog on the native <dialog> (focus kept inside, Escape closes). Rendered = open. */
export function Modal({ title, onClose, children, footer, width = "w-96" }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      closeRef.current();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => {
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      aria-label={title}
      className={`m-auto ${width} max-w-[95vw] rounded-lg border border-neutral-700 bg-neutral-800 p-0 text-sm text-neutral-100 shadow-2xl backdrop:bg-black/60`}
      onMouseDown={(event) => {
        if (event.target === ref.current) onClose();
      }}
    >
      <div className="border-b border-neutral-700 px-4 py-2.5 text-sm font-semibold">{title}</div>
      <div className="px-4 py-3">{children}</div>
      {footer ? <div className="flex justify-end gap-2 border-t border-neutral-700 px-4 py-2.5">{footer}</div> : null}
    </dialog>
  );
}
