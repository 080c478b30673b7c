// Where a recording's bytes wait in its store while it records (recorder/streamedParts.ts writes them): under
// <prefix>/.parts/<job id>/ in the bucket the asset goes to. They are only a safety copy: the asset is built
// from them when the machine recording it died, and they are removed once the asset itself is in the store.
import type { AssetStore, UploadTarget } from './store.js';

/** A job's parts: the store client and the key prefix (ending in '/') they are written under. */
export interface PartsPlace {
  store: AssetStore;
  prefix: string;
}

export function partsPrefixOf(target: Pick<UploadTarget, 'prefix'>, jobId: string): string {
  return `${target.prefix}/.parts/${jobId}/`;
}

/** Removes every part of a job (the asset is stored, or the job made none). */
export async function removeParts(place: PartsPlace): Promise<number> {
  const objects = await place.store.list(place.prefix);
  for (const o of objects) await place.store.delete(o.key);
  return objects.length;
}
