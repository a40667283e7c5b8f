// The peer benchmark's page: FairScreen (its own inference worker, running the app's WebAssembly
// module) and ONNX Runtime Web (the files of the pinned npm package, served from ./ort/) time the
// same network (./model.onnx is `fairscreen-train export-onnx` of the model FairScreen loads) on
// the same input tensors (./inputs.bin: f32, [N, 3, S, S], prepared natively by core).
// The driver (tests/e2e/bench.rs) loads this page once per configuration and calls one of the two
// functions below; both return plain JSON with times in milliseconds (performance.now()).

async function inputs() {
  const r = await fetch("./inputs.bin");
  if (!r.ok) throw new Error(`inputs.bin: HTTP ${r.status}`);
  return r.arrayBuffer();
}

// FairScreen: starts the app's worker on the app's module (the page's own, CPU backend only, or
// for WebGPU the module in gpu/, as the app does) and sends it one Bench request (see
// src/worker/bench.rs for what it times).
window.fairscreenBench = async (request) => {
  const manifest = await (await fetch("../manifest.json")).json();
  const find = (re) => manifest.assets.find((a) => re.test(a.path)).path;
  // `module: "gpu"` runs a CPU request on the WebGPU module too (the module comparison).
  const [glue, wasm] = request.cpu && request.module !== "gpu"
    ? [find(/^fairscreen-[0-9a-f]+\.js$/), find(/^fairscreen-[0-9a-f]+_bg\.wasm$/)]
    : [find(/^gpu\/fairscreen-gpu\.js$/), find(/^gpu\/fairscreen-gpu_bg\.wasm$/)];
  const [module, bytes] = await Promise.all([
    WebAssembly.compileStreaming(fetch(`../${wasm}`)),
    inputs(),
  ]);
  const worker = new Worker("../worker.js", { type: "module" });
  try {
    return await new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
      worker.onmessage = (event) => {
        const message = JSON.parse(event.data.json);
        if (message === "Ready") {
          worker.postMessage({
            json: JSON.stringify({ Bench: request }),
            bytes: new Uint8Array(bytes),
          });
        } else if (message.Benched) {
          if ("Ok" in message.Benched) resolve(message.Benched.Ok);
          else reject(new Error(message.Benched.Err));
        } else if (message.Panic) {
          reject(new Error(`worker panicked: ${message.Panic}`));
        } else if (message.ModuleFailed) {
          reject(new Error(`worker could not load ${message.ModuleFailed}`));
        }
      };
      worker.postMessage({ glue: new URL(`../${glue}`, location.href).href, module });
    });
  } finally {
    worker.terminate();
  }
};

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ONNX Runtime Web: one bundle and execution provider per page load. The same measurements as
// FairScreen's worker: every output (every exit's logits) of the first `check` inputs, `warmup`
// untimed then `runs` timed single-input runs, and every input in batches of `batch`.
window.ortBench = async ({ bundle, ep, threads, side, check, warmup, runs, batch }) => {
  const ort = await import(`./ort/${bundle}`);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const all = new Float32Array(await inputs());
  const per = 3 * side * side;
  const n = all.length / per;
  let start = performance.now();
  const session = await ort.InferenceSession.create("./model.onnx", { executionProviders: [ep] });
  const createMs = performance.now() - start;
  const tensor = (from, count) =>
    new ort.Tensor("float32", all.slice(from * per, (from + count) * per), [count, 3, side, side]);
  const feeds = (t) => ({ [session.inputNames[0]]: t });
  const singles = Array.from({ length: Math.min(n, Math.max(runs, check)) }, (_, i) => tensor(i, 1));
  const checkLogits = [];
  for (let i = 0; i < check; i++) {
    const out = await session.run(feeds(singles[i]));
    checkLogits.push(session.outputNames.map((k) => Array.from(out[k].data)));
  }
  for (let i = 0; i < warmup; i++) await session.run(feeds(singles[i % singles.length]));
  const singleMs = [];
  for (let i = 0; i < runs; i++) {
    const t = singles[i % singles.length];
    start = performance.now();
    const out = await session.run(feeds(t));
    // Read every output, as FairScreen reads its logits back.
    for (const k of session.outputNames) out[k].data;
    singleMs.push(performance.now() - start);
  }
  const batches = [];
  for (let from = 0; from < n; from += batch) batches.push(tensor(from, Math.min(batch, n - from)));
  start = performance.now();
  for (const b of batches) await session.run(feeds(b));
  const throughputMs = performance.now() - start;
  await session.release();
  return {
    bundle,
    ep,
    threads,
    create_ms: createMs,
    images: n,
    check_logits: checkLogits,
    single_ms: singleMs,
    single_median_ms: median(singleMs),
    batch,
    throughput_ms: throughputMs,
  };
};

// Cold start of a page that uses ONNX Runtime Web (`peer.html?cold&bundle=…&ep=…&side=…`): loads
// the runtime, creates the session and runs ./first.bin (the photo FairScreen's cold start
// screens, prepared natively), then sets window.coldResult (times since navigation start).
async function ortCold(params) {
  const side = Number(params.get("side"));
  const ort = await import(`./ort/${params.get("bundle")}`);
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create("./model.onnx", {
    executionProviders: [params.get("ep")],
  });
  const ready = performance.now();
  const first = new Float32Array(await (await fetch("./first.bin")).arrayBuffer());
  const out = await session.run({
    [session.inputNames[0]]: new ort.Tensor("float32", first, [1, 3, side, side]),
  });
  for (const k of session.outputNames) out[k].data;
  return { ready_ms: ready, first_result_ms: performance.now() };
}

const params = new URLSearchParams(location.search);
if (params.has("cold")) {
  ortCold(params).then(
    (r) => (window.coldResult = r),
    (e) => (window.coldResult = { error: String(e) }),
  );
}
document.getElementById("state").textContent = "ready";
