// FairScreen's inference worker (a module worker). It runs one of the app's two WebAssembly
// modules off the page's thread: the page posts { glue, module } first (the URL of the module's
// wasm-bindgen glue, and the module: the compiled WebAssembly.Module the page already runs, or the
// URL of the WebGPU module in gpu/), and the module's Rust code then installs its own message
// handler and answers the page's typed requests (src/worker/). A module that cannot be loaded is
// reported to the page as the event { ModuleFailed: why } (the protocol's JSON).
self.addEventListener(
  "message",
  async (event) => {
    const { glue, module } = event.data;
    try {
      const bindings = await import(glue);
      await bindings.default({ module_or_path: module });
    } catch (err) {
      self.postMessage({ json: JSON.stringify({ ModuleFailed: `${glue}: ${err}` }) });
    }
  },
  { once: true },
);
