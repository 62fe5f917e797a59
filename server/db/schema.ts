// Every domain owns its tables; drizzle-kit and the query builder see them all through this file.
export * from './tables';
export * from '../auth/tables';
export * from '../ledger/tables';
export * from '../pools/tables';
export * from '../alerts/tables';
export * from '../providers/tables';
export * from '../jobs/tables';
export * from '../analytics/tables';
export * from '../reports/tables';
export * from '../webhooks/tables';
export * from '../payments/tables';
