// A tiny HTTP server on 127.0.0.1 with pages for recorder tests and the recorder bench:
//   /          moving colourful canvas, a magenta band at the top (to spot browser chrome in a capture),
//              a frame counter, and a 440 Hz WebAudio tone; sets window.__roomcast.joined when running
//   /reach?target=<url>  tries to reach `target` by fetch, <img> and WebSocket, and its own host's /ws echo
//              WebSocket (which must keep working), then sets body.dataset.done
// plus a counting server (another port = another host for the allow list) that records every hit.
import { createServer, type Server, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export const BAND_COLOUR: [number, number, number] = [255, 0, 255];
export const BAND_HEIGHT = 48;

const MAIN_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>recorder test</title>
<style>
  html, body { margin: 0; height: 100%; overflow: hidden; background: #000; }
  #band { position: fixed; top: 0; left: 0; right: 0; height: ${BAND_HEIGHT}px; background: rgb(${BAND_COLOUR.join(',')}); }
  canvas { position: fixed; top: ${BAND_HEIGHT}px; left: 0; }
</style></head>
<body><div id="band"></div><canvas id="c"></canvas>
<script>
  const c = document.getElementById('c');
  const g = c.getContext('2d');
  function fit() { c.width = innerWidth; c.height = innerHeight - ${BAND_HEIGHT}; }
  fit(); addEventListener('resize', fit);
  let frame = 0;
  function draw(t) {
    frame++;
    const w = c.width, h = c.height, s = t / 1000;
    g.fillStyle = 'hsl(' + ((s * 40) % 360) + ', 70%, 45%)';
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#ffdd00';
    g.fillRect((Math.sin(s * 1.3) * 0.4 + 0.5) * (w - 200), h * 0.15, 200, 140);
    g.fillStyle = '#00e5ff';
    g.fillRect(w * 0.6, (Math.cos(s * 1.7) * 0.4 + 0.5) * (h - 160), 160, 160);
    g.fillStyle = '#fff';
    g.font = 'bold 72px sans-serif';
    g.fillText('frame ' + frame, 40, h - 60);
    if (frame === 10) ready();
    requestAnimationFrame(draw);
  }
  requestAnimationFrame(draw);
  const ac = new AudioContext();
  const osc = ac.createOscillator();
  const gain = ac.createGain();
  osc.frequency.value = 440;
  gain.gain.value = 0.3;
  osc.connect(gain).connect(ac.destination);
  osc.start();
  async function ready() {
    if (ac.state !== 'running') await ac.resume();
    window.__roomcast = { joined: true, audio: ac.state };
    document.body.dataset.joined = 'true';
  }
</script></body></html>`;

const REACH_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>reach</title></head>
<body style="margin:0;background:#333">
<script>
  const target = new URL(location.href).searchParams.get('target');
  const results = {};
  const fetchDone = fetch(target + '/fetch').then(() => 'loaded', () => 'error').then((r) => (results.fetch = r));
  const imgDone = new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve('loaded');
    img.onerror = () => resolve('error');
    img.src = target + '/img.png';
    document.body.appendChild(img);
  }).then((r) => (results.img = r));
  const wsDone = new Promise((resolve) => {
    const ws = new WebSocket(target.replace(/^http/, 'ws') + '/ws');
    ws.onopen = () => resolve('open');
    ws.onerror = () => resolve('error');
    ws.onclose = () => resolve('closed');
  }).then((r) => (results.ws = r));
  const ownWsDone = new Promise((resolve) => {
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
    ws.onopen = () => ws.send('ping');
    ws.onmessage = (e) => resolve('echo:' + e.data);
    ws.onerror = () => resolve('error');
    ws.onclose = () => resolve('closed');
  }).then((r) => (results.ownWs = r));
  Promise.all([fetchDone, imgDone, wsDone, ownWsDone]).then(() => {
    document.body.dataset.results = JSON.stringify(results);
    document.body.dataset.done = 'true';
  });
</script></body></html>`;

export interface MediaPageServer {
  /** "127.0.0.1:<port>" — what goes in allowedHosts */
  host: string;
  url(path: string): string;
  /** a second server on another port, which tests keep out of allowedHosts */
  other: { host: string; url(path: string): string; hits: string[] };
  close(): Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export async function startMediaPageServer(): Promise<MediaPageServer> {
  const main = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = path === '/' ? MAIN_PAGE : path === '/reach' ? REACH_PAGE : null;
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  });
  const echo = new WebSocketServer({ server: main, path: '/ws' });
  echo.on('connection', (ws) => ws.on('message', (data) => ws.send(String(data))));
  const hits: string[] = [];
  const note = (req: IncomingMessage) => hits.push(`${req.method} ${req.url}`);
  const other = createServer((req, res) => {
    note(req);
    res.writeHead(200, { 'access-control-allow-origin': '*' }).end('reached');
  });
  other.on('upgrade', (req, socket) => {
    note(req);
    socket.destroy();
  });
  const host = await listen(main);
  const otherHost = await listen(other);
  return {
    host,
    url: (p) => `http://${host}${p}`,
    other: { host: otherHost, url: (p) => `http://${otherHost}${p}`, hits },
    async close() {
      for (const c of echo.clients) c.terminate();
      echo.close();
      main.closeAllConnections();
      other.closeAllConnections();
      await Promise.all([new Promise((r) => main.close(r)), new Promise((r) => other.close(r))]);
    },
  };
}
