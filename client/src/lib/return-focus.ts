import { useLayoutEffect, type RefObject } from 'react';

/**
 * A drawer opened from a table row gives focus back to that row when it closes, so the keyboard
 * user is where they were. Only when focus is still inside the drawer (or nowhere): a click on
 * another row, which opens its own drawer, keeps that row focused.
 */
export function useReturnFocus(drawer: RefObject<HTMLElement | null>) {
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    const rowId = opener?.closest('tr')?.dataset.rowId;
    const table = opener?.closest('table');
    // The drawer's element: rendered with the component that calls this hook, so the same node until it unmounts.
    const node = drawer.current;
    return () => {
      const active = document.activeElement;
      if (active && active !== document.body && !node?.contains(active)) return;
      // The row may have been rendered anew (a refetch): find it again by its id.
      const target = opener?.isConnected ? opener : rowId && table?.isConnected ? table.querySelector<HTMLElement>(`tr[data-row-id="${CSS.escape(rowId)}"]`) : null;
      target?.focus({ preventScroll: true });
    };
  }, [drawer]);
}
