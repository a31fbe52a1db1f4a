#!/usr/bin/env node
// Node.js side of the hotloop comparison.
//
// Run by `go run ./cmd/compare -external` as
//
//     node external/node_bench.js --config JSON
//
// and prints one JSON object per line, exactly like the Go harness:
// {"impl":"node","workload":...,"metric":...,"value":...,"samples":[...]}.
//
// The workloads follow shared/WORKLOADS.md and internal/bench/bench.go: the
// same xorshift32 delays, lateness from process.hrtime (CLOCK_MONOTONIC) read
// just before scheduling plus the requested delay, CPU from
// process.cpuUsage() (user+system of the whole process), work scheduled from
// inside the running loop. Callbacks are setImmediate; timers are setTimeout
// / clearTimeout, which take whole milliseconds: a delay is passed as
// Math.max(1, Math.ceil(µs / 1000)) ms (Node truncates fractions and turns
// anything below 1 into 1), so sub-millisecond timers are at least 1 ms late
// by construction. "From another goroutine" becomes "from a worker thread":
// W1x and W7 post with worker.postMessage, so their figures include the
// structured clone of a small message. W5 has no wakeups metric here. W8
// pushes timers back with timeout.refresh(), from the loop only: a worker
// thread cannot reach the main thread's timers, so there is no remote part,
// and Node has no allocation counter, so there are no allocs_per_reset.
'use strict';

const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const SEED = 2463534242;

function xorshift32(seed) {
  let x = (seed || SEED) >>> 0;
  return {
    next() {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      return x;
    },
    between(lo, hi) { return lo + (this.next() % (hi - lo + 1)); },
  };
}

function delays(n, lo, hi) {
  const g = xorshift32(SEED);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = g.between(lo, hi);
  return out;
}

const BASE = isMainThread ? process.hrtime.bigint() : BigInt(workerData.base);
const now = () => Number(process.hrtime.bigint() - BASE); // ns
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
const msOf = (us) => Math.max(1, Math.ceil(us / 1000));
const sleepNs = (ns) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ns / 1e6);

if (!isMainThread) {
  // Worker: W1x producer or W7 poster.
  parentPort.once('message', (msg) => {
    if (msg.kind === 'w1x') {
      for (let i = 0; i < msg.per; i++) parentPort.postMessage(0);
      parentPort.postMessage('done');
    } else if (msg.kind === 'w7') {
      const g = xorshift32(SEED);
      const sab = new Int32Array(msg.sab);
      for (let k = 0; k < msg.samples; k++) {
        sleepNs(msg.idleNs + g.between(0, 1000) * 1000);
        Atomics.store(sab, 0, 0);
        parentPort.postMessage(now());
        Atomics.wait(sab, 0, 0); // until the main thread has run the callback
      }
      parentPort.postMessage('done');
    }
  });
  return;
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const rank = Math.max(0, Math.min(100, p)) / 100 * (s.length - 1);
  const lo = Math.floor(rank), hi = Math.ceil(rank);
  return lo === hi ? s[lo] : s[lo] + (s[hi] - s[lo]) * (rank - lo);
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => percentile(xs, 50);

function withTimeout(p, s) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timeout')), s * 1000); })])
    .finally(() => clearTimeout(t));
}

async function w1(cfg) {
  const n = cfg.W1Callbacks;
  let count = 0, t0 = 0, t1 = 0;
  await new Promise((resolve) => setImmediate(() => {
    const inc = () => { if (++count === n) { t1 = now(); resolve(); } };
    t0 = now();
    for (let i = 0; i < n; i++) setImmediate(inc);
  }));
  return [['ns_per_callback', (t1 - t0) / n]];
}

async function w1x(cfg) {
  const per = cfg.W1xPerProd, total = 2 * per;
  const ws = [0, 1].map(() => new Worker(__filename, { workerData: { base: BASE.toString() } }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('online', r))));
  let count = 0, t1 = 0, done = 0, t0 = 0;
  await new Promise((resolve) => {
    for (const w of ws) {
      w.on('message', (m) => {
        if (m === 'done') { if (++done === 2) resolve(); return; }
        if (++count === total) t1 = now();
      });
    }
    t0 = now();
    for (const w of ws) w.postMessage({ kind: 'w1x', per });
  });
  const seen = count;
  if (seen < total) t1 = now();
  await Promise.all(ws.map((w) => w.terminate()));
  return [['ns_per_callback', (t1 - t0) / total], ['lost', total - seen]];
}

function atOnce(dsUs) {
  const n = dsUs.length, due = new Array(n), fire = new Array(n);
  let fired = 0, t0 = 0, cpu0 = 0, cpu1 = 0;
  return new Promise((resolve) => setImmediate(() => {
    cpu0 = cpuNs();
    t0 = now();
    for (let i = 0; i < n; i++) {
      const us = dsUs[i];
      due[i] = now() + us * 1000;
      setTimeout(() => {
        fire[i] = now();
        if (++fired === n) {
          cpu1 = cpuNs();
          let last = 0;
          for (const f of fire) last = Math.max(last, f);
          resolve({ t0, last, cpu: cpu1 - cpu0, lat: fire.map((f, j) => (f - due[j]) / 1e3) });
        }
      }, msOf(us));
    }
  }));
}

async function w2(cfg, n) {
  const r = await atOnce(delays(n, 0, 10000));
  return [['wall_ms', (r.last - r.t0) / 1e6], ['cpu_us_per_timer', r.cpu / 1e3 / n], ['lateness_mean_us', mean(r.lat)]];
}

async function w3(cfg) {
  const r = await atOnce(delays(cfg.W3Timers, 1000, 10000));
  return [
    ['lateness_mean_us', mean(r.lat)], ['lateness_p50_us', percentile(r.lat, 50)],
    ['lateness_p99_us', percentile(r.lat, 99)], ['lateness_max_us', Math.max(...r.lat)],
    ['lateness_min_us', Math.min(...r.lat)],
  ];
}

async function w4(cfg) {
  const n = cfg.W4Timers, due = new Array(n), fire = new Array(n);
  let t0 = 0;
  await new Promise((resolve) => setImmediate(() => {
    const schedule = (i) => {
      due[i] = now() + 100000;
      setTimeout(() => {
        fire[i] = now();
        if (i + 1 < n) schedule(i + 1); else resolve();
      }, msOf(100));
    };
    t0 = now();
    schedule(0);
  }));
  return [['us_per_timer', (fire[n - 1] - t0) / 1e3 / n], ['lateness_mean_us', mean(fire.map((f, i) => (f - due[i]) / 1e3))]];
}

async function w4b(cfg) {
  const r = await atOnce(new Array(cfg.W4Timers).fill(100));
  return [['wall_ms', (r.last - r.t0) / 1e6], ['lateness_mean_us', mean(r.lat)]];
}

async function w5(cfg) {
  await new Promise((r) => setTimeout(r, 5));
  const dUs = cfg.W5DelayNs / 1000;
  let t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0;
  await new Promise((resolve) => setImmediate(() => {
    cpu0 = cpuNs();
    t0 = now();
    setTimeout(() => { t1 = now(); cpu1 = cpuNs(); resolve(); }, msOf(dUs));
  }));
  return [['elapsed_ms', (t1 - t0) / 1e6], ['cpu_us', (cpu1 - cpu0) / 1e3]];
}

async function w6(cfg) {
  const n = cfg.W6Timers;
  let fired = 0, t0 = 0, t1 = 0;
  const never = () => { fired++; };
  await new Promise((resolve) => setImmediate(() => {
    t0 = now();
    const hs = new Array(n);
    for (let i = 0; i < n; i++) hs[i] = setTimeout(never, 1000);
    for (let i = 0; i < n; i++) clearTimeout(hs[i]);
    setImmediate(() => { t1 = now(); resolve(); });
  }));
  if (fired) throw new Error('W6: cancelled timers fired');
  return [['ns_per_pair', (t1 - t0) / n]];
}

// W8: n timers of W8DelayNs, each pushed back W8Rounds times in round-robin
// order with timeout.refresh() (which restarts it from libuv's loop time,
// moving it to the end of its duration's list: O(1)), W8Chunk per
// setImmediate callback, timed until a setImmediate queued after the last
// has run; early counts the timers that fired.
async function w8(cfg, n) {
  const d = msOf(cfg.W8DelayNs / 1000), resets = n * cfg.W8Rounds;
  let fired = 0;
  const fire = () => { fired++; };
  const hs = new Array(n);
  await new Promise((resolve) => setImmediate(() => {
    for (let i = 0; i < n; i++) hs[i] = setTimeout(fire, d);
    setImmediate(resolve);
  }));
  let t0 = 0, t1 = 0;
  await new Promise((resolve) => {
    let next = 0, i = 0;
    const chunk = () => {
      const end = Math.min(next + cfg.W8Chunk, resets);
      for (; next < end; next++) {
        hs[i].refresh();
        if (++i === n) i = 0;
      }
      if (next < resets) setImmediate(chunk);
      else setImmediate(() => { t1 = now(); resolve(); });
    };
    setImmediate(() => { t0 = now(); chunk(); });
  });
  for (const h of hs) clearTimeout(h);
  return [['ns_per_reset', (t1 - t0) / resets], ['early', fired]];
}

async function w7(cfg) {
  const sab = new SharedArrayBuffer(4);
  const flag = new Int32Array(sab);
  const w = new Worker(__filename, { workerData: { base: BASE.toString() } });
  await new Promise((r) => w.once('online', r));
  const lat = [];
  await new Promise((resolve) => {
    w.on('message', (m) => {
      if (m === 'done') { resolve(); return; }
      lat.push((now() - m) / 1e3);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
    w.postMessage({ kind: 'w7', samples: cfg.W7Samples, idleNs: cfg.W7IdleBetweenNs, sab });
  });
  await w.terminate();
  return [['p50_us', percentile(lat, 50)], ['p99_us', percentile(lat, 99)]];
}

async function main() {
  const i = process.argv.indexOf('--config');
  if (i < 0) { console.error('usage: node node_bench.js --config JSON'); process.exit(2); }
  const cfg = JSON.parse(process.argv[i + 1]);
  const table = { W1: w1, W1x: w1x, W3: w3, W4: w4, W4b: w4b, W5: w5, W6: w6, W7: w7 };
  const rows = [];
  for (const w of cfg.workloads) {
    if (w === 'W2') for (const n of cfg.W2Sizes) rows.push([`W2/N=${n}`, () => w2(cfg, n)]);
    else if (w === 'W8') for (const n of cfg.W8Sizes) rows.push([`W8/N=${n}`, () => w8(cfg, n)]);
    else if (table[w]) rows.push([w, () => table[w](cfg)]);
  }
  for (const [name, rep] of rows) {
    process.stderr.write(`node: ${name}\n`);
    const samples = new Map();
    try {
      const reps = (name === 'W1' || name === 'W1x') ? Math.max(cfg.Reps, cfg.FastReps || 0) : cfg.Reps;
      for (let r = 0; r < cfg.Warmup + reps; r++) {
        const ms = await withTimeout(rep(), cfg.timeout);
        if (r < cfg.Warmup) continue;
        for (const [m, v] of ms) {
          if (!samples.has(m)) samples.set(m, []);
          samples.get(m).push(v);
        }
      }
    } catch (e) {
      process.stderr.write(`node: ${name}: ${e}\n`);
      samples.clear();
    }
    for (const [m, s] of samples) {
      process.stdout.write(JSON.stringify({ impl: 'node', workload: name, metric: m, value: median(s), samples: s }) + '\n');
    }
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
