import { useEffect, useRef } from 'react';
import { useLocation } from 'wouter';
import { navItems } from '../nav';
import { Dialog } from './Dialog';
import styles from './Shortcuts.module.css';

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return false;
}

/**
 * Global keys: `g` then a letter goes to a page, `?` shows the list. Ignored while typing in a
 * field, with a modifier held, or while a dialog is open.
 */
export function useGlobalShortcuts(onHelp: () => void) {
  const [, navigate] = useLocation();
  const pendingG = useRef<number | null>(null);

  useEffect(() => {
    const clearPending = () => {
      if (pendingG.current !== null) window.clearTimeout(pendingG.current);
      pendingG.current = null;
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
      if (pendingG.current !== null) {
        const item = navItems.find((n) => n.key === e.key.toLowerCase());
        clearPending();
        if (item) {
          e.preventDefault();
          navigate(item.path);
          // Move focus to the page so Tab continues from its content.
          window.setTimeout(() => document.getElementById('main')?.focus(), 0);
        }
        return;
      }
      if (e.key === 'g') {
        pendingG.current = window.setTimeout(clearPending, 1500);
        return;
      }
      if (e.key === '?') {
        e.preventDefault();
        onHelp();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      clearPending();
    };
  }, [navigate, onHelp]);
}

export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose} width={380}>
      <table className={styles.table}>
        <tbody>
          {navItems.map((n) => (
            <tr key={n.path}>
              <td>
                <kbd>g</kbd> <kbd>{n.key}</kbd>
              </td>
              <td>Go to {n.label}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>?</kbd>
            </td>
            <td>Show this list</td>
          </tr>
          <tr>
            <td>
              <kbd>Enter</kbd>
            </td>
            <td>Submit the form you are in</td>
          </tr>
          <tr>
            <td>
              <kbd>Esc</kbd>
            </td>
            <td>Close a dialog</td>
          </tr>
          <tr>
            <td>
              <kbd>Tab</kbd>
            </td>
            <td>Move between controls</td>
          </tr>
        </tbody>
      </table>
      <div className="form-actions">
        <button type="button" className="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
