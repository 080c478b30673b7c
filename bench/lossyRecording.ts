// Issue 15's bar for lossy links, as a figure: a peer in a network namespace losing a random 5 % of its UDP
// packets both ways (nftables) and a peer on this machine, recorded as a 30 s composite. Per run: the still
// spans of 1 s or more in each tile (ffmpeg freezedetect on each half of the picture), the audio's peak, and the
// SFU's NACKs and retransmissions. The bar is no still span at all. Needs root (namespaces, nftables).
import { audioLevel, probe } from '../src/recorder/probe.js';
import { stillSpans } from '../test/helpers/frozenTail.js';
import { makeMediaFixtures, until } from '../test/helpers/meetingPeers.js';
import { sample } from '../test/helpers/metrics.js';
import { PeerNamespace, namespacedPair, randomLossRuleset } from '../test/helpers/netns.js';
import { startTestServer } from '../test/helpers/server.js';

const RECORD_SECONDS = 30;

async function lossyRun(i: number, simulcast: boolean): Promise<unknown> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const media = makeMediaFixtures();
  cleanups.push(() => media.remove());
  try {
    const ns = PeerNamespace.create(`bloss${i}`, 90 + i);
    cleanups.push(() => ns.destroy());
    ns.nftInside(randomLossRuleset(5));
    const s = await startTestServer({ HOST: '0.0.0.0', RECORDER_WORKERS: '1', RTC_SIMULCAST: String(simulcast) });
    cleanups.push(() => s.stop());
    const room = (await s.api('POST', '/v2/rooms', { name: 'bench-loss' })).body.id;
    await namespacedPair(s, ns, room, media, cleanups);
    const id = (await s.api('POST', `/v2/recordings/room/${room}/start`, {})).body.id;
    await until('recording', async () => (await s.api('GET', `/v2/recordings/${id}`)).body.status === 'running', 90_000, 500);
    await new Promise((r) => setTimeout(r, RECORD_SECONDS * 1000));
    const { layerSwitches, layerPauses } = s.services.sfu.stats();
    await s.api('POST', `/v2/recordings/${id}/stop`);
    const done = await until('completed', async () => {
      const r = (await s.api('GET', `/v2/recordings/${id}`)).body;
      return ['completed', 'failed'].includes(r.status) ? r : null;
    }, 90_000, 500);
    if (done.status !== 'completed') return { error: done.error_message };
    const file = s.services.localStorage.fileOf(done.recording_assets[0].path.replace('local://roomcast/', ''));
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })).text();
    return {
      simulcast,
      seconds: (await probe(file)).duration,
      still_left: await stillSpans(file, 1, 'iw/2:ih:0:0'),
      still_right: await stillSpans(file, 1, 'iw/2:ih:iw/2:0'),
      audio_max_db: (await audioLevel(file)).maxDb,
      nacks_sent: sample(metrics, 'roomcast_sfu_nacks_sent_total'),
      retransmitted_packets: sample(metrics, 'roomcast_sfu_retransmitted_packets_total'),
      layer_switches: layerSwitches,
      layer_pauses: layerPauses,
    };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** `rounds` runs with simulcast and as many without, alternating */
export async function benchLossyRecording(rounds = 2): Promise<unknown> {
  const out = [];
  for (let i = 0; i < rounds * 2; i++) out.push(await lossyRun(i, i % 2 === 0));
  return { what: `a ${RECORD_SECONDS} s composite of a peer losing 5 % of its UDP both ways and a peer without loss: still spans of 1 s or more per tile (the bar: none), with and without simulcast; layer switches and pauses (a layer the publisher stopped sending) seen by the SFU`, runs: out };
}
