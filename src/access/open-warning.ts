import type { Logger } from '../log.ts';
import type { AccessStore } from './access-store.ts';
import type { AccessSettings } from './admission.ts';

/**
 * Says at start, as a warning nobody can miss, that the service runs without API keys: anyone who can
 * reach it may ask, limited only per client address. Silent once any key exists.
 *
 * @example
 * warnIfOpen(access, config.access, logger);
 */
export function warnIfOpen(store: AccessStore, settings: AccessSettings, logger: Logger): void {
  if (store.hasKeys()) return;
  const limit = (n: number, unit: string): string => (n > 0 ? `${n} requests a ${unit}` : `no ${unit} limit`);
  logger.warn(
    '!!! NO API KEYS: the service is OPEN to anyone who can reach it. Create one with ' +
      '`npm run keys -- create --name NAME` to require keys on every API route.',
    {
      openAccess: true,
      perClientLimits: `${limit(settings.openIpRpm, 'minute')}, ${limit(settings.openIpDailyLimit, 'day')}`,
    },
  );
}
