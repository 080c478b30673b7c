#!/usr/bin/env node
// roomcast start | worker | status | credentials | calibrate | token management | token app --room <id> --role <role> [--user <id>]
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { signAppToken, signManagementToken } from './auth/tokens.js';

const usage = `usage:
  roomcast start                                   serve the API (settings from the environment, see README)
  roomcast worker                                  a fleet's recorder machine (REDIS_URL, PostgreSQL DATABASE_URL, STORAGE_URL)
  roomcast status                                  the fleet's recorder machines, capacity and jobs (JSON)
  roomcast credentials                             print ACCESS_KEY and APP_SECRET (also generated ones)
  roomcast calibrate [--force]                     measure this machine's recorder capture offset (A/V) and keep it
  roomcast token management [--ttl <seconds>]      print a management token
  roomcast token app --room <id> --role <role> [--user <id>] [--ttl <seconds>]
                                                   print an app token for joining a room`;

/**
 * A long-running command's signals: SIGTERM drains first (what draining means is the process's own), SIGINT or a
 * second SIGTERM closes at once; the process exits when closed.
 */
function stopOnSignals(proc: { drain(): Promise<void>; close(): Promise<void> }): void {
  let closing: Promise<void> | null = null;
  const stop = (drain: boolean) => async () => {
    if (drain && !closing) await proc.drain();
    closing ??= proc.close();
    await closing;
    process.exit(0);
  };
  process.once('SIGINT', () => void stop(false)());
  process.once('SIGTERM', () => {
    void stop(true)();
    process.once('SIGTERM', () => void stop(false)());
  });
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      room: { type: 'string' },
      role: { type: 'string' },
      user: { type: 'string' },
      ttl: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, sub] = positionals;
  if (values.help || !cmd) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  if (cmd === 'start') {
    const { startServer } = await import('./server.js');
    const config = loadConfig();
    const server = await startServer(config);
    if (config.credentialsGenerated) {
      // stdout ends up in log aggregators: say where the secret is, never the secret itself
      server.services.log.info({ credentialsFile: config.credentialsFile }, 'generated workspace credentials (ACCESS_KEY, APP_SECRET); show them with `roomcast credentials`');
    }
    server.services.log.info({ url: server.url, publicUrl: config.publicUrl, dataDir: config.dataDir, database: server.services.store.kind }, 'roomcast listening');
    // SIGTERM on a fleet's node drains it (no new rooms; its rooms may empty, DRAIN_TIMEOUT_SECONDS); SIGINT, a
    // second signal, or SIGTERM on one machine alone, stops it now
    stopOnSignals(server);
    return -1; // keep running
  }
  if (cmd === 'worker') {
    const { startWorker } = await import('./server.js');
    const config = loadConfig();
    const worker = await startWorker(config);
    worker.services.log.info({ recorders: config.recorderWorkers, dataDir: config.dataDir }, 'roomcast worker taking jobs');
    // SIGTERM drains (running jobs may finish, DRAIN_TIMEOUT_SECONDS); SIGINT, or a second signal, ends them now
    stopOnSignals(worker);
    return -1;
  }
  if (cmd === 'status') {
    const { fleetStatus } = await import('./server.js');
    console.log(JSON.stringify(await fleetStatus(loadConfig()), null, 2));
    return 0;
  }
  if (cmd === 'credentials') {
    // for the operator's terminal: the secret is printed here and nowhere else
    const config = loadConfig();
    console.log(`ACCESS_KEY=${config.accessKey}`);
    console.log(`APP_SECRET=${config.appSecret}`);
    return 0;
  }
  if (cmd === 'calibrate') {
    const config = loadConfig();
    const { createLogger } = await import('./logger.js');
    const { CaptureCalibrator, calibrationFile } = await import('./recorder/calibration.js');
    const calibrator = new CaptureCalibrator({ file: calibrationFile(config.dataDir), fixedMs: null, logger: createLogger('warn'), force: !!values.force });
    await calibrator.start();
    const c = calibrator.current();
    console.log(JSON.stringify(c ?? { error: 'no trustworthy figure: the machine was too busy, try again' }, null, 2));
    if (config.recorderAudioOffsetMs !== null) console.log(`(RECORDER_AUDIO_OFFSET_MS=${config.recorderAudioOffsetMs} is set: jobs use that instead)`);
    return c ? 0 : 1;
  }
  if (cmd === 'token') {
    const config = loadConfig();
    const ttl = values.ttl ? Number(values.ttl) : 86400;
    if (!Number.isInteger(ttl) || ttl <= 0) {
      console.error('--ttl must be a positive number of seconds');
      return 2;
    }
    const keys = { accessKey: config.accessKey, appSecret: config.appSecret };
    if (sub === 'management') {
      console.log(await signManagementToken(keys, ttl));
      return 0;
    }
    if (sub === 'app') {
      if (!values.room || !values.role) {
        console.error('token app needs --room <id> and --role <role>');
        return 2;
      }
      console.log(await signAppToken(keys, { room_id: values.room, role: values.role, user_id: values.user ?? '' }, ttl));
      return 0;
    }
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
