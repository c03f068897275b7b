import { createSessionActivities, type SessionActivityDeps } from './sessions';
import { createShopActivities } from './shop';

export type ActivityDeps = SessionActivityDeps;

/** Every activity the worker registers, built once with the worker's database and Temporal client. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSessionActivities(deps),
    ...createShopActivities(deps),
  };
}
