import { isAdmin, useMe } from '../auth';
import { PageHeader } from '../components/EmptyState';
import { AccountSection } from './settings/AccountSection';
import { AdminsSection } from './settings/AdminsSection';
import { ApiKeysSection } from './settings/ApiKeysSection';
import { BudgetSection } from './settings/BudgetSection';
import { SessionsSection } from './settings/SessionsSection';
import { TwoFactorSection } from './settings/TwoFactorSection';
import { TierAllowancesSection } from './settings/TierAllowancesSection';
import { UsersOutThresholdSection } from './settings/UsersOutThresholdSection';

export function SettingsPage() {
  const me = useMe();
  return (
    <div className="page">
      <PageHeader
        title="Settings"
        description="API keys for product apps, the accounts that can sign in, tier allowances, the refill budget, the users-out-of-credits alert threshold, and your own password, two-factor sign-in and sessions."
      />
      {isAdmin(me) ? (
        <>
          <ApiKeysSection />
          <AdminsSection />
        </>
      ) : (
        <ReadOnlyNote />
      )}
      <TierAllowancesSection />
      <BudgetSection />
      <UsersOutThresholdSection />
      <AccountSection />
      <TwoFactorSection />
      <SessionsSection />
    </div>
  );
}

/** Analysts cannot list keys or accounts (the procedures are admin-only), so they see why instead. */
function ReadOnlyNote() {
  return (
    <section className="section">
      <div className="alert alert-info" data-testid="read-only-note">
        <strong>You have read-only access.</strong> API keys and admin accounts are managed by admins. Ask an admin if a product app needs a key or a colleague needs an account.
      </div>
    </section>
  );
}
