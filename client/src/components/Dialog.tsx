import { useEffect, useId, useRef, type ReactNode } from 'react';
import styles from './Dialog.module.css';
import { FormActions } from './FormField';

type DialogProps = {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Buttons in the footer; the dialog body usually holds a form that owns them instead. */
  footer?: ReactNode;
  width?: number;
};

/**
 * A modal on the native <dialog>: the browser traps focus, Escape closes it (routed through
 * onClose so React state stays the source of truth), and focus returns to where it was.
 */
export function Dialog({ open, title, onClose, children, footer, width = 420 }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (open && !el.open) {
      el.showModal();
      // showModal focuses the first focusable element (the Close button); prefer the one marked for it.
      el.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    }
    if (!open && el.open) el.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className={styles.dialog}
      aria-labelledby={titleId}
      style={{ width }}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onMouseDown={(e) => {
        // A click on the backdrop (the dialog element itself, outside its content box) closes it.
        if (e.target === e.currentTarget) {
          const r = e.currentTarget.getBoundingClientRect();
          const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
          if (!inside) onClose();
        }
      }}
    >
      {open && (
        <>
          <header className={styles.header}>
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-button" aria-label="Close" title="Close (Esc)" onClick={onClose}>
              ×
            </button>
          </header>
          <div className={styles.body}>{children}</div>
          {footer && <footer className={styles.footer}>{footer}</footer>}
        </>
      )}
    </dialog>
  );
}

type ConfirmProps = {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
};

/** "Are you sure?" with the action's own verb on the button; Enter confirms, Escape cancels. */
export function ConfirmDialog({ open, title, message, confirmLabel, busyLabel, danger, busy, error, onConfirm, onClose }: ConfirmProps) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy) onConfirm();
        }}
      >
        <div className="confirm-message">{message}</div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <FormActions onClose={onClose} busy={busy} label={confirmLabel} busyLabel={busyLabel} danger={danger} autoFocusSubmit />
      </form>
    </Dialog>
  );
}
