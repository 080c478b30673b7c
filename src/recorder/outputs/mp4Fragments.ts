// A fragmented MP4 whose encoder could not finish it (the disk filled mid-write, a kill) ends in a cut-short
// fragment: players and ffprobe read garbage or a frozen tail from it. Walking the top-level boxes finds the
// end of the last whole fragment (moof + mdat) and the file is cut there; a file with no fragment has no media.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';

/**
 * Cuts `file` after its last complete top-level box that is not a lone `moof`; returns its complete fragments
 * (mdat boxes). A file that does not start with an `ftyp` box is not one the encoder wrote: left alone (null).
 */
export function trimToCompleteFragments(file: string): number | null {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(16);
    let off = 0;
    let complete = 0;
    let fragments = 0;
    if (size < 8 || (readSync(fd, head, 0, 8, 0), head.toString('latin1', 4, 8)) !== 'ftyp') return null;
    while (off + 8 <= size) {
      const got = readSync(fd, head, 0, 16, off);
      let len = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (len === 1) {
        if (got < 16) break;
        len = Number(head.readBigUInt64BE(8));
      } else if (len === 0) len = size - off;
      if (len < 8 || off + len > size) break;
      off += len;
      if (type === 'mdat') fragments++;
      // a moof is only whole with the mdat after it
      if (type !== 'moof') complete = off;
    }
    if (complete < size) ftruncateSync(fd, complete);
    return fragments;
  } finally {
    closeSync(fd);
  }
}
