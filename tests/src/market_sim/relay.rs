//! The simulation's relay: one real nats-server (`carnet_market::testing::NatsServer`) and how
//! each party connects to it — the operator (streams, reading the stream back), each vault host
//! and each vendor on its own connection.
//!
//! It starts the server and hands out connections; it judges nothing.

use std::path::PathBuf;

use carnet_market::relay::{RelayOptions, connect};
use carnet_market::testing::NatsServer;

use super::world::World;

/// The relay and what connecting to it takes.
pub struct SimRelay {
    pub nats: NatsServer,
    pub access: Access,
    _files: tempfile::TempDir,
}

/// How each party connects (cheap to clone: the URL and the credentials files).
#[derive(Debug, Clone)]
pub struct Access {
    pub url: String,
    admin: Option<PathBuf>,
    hosts: Vec<Option<PathBuf>>,
    vendors: Vec<Option<PathBuf>>,
}

impl SimRelay {
    /// nats-server with JetStream, open to every client (no credentials).
    pub fn open(world: &World, hosts: usize) -> SimRelay {
        let nats = NatsServer::start();
        let access = Access {
            url: nats.url(),
            admin: None,
            hosts: vec![None; hosts],
            vendors: vec![None; world.vendors.len()],
        };
        SimRelay {
            nats,
            access,
            _files: tempfile::tempdir().expect("a temp dir"),
        }
    }

    /// The server's process id now (it changes at a restart).
    pub fn pid(&self) -> u32 {
        self.nats.pid()
    }
}

impl Access {
    async fn connect(&self, name: String, creds: Option<PathBuf>) -> async_nats::Client {
        let options = RelayOptions {
            url: self.url.clone(),
            creds,
            name: name.clone(),
            wait_for_relay: false,
        };
        connect(&options)
            .await
            .unwrap_or_else(|e| panic!("{name} cannot connect to the relay: {e}"))
    }

    /// The operator's connection: makes the streams, reads them back.
    pub async fn admin(&self) -> async_nats::Client {
        self.connect("sim operator".into(), self.admin.clone())
            .await
    }

    /// Vault host `h`'s connection, shared by its vaults' publishers.
    pub async fn host(&self, h: usize) -> async_nats::Client {
        self.connect(format!("sim host {h}"), self.hosts[h].clone())
            .await
    }

    /// Vendor `v`'s connection.
    pub async fn vendor(&self, v: usize) -> async_nats::Client {
        self.connect(format!("sim vendor {v}"), self.vendors[v].clone())
            .await
    }
}
