import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createColumnHelper } from '@tanstack/react-table';
import { useState } from 'react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { polyfillDialog } from '../test/dialog-polyfill';
import { DataTable } from './DataTable';
import { ConfirmDialog } from './Dialog';
import { Field, validateForm } from './FormField';
import { Pager } from './Pager';

beforeAll(polyfillDialog);
afterEach(cleanup);

describe('[FORMS] a field shows the shared zod schema’s message in place of its hint', () => {
  const schema = z.object({ name: z.string().trim().min(1, 'name is required'), credits: z.number().int().min(1) });

  function CreditsForm() {
    const [errors, setErrors] = useState<Record<string, string>>({});
    return (
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const result = validateForm(schema, { name: data.get('name'), credits: Number(data.get('credits')) });
          setErrors(result.ok ? {} : result.errors);
        }}
      >
        <Field id="name" label="Name" error={errors.name} hint="Shown to users">
          <input id="name" name="name" />
        </Field>
        <Field id="credits" label="Credits" error={errors.credits}>
          <input id="credits" name="credits" />
        </Field>
        <button type="submit">Save</button>
      </form>
    );
  }

  it('marks the control invalid and describes it by the error, without the field name zod put in', async () => {
    render(<CreditsForm />);
    const name = screen.getByLabelText('Name');
    expect(name.getAttribute('aria-invalid')).toBe('false');
    expect(document.getElementById(name.getAttribute('aria-describedby')!)?.textContent).toBe('Shown to users');

    await userEvent.type(screen.getByLabelText('Credits'), '2.5');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(name.getAttribute('aria-invalid')).toBe('true');
    const error = document.getElementById(name.getAttribute('aria-describedby')!)!;
    expect(error.className).toBe('field-error');
    expect(error.textContent).toBe('Required');
    const credits = screen.getByLabelText('Credits');
    expect(credits.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(credits.getAttribute('aria-describedby')!)?.textContent).not.toMatch(/^credits/i);
  });
});

describe('[TABLES] the pager counts rows and moves between pages', () => {
  it('shows the range and total, and disables the ways out of the first and last page', async () => {
    const onPage = vi.fn();
    const { rerender } = render(<Pager page={0} pageSize={50} total={1234} onPage={onPage} noun="users" />);
    const pager = screen.getByRole('navigation', { name: 'Pages of users' });
    expect(within(pager).getByTestId('pager-count').textContent).toBe('1–50 of 1,234 users');
    expect(within(pager).getByText('Page 1 of 25')).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'First page' }).disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Previous page' }).disabled).toBe(true);
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await userEvent.click(screen.getByRole('button', { name: 'Last page' }));
    expect(onPage.mock.calls).toEqual([[1], [24]]);

    rerender(<Pager page={24} pageSize={50} total={1234} onPage={onPage} noun="users" />);
    expect(screen.getByTestId('pager-count').textContent).toBe('1,201–1,234 of 1,234 users');
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Next page' }).disabled).toBe(true);
  });

  it('shows a lower-bound total with a plus, and the count alone when one page holds everything', () => {
    const { rerender } = render(<Pager page={0} pageSize={50} total={10_000} totalExact={false} onPage={() => {}} />);
    expect(screen.getByTestId('pager-count').textContent).toBe('1–50 of 10,000+ rows');
    expect(screen.getByText('Page 1 of 200+')).toBeTruthy();
    rerender(<Pager page={0} pageSize={50} total={0} onPage={() => {}} />);
    expect(screen.getByTestId('pager-count').textContent).toBe('0 rows');
    expect(screen.queryByRole('button')).toBeNull();
  });
});

type Row = { id: string; name: string; credits: number };
const col = createColumnHelper<Row>();
const columns = [col.accessor('name', { header: 'Name' }), col.accessor('credits', { header: 'Credits', meta: { align: 'right' } })];
const rows: Row[] = [
  { id: 'b', name: 'Bea', credits: 5 },
  { id: 'a', name: 'Ada', credits: 20 },
];
const names = () =>
  screen
    .getAllByRole('row')
    .slice(1)
    .map((r) => within(r).getAllByRole('cell')[0]!.textContent);

describe('[TABLES] one table sorts its own rows, or asks the server for an order', () => {
  it('sorts client-side from the initial order, and a header click reverses it', async () => {
    render(<DataTable label="People" columns={columns} data={rows} getRowId={(r) => r.id} initialSorting={[{ id: 'name', desc: false }]} />);
    expect(names()).toEqual(['Ada', 'Bea']);
    const header = screen.getByRole('columnheader', { name: /Name/ });
    expect(header.getAttribute('aria-sort')).toBe('ascending');
    await userEvent.click(within(header).getByRole('button'));
    expect(header.getAttribute('aria-sort')).toBe('descending');
    expect(names()).toEqual(['Bea', 'Ada']);
  });

  it('with manual, keeps the server’s row order and reports the asked order instead of sorting', async () => {
    const onSortingChange = vi.fn();
    render(<DataTable manual label="People" columns={columns} data={rows} getRowId={(r) => r.id} sorting={[{ id: 'credits', desc: false }]} onSortingChange={onSortingChange} />);
    expect(names()).toEqual(['Bea', 'Ada']);
    await userEvent.click(within(screen.getByRole('columnheader', { name: /Credits/ })).getByRole('button'));
    expect(onSortingChange).toHaveBeenCalledWith([{ id: 'credits', desc: true }]);
    expect(names()).toEqual(['Bea', 'Ada']);
  });

  it('opens a row on click or Enter, and shows loading, error and empty states in the body', async () => {
    const onRowClick = vi.fn();
    const { rerender } = render(<DataTable manual label="People" columns={columns} data={rows} getRowId={(r) => r.id} onRowClick={onRowClick} rowLabel={(r) => `Open ${r.name}`} selectedRowId="a" />);
    const ada = screen.getByRole('row', { name: 'Open Ada' });
    expect(ada.getAttribute('aria-current')).toBe('true');
    expect(ada.getAttribute('data-row-id')).toBe('a');
    await userEvent.click(screen.getByText('Bea'));
    ada.focus();
    await userEvent.keyboard('{Enter}');
    expect(onRowClick.mock.calls.map(([r]) => (r as Row).id)).toEqual(['b', 'a']);

    rerender(<DataTable manual label="People" columns={columns} data={undefined} getRowId={(r) => r.id} loading />);
    expect(screen.getByRole('table').querySelector('tbody')?.getAttribute('aria-busy')).toBe('true');
    rerender(<DataTable manual label="People" columns={columns} data={undefined} getRowId={(r) => r.id} error="Could not load people" />);
    expect(screen.getByText('Could not load people').className).toBe('table-error');
    rerender(<DataTable label="People" columns={columns} data={[]} getRowId={(r) => r.id} emptyMessage="No people yet." />);
    expect(screen.getByText('No people yet.')).toBeTruthy();
  });
});

describe('[DIALOGS] a confirm dialog names its action and confirms once', () => {
  function Harness({ onConfirm, busy = false, error }: { onConfirm: () => void; busy?: boolean; error?: string }) {
    const [open, setOpen] = useState(true);
    return (
      <ConfirmDialog
        open={open}
        title="Revoke key"
        message="The key stops working at once."
        confirmLabel="Revoke"
        busyLabel="Revoking…"
        danger
        busy={busy}
        error={error}
        onConfirm={onConfirm}
        onClose={() => setOpen(false)}
      />
    );
  }

  it('confirms with its own verb (Enter too), cancels without confirming', async () => {
    const onConfirm = vi.fn();
    render(<Harness onConfirm={onConfirm} />);
    const dialog = screen.getByRole('dialog', { name: 'Revoke key' });
    const revoke = within(dialog).getByRole('button', { name: 'Revoke' });
    expect(revoke.className).toBe('button button-danger');
    await userEvent.click(revoke);
    expect(onConfirm).toHaveBeenCalledTimes(1);
    revoke.focus();
    await userEvent.keyboard('{Enter}');
    expect(onConfirm).toHaveBeenCalledTimes(2);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(onConfirm).toHaveBeenCalledTimes(2);
    expect(screen.queryByText('The key stops working at once.')).toBeNull();
  });

  it('while busy shows progress and does not confirm again; an error is announced', async () => {
    const onConfirm = vi.fn();
    render(<Harness onConfirm={onConfirm} busy error="The key was already revoked." />);
    const busy = screen.getByRole<HTMLButtonElement>('button', { name: 'Revoking…' });
    expect(busy.disabled).toBe(true);
    await userEvent.click(busy);
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toBe('The key was already revoked.');
  });
});
