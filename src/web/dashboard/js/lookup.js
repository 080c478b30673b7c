// Names for ids across pages (rooms, templates), fetched once and kept for a short while.
import { listAll } from './api.js';

const TTL_MS = 30_000;
const caches = new Map();

function cached(key, load) {
  const hit = caches.get(key);
  if (hit && hit.at > Date.now() - TTL_MS) return hit.value;
  const value = load().catch((err) => {
    caches.delete(key);
    throw err;
  });
  caches.set(key, { at: Date.now(), value });
  return value;
}

export function forget(key) {
  if (key) caches.delete(key);
  else caches.clear();
}

/** Every template (by id). */
export function templates() {
  return cached('templates', async () => new Map((await listAll('/v2/templates')).map((t) => [t.id, t])));
}

/** Every room, enabled and disabled (by id). */
export function rooms() {
  return cached('rooms', async () => {
    const [on, off] = await Promise.all([listAll('/v2/rooms', { enabled: true }), listAll('/v2/rooms', { enabled: false })]);
    return new Map([...on, ...off].map((r) => [r.id, r]));
  });
}
