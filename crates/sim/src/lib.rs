//! Vendor simulators: faithful imitations of the source systems' public APIs on loopback, with
//! deterministic seeded industrial data and `/__sim/` control endpoints for tests
//! (spec/API.md §9, wire formats from reference/connectors.md).
//!
//! One module per system ([`maintainx`]; Maximo and SAP follow the same pattern) over shared
//! pieces: the control plane and fault injection (`control`), lazily generated tables
//! (`table`), seeded randomness (`rng`), time (`clock`), and the names, places and equipment
//! the data is made of (`names`, `industrial`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use millwright_sim::{spawn, SimOptions, System};
//! let sim = spawn(System::Maintainx, SimOptions::default()).await?;
//! let url = format!("{}/v1/workorders?limit=10", sim.base_url());
//! // ... call `url` with `Authorization: Bearer sim-maintainx-key` ...
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod clock;
mod control;
mod industrial;
pub mod maintainx;
pub mod maximo;
mod names;
mod num;
mod query;
mod rng;
pub mod sap;
mod table;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use control::Control;

/// How a simulator seeds its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOptions {
    /// Same seed, same records, byte for byte. Seeded history covers the 180 days before the
    /// start of the current UTC day, so two simulators agree when started on the same UTC day.
    pub seed: u64,
    /// Records per entity. Records are generated when read, not up front, so any scale starts
    /// instantly and costs memory only for records changed through the API.
    pub scale: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 42,
            scale: 50,
        }
    }
}

/// A simulated source system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// MaintainX (REST, `/v1`).
    Maintainx,
    /// IBM Maximo Manage (JSON API, `/maximo/api/os`).
    Maximo,
    /// SAP S/4HANA (OData v2, `/sap/opu/odata/sap`).
    Sap,
}

impl System {
    /// The connector id this system is simulated for.
    pub fn as_str(self) -> &'static str {
        match self {
            System::Maintainx => "maintainx",
            System::Maximo => "maximo",
            System::Sap => "sap",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A system name [`System::from_str`] does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownSystem(pub String);

impl fmt::Display for UnknownSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown system {:?}; expected \"maintainx\", \"maximo\" or \"sap\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownSystem {}

impl FromStr for System {
    type Err = UnknownSystem;

    /// Accepts the connector id (`maintainx`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "maintainx" => Ok(System::Maintainx),
            "maximo" => Ok(System::Maximo),
            "sap" | "sap_s4hana" => Ok(System::Sap),
            _ => Err(UnknownSystem(s.to_owned())),
        }
    }
}

fn build(system: System, opts: SimOptions) -> (axum::Router, Arc<Control>) {
    match system {
        System::Maintainx => maintainx::build(&opts),
        System::Maximo => maximo::build(&opts),
        System::Sap => sap::build(&opts),
    }
}

/// The simulator as an axum router: the vendor's API under its usual prefix and `/__sim/`.
pub fn router(system: System, opts: SimOptions) -> axum::Router {
    build(system, opts).0
}

/// Serves the simulator on `listener` until the process ends.
pub async fn serve(system: System, listener: TcpListener, opts: SimOptions) -> std::io::Result<()> {
    axum::serve(listener, router(system, opts)).await
}

/// Binds `127.0.0.1:0`, serves in a background task, and returns the handle (for tests and the
/// demo).
pub async fn spawn(system: System, opts: SimOptions) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (router, control) = build(system, opts);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(SimHandle {
        addr,
        control,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A simulator running in the background. Dropping it stops the server abruptly;
/// [`SimHandle::shutdown`] stops it gracefully.
pub struct SimHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    control: Arc<Control>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, the `base_url` a connector is given.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, releases requests held by a timeout outage, and waits
    /// (at most five seconds) for requests in flight to finish.
    pub async fn shutdown(mut self) {
        self.control.begin_shutdown();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names() {
        assert_eq!("maintainx".parse::<System>(), Ok(System::Maintainx));
        assert_eq!("MaintainX".parse::<System>(), Ok(System::Maintainx));
        assert_eq!("Maximo".parse::<System>(), Ok(System::Maximo));
        assert_eq!("sap".parse::<System>(), Ok(System::Sap));
        assert!("sapp".parse::<System>().is_err());
        assert_eq!(System::Maintainx.to_string(), "maintainx");
    }

    #[test]
    fn default_options() {
        assert_eq!(
            SimOptions::default(),
            SimOptions {
                seed: 42,
                scale: 50
            }
        );
    }
}
