import { ComingSoon } from '../components/EmptyState';

export function UsersPage() {
  return (
    <ComingSoon page="Users">
      Look up a user by id or email, see their tier, allowance and balance, page through their credit history, and grant or adjust credits with a reason.
    </ComingSoon>
  );
}
