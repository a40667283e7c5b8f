// FairScreen's inference worker (a module worker). It runs one of the app's two WebAssembly
// modules off the page's thread: the page posts { glue, module } first (the URL of the module's
// wasm-bindgen glue, and the module: the compiled WebAssembly.Module the page already runs, or the
// URL of the WebGPU module in gpu/), and the module's Rust code then installs its own message
// handler and answers the page's typed requests (src/worker/). A module given by URL is checked
// against the build's manifest.json (its sha256) before it is instantiated, as the page's own
// module is by Trunk's integrity attribute. A module that cannot be loaded is reported to the page
// as the event { ModuleFailed: why } (the protocol's JSON).
"use strict";

const hex = (buffer) =>
  Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/// The bytes at `url`, checked against the sha256 manifest.json lists for it.
async function verifiedBytes(url) {
  const base = new URL(".", self.location).href;
  const path = url.startsWith(base) ? url.slice(base.length) : url;
  const [manifest, response] = await Promise.all([
    fetch(new URL("manifest.json", base)).then((r) => r.json()),
    fetch(url),
  ]);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const entry = manifest.assets.find((a) => a.path === path);
  if (!entry) throw new Error(`${path} is not in manifest.json`);
  const bytes = await response.arrayBuffer();
  if (!self.crypto || !self.crypto.subtle) {
    throw new Error("this page is not a secure context (https or localhost): cannot check its sha256");
  }
  const digest = hex(await self.crypto.subtle.digest("SHA-256", bytes));
  if (digest !== entry.sha256) {
    throw new Error(`its sha256 is ${digest}, the build's manifest.json says ${entry.sha256}`);
  }
  return bytes;
}

self.addEventListener(
  "message",
  async (event) => {
    const { glue, module } = event.data;
    try {
      const source = typeof module === "string" ? await verifiedBytes(module) : module;
      const bindings = await import(glue);
      await bindings.default({ module_or_path: source });
    } catch (err) {
      const what = typeof module === "string" ? module : glue;
      self.postMessage({ json: JSON.stringify({ ModuleFailed: `${what}: ${err.message || err}` }) });
    }
  },
  { once: true },
);
