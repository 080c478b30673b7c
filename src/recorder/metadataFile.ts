// The timed metadata a job's handler process is sent (recorder/channel.ts `metadata`), kept in the capture's
// work directory as metadata.json next to its MP4 segments: what was inserted while the capture ran, in
// order, with when the handler got it. Players and the VOD take timed metadata from the database
// (timed_metadata); this file is the capture's own record, there for as long as its work directory (a
// takeover or a job whose files are kept for a failed finalise finds it there).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const METADATA_FILE = 'metadata.json';

export interface MetadataEntry {
  payload: string;
  /** when the handler got it (ISO 8601) */
  received_at: string;
}

/** The entries recorded in a work directory so far, oldest first ([] without a file). */
export function readMetadata(workDir: string): MetadataEntry[] {
  const file = join(workDir, METADATA_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as MetadataEntry[]) : [];
}

/** Adds entries to the work directory's metadata.json; the file is replaced whole, so a reader never sees half of it. */
export function appendMetadata(workDir: string, entries: MetadataEntry[]): void {
  if (entries.length === 0) return;
  const file = join(workDir, METADATA_FILE);
  const all = [...readMetadata(workDir), ...entries];
  writeFileSync(`${file}.tmp`, `${JSON.stringify(all, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
