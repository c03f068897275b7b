import type { Knex } from 'knex';
import { DEFAULT_DISTRIBUTION_SETTINGS, type DistributionSettings } from '../../domain/distribution';
import { DomainError } from '../../domain/errors';

export interface VersionedDistributionSettings {
  version: number;
  settings: DistributionSettings;
  changedBy: string;
  changedAt: string;
}

/** Settings in force: the newest version, or the defaults (on, every half hour, routing rules) as version 0. */
export async function currentDistributionSettings(db: Knex, shopId: string): Promise<VersionedDistributionSettings> {
  const row = await db('distribution_settings_versions').where({ shop_id: shopId }).orderBy('version', 'desc').first();
  return row
    ? { version: row.version, settings: row.settings, changedBy: row.changed_by, changedAt: row.created_at.toISOString() }
    : { version: 0, settings: DEFAULT_DISTRIBUTION_SETTINGS, changedBy: 'platform default', changedAt: new Date(0).toISOString() };
}

/** Groups or agents a target names that are not this shop's: refused with their ids. */
export async function assertTargetExists(db: Knex, shopId: string, settings: DistributionSettings): Promise<void> {
  const t = settings.target;
  if (t.kind === 'routing_rules') return;
  const [table, ids, code] =
    t.kind === 'groups' ? (['agent_groups', t.groupIds, 'unknown_groups'] as const) : (['agents', t.agentIds, 'unknown_agents'] as const);
  const found: string[] = await db(table).where({ shop_id: shopId }).whereIn('id', ids).pluck('id');
  const missing = ids.filter((id) => !found.includes(id));
  if (missing.length) throw new DomainError(code, `not in this shop: ${missing.join(', ')}`);
}

/** Appends a version (validated by the caller; existence re-checked here, in the same transaction). */
export async function saveDistributionSettings(
  db: Knex,
  shopId: string,
  settings: DistributionSettings,
  changedBy: string,
): Promise<VersionedDistributionSettings> {
  return db.transaction(async (tx) => {
    await tx('shops').where({ id: shopId }).forUpdate().first();
    await assertTargetExists(tx, shopId, settings);
    const current = await currentDistributionSettings(tx, shopId);
    await tx('distribution_settings_versions').insert({
      shop_id: shopId,
      version: current.version + 1,
      settings: JSON.stringify(settings),
      changed_by: changedBy,
    });
    return currentDistributionSettings(tx, shopId);
  });
}
