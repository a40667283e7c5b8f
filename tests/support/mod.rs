//! Test support for the browser end-to-end tests: a static file server, a chromedriver process
//! and a minimal W3C WebDriver client over HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Serves `root` on 127.0.0.1 (random port) from a background thread until the process ends.
pub struct StaticServer {
    /// Base URL, e.g. `http://127.0.0.1:41234/`.
    pub url: String,
    /// While true, every connection is closed unanswered (the network is down).
    down: Arc<AtomicBool>,
    /// Connections closed unanswered while down.
    refused: Arc<AtomicUsize>,
    /// Every request answered: method, path (query dropped), status code.
    log: RequestLog,
    /// Paths starting with this are cut off halfway (the download breaks mid-body).
    cut: Arc<Mutex<Option<String>>>,
}

/// Requests a [`StaticServer`] answered, in order.
pub type RequestLog = Arc<Mutex<Vec<(String, String, u16)>>>;

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

fn serve_one(mut stream: TcpStream, root: &Path, log: &RequestLog, cut: &Mutex<Option<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let file = root.join(rel);
    let safe = !rel.split('/').any(|c| c == "..");
    let (status, body, ctype) = match (method, safe, std::fs::read(&file)) {
        ("GET" | "HEAD", true, Ok(b)) => ("200 OK", b, mime(&file)),
        ("GET" | "HEAD", _, _) => ("404 Not Found", b"not found".to_vec(), "text/plain"),
        _ => ("405 Method Not Allowed", Vec::new(), "text/plain"),
    };
    let code = status[..3].parse().unwrap_or(0);
    if let Ok(mut l) = log.lock() {
        l.push((method.to_string(), path.to_string(), code));
    }
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let cut = cut
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .is_some_and(|prefix| path.starts_with(&prefix));
    if method != "HEAD" {
        // A cut download sends half the body it announced and closes the connection.
        let sent = if cut { body.len() / 2 } else { body.len() };
        let _ = stream.write_all(&body[..sent]);
    }
}

impl StaticServer {
    /// Starts serving `root`.
    pub fn start(root: PathBuf) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind static server");
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let down = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let (is_down, count) = (down.clone(), refused.clone());
        let log: RequestLog = Arc::new(Mutex::new(Vec::new()));
        let server_log = log.clone();
        let cut: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let server_cut = cut.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if is_down.load(Ordering::SeqCst) {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let (root, log, cut) = (root.clone(), server_log.clone(), server_cut.clone());
                std::thread::spawn(move || serve_one(stream, &root, &log, &cut));
            }
        });
        Self {
            url,
            down,
            refused,
            log,
            cut,
        }
    }

    /// Cuts every download whose path starts with `prefix` halfway (`None`: whole again).
    pub fn cut_downloads(&self, prefix: Option<&str>) {
        *self.cut.lock().unwrap() = prefix.map(String::from);
    }

    /// Takes the requests answered so far (the log starts again empty).
    pub fn take_requests(&self) -> Vec<(String, String, u16)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Takes the network down (every later connection is closed unanswered) or back up.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Connections closed unanswered so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver process, killed on drop.
pub struct ChromeDriver {
    child: Child,
    /// Base URL of its WebDriver endpoint.
    pub url: String,
}

impl ChromeDriver {
    /// Starts chromedriver (`FAIRSCREEN_CHROMEDRIVER` or /usr/bin/chromedriver) and waits until ready.
    pub fn start() -> Self {
        let bin = std::env::var("FAIRSCREEN_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin}: {e} (scripts/setup.sh --test installs it)")
            });
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = ureq::get(&format!("{url}/status")).call() {
                if let Ok(v) = r.into_json::<Value>() {
                    if v["value"]["ready"] == json!(true) {
                        break;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, url }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Session {
    base: String,
    /// WebDriver commands sent so far.
    commands: std::cell::Cell<usize>,
    /// Keeps chromedriver alive as long as the session.
    _driver: ChromeDriver,
    _profile: PathBuf,
}

fn call(method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let req = ureq::request(method, url).timeout(Duration::from_secs(300));
    let resp = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let v: Value = match resp {
        Ok(r) => r.into_json().map_err(|e| e.to_string())?,
        Err(ureq::Error::Status(code, r)) => {
            let text = r.into_string().unwrap_or_default();
            return Err(format!("HTTP {code}: {text}"));
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(v["value"].clone())
}

impl Session {
    /// Starts headless Chromium; `webgpu` adds the flags that enable SwiftShader WebGPU.
    pub fn new(webgpu: bool) -> Self {
        Self::start(webgpu, false)
    }

    /// Like [`Session::new`], also recording the browser's network requests (every target the
    /// page's DevTools session sees) for [`Session::network_requests`].
    pub fn with_network_log(webgpu: bool) -> Self {
        Self::start(webgpu, true)
    }

    fn start(webgpu: bool, network_log: bool) -> Self {
        let driver = ChromeDriver::start();
        let profile = std::env::temp_dir().join(format!(
            "fairscreen-e2e-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ rand_suffix()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--no-first-run".into(),
            "--disable-sync".into(),
            "--window-size=1280,1800".into(),
            // The heavy-input measurement reads the JS heap after a collection.
            "--js-flags=--expose-gc".into(),
            "--enable-precise-memory-info".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        if webgpu {
            args.extend(
                [
                    "--enable-unsafe-webgpu",
                    "--use-webgpu-adapter=swiftshader",
                    "--enable-features=Vulkan",
                    "--use-vulkan=swiftshader",
                    "--disable-vulkan-surface",
                ]
                .map(String::from),
            );
        }
        let binary =
            std::env::var("FAIRSCREEN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
            "goog:loggingPrefs": if network_log {
                json!({"browser": "ALL", "performance": "ALL"})
            } else {
                json!({"browser": "ALL"})
            }
        }}});
        let v = call("POST", &format!("{}/session", driver.url), Some(caps))
            .expect("new WebDriver session");
        let id = v["sessionId"].as_str().expect("session id").to_string();
        Self {
            base: format!("{}/session/{id}", driver.url),
            commands: std::cell::Cell::new(0),
            _driver: driver,
            _profile: profile,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.commands.set(self.commands.get() + 1);
        call(method, &format!("{}{path}", self.base), body)
    }

    /// WebDriver commands sent so far (each leaves a little in the page's JS heap: ChromeDriver's
    /// helpers).
    pub fn commands(&self) -> usize {
        self.commands.get()
    }

    /// Runs Chrome DevTools protocol command `command` with `params` in the page (ChromeDriver's
    /// `goog/cdp/execute`) and returns its result.
    pub fn cdp(&self, command: &str, params: Value) -> Value {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": command, "params": params })),
        )
        .expect("DevTools command")
    }

    /// Navigates to `url`.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .expect("navigate");
    }

    fn element(&self, css: &str) -> Result<String, String> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .map(String::from)
            .ok_or_else(|| format!("no element id for {css}"))
    }

    /// The attribute `name` of the first element matching `css` (None if absent).
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let id = self.element(css).ok()?;
        self.cmd("GET", &format!("/element/{id}/attribute/{name}"), None)
            .ok()?
            .as_str()
            .map(String::from)
    }

    /// Visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let id = self.element(css).expect("element for text");
        self.cmd("GET", &format!("/element/{id}/text"), None)
            .expect("element text")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Types `keys` into the element (for a file input: an absolute path uploads that file).
    pub fn send_keys(&self, css: &str, keys: &str) {
        let id = self.element(css).expect("element for keys");
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": keys })),
        )
        .expect("send keys");
    }

    /// Runs a synchronous script and returns its value.
    pub fn script(&self, js: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .expect("execute script")
    }

    /// Runs an asynchronous script (it calls `arguments[arguments.length - 1]` with its result)
    /// and returns that result.
    pub fn script_async(&self, js: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"script": js, "args": []})),
        )
        .expect("execute async script")
    }

    /// Polls `check` every 200 ms until it returns Some or `timeout` passes.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}\nbrowser log:\n{}",
                    self.browser_log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The browser console log so far (chromedriver's legacy log endpoint).
    pub fn browser_log(&self) -> String {
        match self.cmd("POST", "/se/log", Some(json!({"type": "browser"}))) {
            Ok(Value::Array(entries)) => entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["level"].as_str().unwrap_or(""),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Ok(v) => v.to_string(),
            Err(e) => format!("(log unavailable: {e})"),
        }
    }

    /// The network requests the browser sent since the last call (method, URL), from the
    /// DevTools performance log (a session made by [`Session::with_network_log`]).
    pub fn network_requests(&self) -> Vec<(String, String)> {
        let entries = match self.cmd("POST", "/se/log", Some(json!({"type": "performance"}))) {
            Ok(Value::Array(entries)) => entries,
            other => panic!("no performance log: {other:?}"),
        };
        entries
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
            .map(|m| {
                let r = &m["message"]["params"]["request"];
                (
                    r["method"].as_str().unwrap_or("").to_string(),
                    r["url"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// Resizes the browser window (outer size, in CSS pixels).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .expect("set window rect");
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", None).expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

fn rand_suffix() -> u128 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut b);
    }
    u64::from_le_bytes(b) as u128
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = call("DELETE", &self.base, None);
        let _ = std::fs::remove_dir_all(&self._profile);
    }
}
