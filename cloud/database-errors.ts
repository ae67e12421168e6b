/** Cloud code asks db/errors.ts, the one place that knows which database errors are worth retrying. */
export { isDatabaseUnavailable, isDataRefusal, classifyDatabaseError, refusalReason } from '../db/errors';
