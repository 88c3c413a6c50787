//! A test server's thread: a loopback listener served on a runtime of its own until it is
//! stopped (or dropped). The receivers (webhook, ntfy, SMTP) are built on it.

use std::future::Future;

use tokio::sync::oneshot;

/// A server running on its own thread.
pub struct Served {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Runs `serve(listener, stopped)` on a new thread; `stopped` resolves when `stop` is called.
    pub fn spawn<F, Fut>(listener: std::net::TcpListener, serve: F) -> Served
    where
        F: FnOnce(tokio::net::TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                serve(listener, stopped).await;
            });
        });
        Served {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Serves an axum app until stopped (in-flight requests finish first).
    pub fn axum(listener: std::net::TcpListener, app: axum::Router) -> Served {
        Self::spawn(listener, |listener, stopped| async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        })
    }

    /// Stops serving and waits for the thread: the port refuses connections afterwards.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}
