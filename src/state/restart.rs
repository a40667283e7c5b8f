//! The page's restart after a panic on its own thread: the panic's message and time are kept in
//! `sessionStorage` across one automatic reload, so the restarted page can say what happened; a
//! second panic soon after a restart shows a Reload link instead (no restart loop).

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

/// `sessionStorage` key of the last panic's message, shown once by the restarted page.
const MESSAGE_KEY: &str = "fairscreen.restart.message";
/// `sessionStorage` key of the last automatic restart's time (ms since the epoch).
const AT_KEY: &str = "fairscreen.restart.at";
/// A panic within this long of the last automatic restart does not restart again.
const RESTART_LOOP_MS: f64 = 30_000.0;

/// This tab's session storage, through `Reflect` (web-sys's `Storage` would rebuild every
/// crate that uses web-sys); none where the browser refuses it.
struct SessionStorage(JsValue);

impl SessionStorage {
    /// The window's `sessionStorage`.
    fn get() -> Option<Self> {
        let window = web_sys::window()?;
        let storage = Reflect::get(&window, &"sessionStorage".into()).ok()?;
        storage.is_object().then_some(Self(storage))
    }

    /// Calls the storage's method `name` with `args`.
    fn call(&self, name: &str, args: &[&str]) -> Result<JsValue, JsValue> {
        let method: js_sys::Function = Reflect::get(&self.0, &name.into())?.dyn_into()?;
        let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
        method.apply(&self.0, &args)
    }

    /// The value at `key`, if any.
    fn get_item(&self, key: &str) -> Option<String> {
        self.call("getItem", &[key]).ok()?.as_string()
    }

    /// Stores `value` at `key`; false when the browser refused (quota, privacy mode).
    fn set_item(&self, key: &str, value: &str) -> bool {
        self.call("setItem", &[key, value]).is_ok()
    }

    /// Removes `key`.
    fn remove_item(&self, key: &str) {
        let _ = self.call("removeItem", &[key]);
    }
}

/// What [`restart_after_panic`] did.
pub enum Restart {
    /// The page is reloading.
    Started,
    /// The page restarted itself less than `RESTART_LOOP_MS` ago: no second restart.
    TooSoon,
    /// The browser keeps no session storage or refused the reload.
    Unavailable,
}

/// Records `message` and reloads the page, unless the page already restarted itself in the last
/// `RESTART_LOOP_MS` or cannot keep the message.
pub fn restart_after_panic(message: &str) -> Restart {
    let Some(storage) = SessionStorage::get() else {
        return Restart::Unavailable;
    };
    let now = js_sys::Date::now();
    let last = storage.get_item(AT_KEY).and_then(|t| t.parse::<f64>().ok());
    if last.is_some_and(|t| now - t < RESTART_LOOP_MS) {
        return Restart::TooSoon;
    }
    let kept = storage.set_item(MESSAGE_KEY, message) && storage.set_item(AT_KEY, &now.to_string());
    if kept && web_sys::window().is_some_and(|w| w.location().reload().is_ok()) {
        Restart::Started
    } else {
        Restart::Unavailable
    }
}

/// The notice for a page that restarted itself after a panic (once: the message is removed).
pub fn take_restart_notice() -> Option<String> {
    let storage = SessionStorage::get()?;
    let message = storage.get_item(MESSAGE_KEY)?;
    storage.remove_item(MESSAGE_KEY);
    Some(format!(
        "The page restarted itself after an internal error ({message}). Choose your photo again: \
         it never left this device."
    ))
}
