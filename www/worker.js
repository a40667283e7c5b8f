// FairScreen's inference worker (a module worker). It runs the app's own WebAssembly module off
// the page's thread: the page posts { glue, module } first (the URL of the wasm-bindgen glue and
// the compiled WebAssembly.Module it already has), and the module's Rust code then installs its
// own message handler and answers the page's typed requests (src/worker/).
self.addEventListener(
  "message",
  async (event) => {
    const { glue, module } = event.data;
    const bindings = await import(glue);
    await bindings.default({ module_or_path: module });
  },
  { once: true },
);
