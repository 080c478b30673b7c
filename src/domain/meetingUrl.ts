// The page a recorder opens and the hosts it may open: our own meeting page for the room unless the caller
// names one on an allowed host. Shared by every egress job kind and by the recorder worker.
import type { Config } from '../config.js';
import { RECORDER_ROLE } from '../model/templates.js';
import { hostPortOf, isAllowedUrl } from './allowedHosts.js';
import { invalidInput } from './errors.js';

export type MeetingUrlSettings = Pick<Config, 'publicUrl' | 'port' | 'recorderAllowedHosts'>;

/**
 * Hosts a recorder may open: this server's own host:port (its public URL, and loopback on the port it
 * listens on) and RECORDER_ALLOWED_HOSTS, each with its port — not any service of an allowed host.
 */
export function recorderAllowedHosts(config: MeetingUrlSettings): string[] {
  const own = [hostPortOf(config.publicUrl)];
  if (config.port !== 0) own.push(`127.0.0.1:${config.port}`, `localhost:${config.port}`);
  return [...new Set([...own, ...config.recorderAllowedHosts])];
}

/** Our own meeting page for the room, as `role` (the recording config's role; the recorder joins hidden). */
export function defaultMeetingUrl(config: MeetingUrlSettings, roomId: string, role: string = RECORDER_ROLE): string {
  return `${config.publicUrl}/preview/${roomId}/${encodeURIComponent(role)}?skip_preview=true`;
}

/**
 * The page a recorder opens: our own meeting page for the room (as `role`) unless the caller gives one,
 * which must be http(s) on a host the recorder may open.
 */
export function resolveMeetingUrl(config: MeetingUrlSettings, roomId: string, given: string | undefined, role: string = RECORDER_ROLE): string {
  if (!given) return defaultMeetingUrl(config, roomId, role);
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw invalidInput('Invalid meeting_url', 'body/meeting_url must be an absolute http(s) URL');
  }
  if (!/^https?:$/.test(u.protocol)) throw invalidInput('Invalid meeting_url', 'body/meeting_url must be http or https');
  const allowed = recorderAllowedHosts(config);
  if (!isAllowedUrl(u, allowed)) {
    throw invalidInput(
      'meeting_url host not allowed',
      `body/meeting_url host ${hostPortOf(u.toString())} is not in the recorder's allowed hosts (${allowed.join(', ')}); set RECORDER_ALLOWED_HOSTS=host:port`,
    );
  }
  return u.toString();
}
