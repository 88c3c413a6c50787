//! The simulation's relay: one real nats-server (`carnet_market::testing::NatsServer`), open or
//! with consent at the transport (`carnet-market nats-config`'s configuration and credentials),
//! and how each party connects to it — the operator (streams, reading the stream back), each
//! vault host and each vendor on its own connection, with its own credentials.
//!
//! It starts the server and hands out connections; it judges nothing.

use std::path::PathBuf;

use carnet_market::creds;
use carnet_market::nats_config::{self, ServerSettings};
use carnet_market::relay::{RelayOptions, connect};
use carnet_market::testing::NatsServer;
use chrono::Utc;

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

    /// nats-server with `carnet-market nats-config`'s configuration for the world's directory
    /// (consent at the transport): the operator connects with `admin-user`'s credentials, each
    /// vault host with `vault-user`'s (`h<N>`), each vendor with `vendor-user`'s — the library
    /// functions behind those commands.
    pub fn consent(world: &World, hosts: usize) -> SimRelay {
        let now = Utc::now();
        let files = tempfile::tempdir().expect("a temp dir");
        let file = |name: &str| files.path().join(format!("{name}.creds"));
        let admin = file("admin");
        creds::issue_admin(&world.operator, &admin, now).expect("admin credentials");
        let hosts = (0..hosts)
            .map(|h| {
                let path = file(&format!("h{h}"));
                creds::issue_vault(&world.operator, &World::host(h), &path, now)
                    .expect("a vault host's credentials");
                Some(path)
            })
            .collect();
        let vendors = world
            .directory
            .vendors
            .iter()
            .map(|v| {
                let path = file(v.id.as_str());
                creds::issue_vendor(&world.operator, v, &path, now)
                    .expect("a vendor's credentials");
                Some(path)
            })
            .collect();
        let nats = NatsServer::with_config(|port, store| {
            let settings = ServerSettings {
                listen: format!("127.0.0.1:{port}"),
                store_dir: store.display().to_string(),
            };
            nats_config::render(&world.operator, &world.directory, &settings, now)
                .expect("nats-config")
        });
        let access = Access {
            url: nats.url(),
            admin: Some(admin),
            hosts,
            vendors,
        };
        SimRelay {
            nats,
            access,
            _files: files,
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
            // The one the credentials were issued for.
            inbox_prefix: None,
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
