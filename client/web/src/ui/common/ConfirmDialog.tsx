import { useState } from "react";
import { Button } from "./Button";
import { ErrorText, errorMessage } from "./ErrorText";
import { Modal } from "./Modal";

export interface ConfirmDialogProps {
  title: string;
  message: string;
  confirmLabel: string;
  /** runs the action; a thrown Error's message is shown in the dialog, which then stays open */
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
  danger?: boolean;
}

/** "Are you sure?" with the action's error, if any, shown as the server wrote it. */
export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
  danger = false,
}: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={danger ? "danger" : "primary"} onClick={confirm} disabled={busy}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <p className="text-neutral-300">{message}</p>
      <ErrorText error={error} className="mt-3" />
    </Modal>
  );
}
