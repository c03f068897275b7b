/**
 * The queue's told places and estimated wait (docs/rules.md §9.4): pure decisions, the statements
 * that apply them are db/repositories/queue-moves.ts.
 */
import { QUEUE_PLACES_TOLD_EACH } from './limits';

/**
 * The places a buyer hears of when they move up to them, for a queue of `length`: every place up
 * to QUEUE_PLACES_TOLD_EACH, then 20, 50, 100, 200, 500, 1000, … — so one departure tells at most
 * 10 + 3 per decade of queue length, not the whole queue.
 */
export function toldQueuePlaces(length: number): number[] {
  const out = Array.from({ length: Math.min(QUEUE_PLACES_TOLD_EACH, length) }, (_, i) => i + 1);
  for (let decade = 10; decade <= length; decade *= 10) for (const m of [2, 5, 10]) if (decade * m <= length) out.push(decade * m);
  return out;
}

/** Place ÷ serving rate: `served` sessions left the queue by assignment over `windowMs`. null: no rate yet. */
export function estimatedWaitSeconds(position: number, served: number, windowMs: number): number | null {
  return served === 0 ? null : Math.ceil((position * windowMs) / 1000 / served);
}
