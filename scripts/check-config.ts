/**
 * Checks the configuration the way every FarmIQ process does at start-up (config/settings.ts):
 * exits 0 with a one-line summary, or 1 with the error that names each offending setting (never a
 * value). farmiq-s3.service runs it before rclone, which reads the secrets without checking them;
 * an operator can run it after editing /etc/farmiq/edge.env:
 *
 *   sudo -u farmiq FARMIQ_CONFIG=/etc/farmiq/edge.env NODE_ENV=production node --import tsx scripts/check-config.ts
 */
import { isProductionMode, settings } from '../config/settings';

try {
  const s = settings();
  const mode = isProductionMode(process.env) ? `production mode, FARMIQ_ROLE=${s.FARMIQ_ROLE}` : 'development mode (secrets are not checked)';
  console.log(`configuration ok: ${mode}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
