//! A small WebDriver client for headless Chromium through ChromeDriver, for the browser tests
//! (`tests/tests/browser.rs`, `tests/tests/browser_app.rs`): start a browser, open pages, find
//! elements by CSS or by their label or text, type, click, answer `confirm()`, run scripts, size
//! the window and keep screenshots in `target/ci-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use data_encoding::BASE64;
use serde_json::{Value, json};

use crate::http;

/// The key of an element reference in WebDriver's JSON.
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long chromedriver may take to say which port it listens on.
const DRIVER_START: Duration = Duration::from_secs(30);

/// How long [`Driver::wait_for`] waits for a condition.
pub const WAIT: Duration = Duration::from_secs(20);

/// A browser session: ends the session, then chromedriver, when dropped.
pub struct Driver {
    _process: Process,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http()
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
    }
}

/// The chromedriver process, ended when dropped (also when the test fails before a session).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a free port and a headless Chromium session with a fresh
    /// profile. A `confirm()` or `alert()` stays open until the test answers it.
    pub fn start() -> Driver {
        // Port 0: chromedriver binds a free port itself and prints it, so nothing can take the
        // port between its choosing and its binding.
        let mut process = Process(
            Command::new("chromedriver")
                .arg("--port=0")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run chromedriver ({e}): install Debian's chromium-driver")
                }),
        );
        // Every line goes to the channel; once the port is read nobody listens, and the reader
        // goes on draining stdout so chromedriver never blocks on a full pipe.
        let stdout = process.0.stdout.take().expect("chromedriver's stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + DRIVER_START;
        let mut said = Vec::new();
        let port = loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => match started_on_port(&line) {
                    Some(port) => break port,
                    None => said.push(line),
                },
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "chromedriver did not say which port it listens on within {}s; \
                         it printed:\n{}",
                        DRIVER_START.as_secs(),
                        said.join("\n")
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = process.0.wait();
                    panic!(
                        "chromedriver exited ({status:?}) before saying which port it listens \
                         on; it printed:\n{}",
                        said.join("\n")
                    );
                }
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a profile directory");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let r: Value = http()
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .expect("a new WebDriver session")
            .json()
            .expect("WebDriver's answer");
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Driver {
            _process: process,
            base,
            session,
            _profile: profile,
        }
    }

    /// A WebDriver command; its `value`, errors included (`value.error`).
    pub fn call_raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => http().get(url),
            "DELETE" => http().delete(url),
            _ => http().post(url).json(&body.unwrap_or(json!({}))),
        };
        let v: Value = req
            .send()
            .expect("WebDriver request")
            .json()
            .expect("WebDriver's JSON");
        v["value"].clone()
    }

    /// A WebDriver command that must succeed; its `value`.
    #[track_caller]
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.call_raw(method, path, body);
        assert!(v["error"].is_null(), "WebDriver {method} {path}: {v}");
        v
    }

    /// Opens `url` and waits for it to load.
    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// The element `css` matches (the first); fails when none does.
    #[track_caller]
    pub fn find(&self, css: &str) -> String {
        let e = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        e[ELEMENT].as_str().expect("an element").to_owned()
    }

    /// How many elements `css` matches.
    pub fn count(&self, css: &str) -> usize {
        let found = self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        found.as_array().map_or(0, Vec::len)
    }

    /// Clicks the element `css` matches.
    #[track_caller]
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.click_element(&id);
    }

    /// Clicks an element by its reference.
    #[track_caller]
    pub fn click_element(&self, id: &str) {
        self.call("POST", &format!("/element/{id}/click"), None);
    }

    /// Types `text` into the element `css` matches (after what is there).
    #[track_caller]
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.type_into_element(&id, text);
    }

    /// Types into an element by its reference.
    #[track_caller]
    pub fn type_into_element(&self, id: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Empties the input or textarea `id`.
    #[track_caller]
    pub fn clear_element(&self, id: &str) {
        self.call("POST", &format!("/element/{id}/clear"), None);
    }

    /// The form control labelled `label` (its `<label for>` text, trimmed: exactly, else
    /// followed by a remark in brackets), as an element reference; fails naming the labels
    /// the page has when none matches.
    #[track_caller]
    pub fn labelled(&self, label: &str) -> String {
        let found = self.script_with(
            "const want = arguments[0];
             const all = [...document.querySelectorAll('label')];
             const l = all.find(l => l.textContent.trim() === want)
                 || all.find(l => l.textContent.trim().startsWith(want + ' ('));
             if (!l) return null;
             return l.control || document.getElementById(l.htmlFor);",
            vec![json!(label)],
        );
        match found[ELEMENT].as_str() {
            Some(id) => id.to_owned(),
            None => {
                let labels = self.script(
                    "return [...document.querySelectorAll('label')].map(l => l.textContent.trim())",
                );
                panic!(
                    "no control labelled {label:?} at {}; the labels are {labels}",
                    self.url()
                )
            }
        }
    }

    /// Types `text` into the field labelled `label`.
    #[track_caller]
    pub fn fill(&self, label: &str, text: &str) {
        let id = self.labelled(label);
        self.clear_element(&id);
        self.type_into_element(&id, text);
    }

    /// Picks the option of value `value` in the select labelled `label`.
    #[track_caller]
    pub fn choose(&self, label: &str, value: &str) {
        let id = self.labelled(label);
        let picked = self.script_with(
            "const [s, v] = arguments;
             const o = [...s.options].find(o => o.value === v);
             if (!o) return [...s.options].map(o => o.value);
             s.value = v;
             s.dispatchEvent(new Event('change', {bubbles: true}));
             return true;",
            vec![json!({ ELEMENT: id }), json!(value)],
        );
        assert_eq!(
            picked,
            json!(true),
            "{label:?} has no option {value:?}; its options are {picked}"
        );
    }

    /// The first element `tag` (a CSS selector) whose text, trimmed, is `text` (a button, a
    /// link), as a reference; fails naming what there is when none matches.
    #[track_caller]
    pub fn by_text(&self, tag: &str, text: &str) -> String {
        let found = self.script_with(
            "const [sel, want] = arguments;
             return [...document.querySelectorAll(sel)]
                 .find(e => (e.innerText || e.textContent).trim() === want) || null;",
            vec![json!(tag), json!(text)],
        );
        match found[ELEMENT].as_str() {
            Some(id) => id.to_owned(),
            None => {
                let there = self.script_with(
                    "return [...document.querySelectorAll(arguments[0])].map(e => (e.innerText || e.textContent).trim())",
                    vec![json!(tag)],
                );
                panic!(
                    "no {tag} reading {text:?} at {}; there are {there}",
                    self.url()
                )
            }
        }
    }

    /// Clicks the first `tag` whose text is `text`.
    #[track_caller]
    pub fn click_text(&self, tag: &str, text: &str) {
        let id = self.by_text(tag, text);
        self.click_element(&id);
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's title (`document.title`).
    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.script("return document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `js` (a function body; `return` gives its value) in the page. WebDriver's
    /// scripts are not subject to the page's CSP.
    #[track_caller]
    pub fn script(&self, js: &str) -> Value {
        self.script_with(js, Vec::new())
    }

    /// `script` with `arguments` (element references as `{ELEMENT: id}`).
    #[track_caller]
    pub fn script_with(&self, js: &str, args: Vec<Value>) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": args})),
        )
    }

    /// Runs `js` asynchronously: it calls `arguments[arguments.length - 1](value)` when done.
    /// Waits up to `timeout`.
    #[track_caller]
    pub fn script_async(&self, js: &str, timeout: Duration) -> Value {
        self.call(
            "POST",
            "/timeouts",
            Some(json!({"script": u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)})),
        );
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": js, "args": []})),
        )
    }

    /// Polls `js` (a function body returning a boolean) until it is true; fails after
    /// [`WAIT`] saying `what`.
    #[track_caller]
    pub fn wait_for(&self, js: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.script(js) == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {}s for {what} (at {})",
                WAIT.as_secs(),
                self.url()
            );
            std::thread::yield_now();
        }
    }

    /// The text of the open `alert()`/`confirm()`, if one is open.
    pub fn alert_text(&self) -> Option<String> {
        let v = self.call_raw("GET", "/alert/text", None);
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return None;
        }
        Some(v.as_str().unwrap_or_default().to_owned())
    }

    /// Accepts the open `confirm()` (OK), if one is open; whether one was.
    pub fn accept_alert(&self) -> bool {
        let v = self.call_raw("POST", "/alert/accept", None);
        v.get("error").is_none_or(Value::is_null)
    }

    /// Sizes the window so that the page's viewport is `width` × `height` CSS pixels, and
    /// checks it is.
    #[track_caller]
    pub fn viewport(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
        // The window's frame, if any, is added so that the viewport has the asked size.
        let inner = self.script("return [window.innerWidth, window.innerHeight]");
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if iw != u64::from(width) || ih != u64::from(height) {
            let dw = u64::from(width).saturating_sub(iw);
            let dh = u64::from(height).saturating_sub(ih);
            self.call(
                "POST",
                "/window/rect",
                Some(json!({"width": u64::from(width) + dw, "height": u64::from(height) + dh})),
            );
        }
        let inner = self.script("return window.innerWidth");
        assert_eq!(
            inner,
            json!(width),
            "the browser would not make its viewport {width} px wide"
        );
    }

    /// Whether the page fits its viewport's width (nothing to scroll sideways).
    pub fn fits_width(&self) -> bool {
        self.script("return document.documentElement.scrollWidth <= window.innerWidth")
            == json!(true)
    }

    /// Saves a screenshot of the viewport as `target/ci-artifacts/{name}`.
    #[track_caller]
    pub fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", None);
        let bytes = BASE64
            .decode(png.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 PNG");
        let dir = artifacts();
        std::fs::create_dir_all(&dir).expect("target/ci-artifacts/");
        std::fs::write(dir.join(name), bytes).expect("the screenshot");
    }

    /// Saves a screenshot of the whole page (the viewport made as tall as the page, up to
    /// 8,000 px, then put back) as `target/ci-artifacts/{name}`.
    #[track_caller]
    pub fn full_page_screenshot(&self, name: &str) {
        let size = self.script("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (
            u32::try_from(size[0].as_u64().unwrap_or(1280)).unwrap_or(1280),
            u32::try_from(size[1].as_u64().unwrap_or(800)).unwrap_or(800),
        );
        let tall = self
            .script("return document.documentElement.scrollHeight")
            .as_u64()
            .map_or(h, |t| u32::try_from(t.min(8000)).unwrap_or(h));
        if tall > h {
            self.viewport(w, tall);
        }
        self.screenshot(name);
        if tall > h {
            self.viewport(w, h);
        }
    }
}

/// The port in chromedriver's "ChromeDriver was started successfully on port 45813."
pub fn started_on_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("started successfully on port ")?;
    rest.trim_end().trim_end_matches('.').parse().ok()
}

/// `target/ci-artifacts/`, beside the test binaries.
pub fn artifacts() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the target directory")
        .join("ci-artifacts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromedriver_s_port_is_read_from_its_start_line() {
        assert_eq!(
            started_on_port("ChromeDriver was started successfully on port 45813."),
            Some(45813)
        );
        assert_eq!(
            started_on_port("Starting ChromeDriver 156.0.8078.129 (1a2e4e6f) on port 0"),
            None
        );
    }
}
