//! Which of the app's two modules the inference worker runs, and moving between them. The page
//! starts on its own module (burn's CPU backend only: the first visit downloads no WebGPU code),
//! looks for a WebGPU adapter meanwhile, and on a hardware adapter loads the WebGPU module in a
//! second worker on the side once the model is ready; that worker becomes the page's if the user
//! has not yet given the first one anything (else the page offers the switch). On a software
//! adapter (SwiftShader, llvmpipe…) the page stays on the CPU, which is faster there (measured in
//! docs/results/peer-bench.md), and offers WebGPU. The user can move either way; `?backend=cpu` and
//! `?backend=webgpu` choose in the URL.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::worker_link::{self, EventHandler, WorkerModule};
use super::{AppState, Status};
use crate::protocol::{BackendInfo, Event, Request};

/// What the page knows of WebGPU besides the backend the model runs on.
#[derive(Clone, Debug, PartialEq)]
pub enum WebGpu {
    /// Not looked for: the page runs the WebGPU module, or the CPU for a stated reason.
    NotChecked,
    /// Asking the browser for an adapter.
    Checking,
    /// No WebGPU in this browser, and why.
    Unavailable(String),
    /// A software adapter (named): the CPU is faster, so the page stays there.
    Software(String),
    /// A hardware adapter (named): its module loads once the model is ready on the CPU.
    Found(String),
    /// The WebGPU module is loading in a second worker, for the adapter named.
    Loading(String),
    /// The WebGPU module is ready but the page kept the CPU worker (it holds the user's work).
    Offered(String),
    /// The WebGPU module or device failed, and why; the page stays on the CPU.
    Failed(String),
}

impl WebGpu {
    /// The `#backend[data-webgpu]` attribute value.
    pub fn state(&self) -> &'static str {
        match self {
            WebGpu::NotChecked => "not-checked",
            WebGpu::Checking => "checking",
            WebGpu::Unavailable(_) => "unavailable",
            WebGpu::Software(_) => "software",
            WebGpu::Found(_) => "found",
            WebGpu::Loading(_) => "loading",
            WebGpu::Offered(_) => "offered",
            WebGpu::Failed(_) => "failed",
        }
    }
}

/// How a new page worker starts.
enum Plan {
    /// On the CPU, for this reason.
    Cpu(String),
    /// On the WebGPU module.
    Gpu,
    /// On the CPU, looking for WebGPU meanwhile.
    Auto,
}

/// What the CPU worker is told when the page starts on it and looks for WebGPU meanwhile.
const AUTO_NOTE: &str = "the page's own module, which has the CPU backend only";

thread_local! {
    /// The backend the worker on the side reported (WebGPU), until it has loaded the model.
    static STANDBY_BACKEND: RefCell<Option<BackendInfo>> = const { RefCell::new(None) };
}

/// The value of `name` in the page URL's query, if any.
fn url_param(name: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get(name))
}

impl AppState {
    /// Who gets the events of the page's worker and of the one on the side.
    fn event_handler(self) -> EventHandler {
        Rc::new(move |event, page_worker| {
            if page_worker {
                self.apply(event)
            } else {
                self.standby_event(event)
            }
        })
    }

    fn plan(self) -> Plan {
        if let Some(reason) = self.page.cpu_reason() {
            return Plan::Cpu(reason);
        }
        match self.page.chosen.get_untracked() {
            Some(WorkerModule::Page) => Plan::Cpu("the CPU was chosen on this page".into()),
            Some(WorkerModule::Gpu) => Plan::Gpu,
            None if url_param("backend").as_deref() == Some("webgpu") => Plan::Gpu,
            None => Plan::Auto,
        }
    }

    /// Starts an inference worker (on the module the plan says) and asks it for the backend and
    /// the default model; on the page's module without a stated reason, looks for WebGPU.
    pub(super) fn start_worker(self) {
        let plan = self.plan();
        let (module, cpu) = match &plan {
            Plan::Gpu => (WorkerModule::Gpu, None),
            Plan::Cpu(reason) => (WorkerModule::Page, Some(reason.clone())),
            Plan::Auto => (WorkerModule::Page, Some(AUTO_NOTE.to_string())),
        };
        self.page.module.set(module);
        match worker_link::start(module, self.event_handler()) {
            Ok(()) => worker_link::send(Request::Start { cpu }, None),
            Err(e) => {
                self.page.error.set(Some(e));
                self.page.status.set(Status::Failed);
                return;
            }
        }
        match plan {
            Plan::Auto => spawn_local(self.look_for_webgpu()),
            _ => self.page.webgpu.set(WebGpu::NotChecked),
        }
    }

    /// Asks the page's `navigator.gpu` for an adapter and records what it offers; a hardware one
    /// gets its module loaded (once the model is ready on the CPU). `?upgrade=software` treats a
    /// software adapter as hardware (the end-to-end tests exercise the move with SwiftShader).
    async fn look_for_webgpu(self) {
        self.page.webgpu.set(WebGpu::Checking);
        let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
            return;
        };
        let found = crate::adapter::describe(&navigator.into()).await;
        let any_adapter = url_param("upgrade").as_deref() == Some("software");
        self.page.webgpu.set(match found {
            None => WebGpu::Unavailable("this browser offers no WebGPU adapter".into()),
            Some(a) if a.software && !any_adapter => WebGpu::Software(a.text),
            Some(a) => WebGpu::Found(a.text),
        });
        self.load_webgpu_on_the_side();
    }

    /// Starts the WebGPU module in a second worker when a hardware adapter was found and the model
    /// is ready on the CPU (called when either happens).
    pub(super) fn load_webgpu_on_the_side(self) {
        let WebGpu::Found(adapter) = self.page.webgpu.get_untracked() else {
            return;
        };
        if self.models.name.with_untracked(|n| n.is_empty()) {
            return;
        }
        STANDBY_BACKEND.with(|b| *b.borrow_mut() = None);
        let started = worker_link::start_standby(
            WorkerModule::Gpu,
            self.event_handler(),
            Request::Start { cpu: None },
        );
        self.page.webgpu.set(match started {
            Ok(()) => WebGpu::Loading(adapter),
            Err(e) => WebGpu::Failed(e),
        });
    }

    /// An event of the worker on the side: its backend, then its model loaded (it takes over if
    /// the page's worker holds nothing of the user's yet) or a failure (the page stays on the CPU).
    fn standby_event(self, event: Event) {
        let WebGpu::Loading(adapter) = self.page.webgpu.get_untracked() else {
            return worker_link::stop_standby();
        };
        let fail = |why: String| {
            worker_link::stop_standby();
            log::warn!("WebGPU module: {why}");
            self.page.webgpu.set(WebGpu::Failed(why));
        };
        match event {
            Event::Backend(info) if info.kind == "webgpu" => {
                STANDBY_BACKEND.with(|b| *b.borrow_mut() = Some(info))
            }
            Event::Backend(info) => fail(info.note.unwrap_or_else(|| "no WebGPU device".into())),
            Event::ModelLoaded {
                entry, precision, ..
            } => {
                let Some(info) = STANDBY_BACKEND.with(|b| b.borrow_mut().take()) else {
                    return fail("the WebGPU module reported no backend".into());
                };
                let untouched = worker_link::requests_sent() == 0
                    && self.page.status.get_untracked().is_idle()
                    && self.models.name.get_untracked() == entry.name;
                if !untouched {
                    worker_link::stop_standby();
                    return self.page.webgpu.set(WebGpu::Offered(adapter));
                }
                if !worker_link::promote_standby() {
                    return;
                }
                self.page.module.set(WorkerModule::Gpu);
                self.page.backend.set(Some(info));
                self.models.precision.set(precision);
                self.page.webgpu.set(WebGpu::NotChecked);
                super::page::mark("fairscreen-webgpu-ready");
            }
            Event::ModelFailed { error, .. } => fail(error),
            Event::Panic(why) | Event::ModuleFailed(why) => fail(why),
            _ => {}
        }
    }

    /// Moves the model to the other module at the user's request (`module`): a fresh worker
    /// there, with the default model; what lived in the old one (the photo's result, the
    /// evaluation data, audits, a model file of the user's) is dropped, as the control says.
    pub fn run_on(self, module: WorkerModule) {
        if module == WorkerModule::Gpu {
            // The user asks to try WebGPU again, even after a lost device.
            self.page.gpu_lost.set(None);
        }
        self.page.chosen.set(Some(module));
        self.page.error.set(None);
        self.restart_worker(match module {
            WorkerModule::Gpu => "starting the WebGPU module",
            WorkerModule::Page => "starting on the CPU",
        });
    }

    /// The page's worker could not load its module: on the WebGPU module, the page moves to the
    /// CPU and says why; the page's own module failing leaves nothing to run on.
    pub(super) fn module_failed(self, why: String) {
        if self.page.module.get_untracked() == WorkerModule::Page {
            self.page.error.set(Some(format!(
                "the inference worker could not load the app's module ({why}); reload the page"
            )));
            return self.page.status.set(Status::Failed);
        }
        self.page.chosen.set(Some(WorkerModule::Page));
        self.restart_worker("starting on the CPU");
        self.page.error.set(Some(format!(
            "the WebGPU module could not be loaded ({why}); the model runs on the CPU"
        )));
    }

    /// Replaces the page's worker with a fresh one (as [`Self::plan`] says), forgetting what the
    /// old one held.
    pub(super) fn restart_worker(self, step: &str) {
        self.photo.result.set(None);
        self.photo.rescreening.set(false);
        self.models.switching.set(None);
        self.models.name.set(String::new());
        self.page.backend.set(None);
        self.eval.reset();
        self.audit.reset();
        self.page.status.set(Status::Loading(step.into()));
        worker_link::stop_standby();
        worker_link::stop();
        self.start_worker();
    }
}
