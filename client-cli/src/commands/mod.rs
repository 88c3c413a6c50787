//! One runner per verb, grouped by area. Runners get a `Ctx` (the connected client and the
//! output mode), send requests built from the schema types, and print through `output`.

mod archive;
mod audit;
mod connect;
mod consent;
mod document;
mod followups;
mod grant;
mod import_csv;
mod incident;
mod intent;
mod intent_view;
mod interaction;
mod lifecycle;
mod login;
mod market_offer;
mod meta;
mod notify;
mod offer;
mod password;
mod profile;
mod promise;
mod purchase;
mod receipts;
mod search;
mod subscription;
mod vendor;
mod webhooks;

#[cfg(test)]
mod snapshot_tests;

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};

use carnet_schemas::{Line, Vendor, VendorDetail, VendorId};

use crate::cli::{Cli, Command, VendorRef};
use crate::client::{Client, Doc};
use crate::config::{Inputs, ServerUrl, discover};
use crate::error::{CliError, CliResult};
use crate::output;

/// What every runner that talks to carnetd needs.
pub struct Ctx {
    pub client: Client,
    pub json: bool,
}

pub fn run(cli: Cli) -> CliResult<()> {
    let Cli {
        server,
        json,
        csv,
        command,
        color: _,
    } = cli;
    output::set_csv(csv);
    match command {
        Command::Login(args) => login::run(server, json, args),
        Command::Unlock(args) => lifecycle::unlock(server, json, args),
        Command::Lock => lifecycle::lock(&Ctx::connect(server, json)?),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man(args) => meta::man(args),
        Command::Vendor(cmd) => vendor::run(&Ctx::connect(server, json)?, cmd),
        Command::Interaction(cmd) => interaction::run(&Ctx::connect(server, json)?, cmd),
        Command::Purchase(cmd) => purchase::run(&Ctx::connect(server, json)?, cmd),
        Command::Incident(cmd) => incident::run(&Ctx::connect(server, json)?, cmd),
        Command::Followups(args) => followups::run(&Ctx::connect(server, json)?, args),
        Command::Promise(cmd) => promise::run(&Ctx::connect(server, json)?, cmd),
        Command::Subscription(cmd) => subscription::run(&Ctx::connect(server, json)?, cmd),
        Command::Doc(cmd) => document::run(&Ctx::connect(server, json)?, cmd),
        Command::Search(args) => search::run(&Ctx::connect(server, json)?, args),
        Command::Profile(cmd) => profile::run(&Ctx::connect(server, json)?, cmd),
        Command::Intent(cmd) => intent::run(&Ctx::connect(server, json)?, cmd),
        Command::Offers(args) => offer::list(&Ctx::connect(server, json)?, args),
        Command::Offer(cmd) => offer::run(&Ctx::connect(server, json)?, cmd),
        Command::Grant(cmd) => grant::run(&Ctx::connect(server, json)?, cmd),
        Command::Consent(cmd) => consent::run(&Ctx::connect(server, json)?, cmd),
        Command::Password(cmd) => password::run(&Ctx::connect(server, json)?, cmd),
        Command::Receipts(args) => receipts::run(&Ctx::connect(server, json)?, args),
        Command::Audit(args) => audit::run(&Ctx::connect(server, json)?, args),
        Command::Webhooks(args) => webhooks::run(&Ctx::connect(server, json)?, args),
        Command::Notify(cmd) => notify::run(&Ctx::connect(server, json)?, cmd),
        Command::Export(args) => archive::export(&Ctx::connect(server, json)?, args),
        Command::Import(args) => archive::import(&Ctx::connect(server, json)?, args),
        Command::ImportCsv(cmd) => import_csv::run(&Ctx::connect(server, json)?, cmd),
    }
}

impl Ctx {
    /// Finds the server and token (see `config`) and builds the client.
    pub fn connect(server: Option<ServerUrl>, json: bool) -> CliResult<Ctx> {
        let found = discover(&Inputs::load(server)?)?;
        warn_if_cleartext(&found.server);
        Ok(Ctx {
            client: Client::new(found.server, found.token, found.source)?,
            json,
        })
    }

    /// The vendor named on the command line: an id first (a vendor with that id, else one
    /// whose name looks like it), a name by exact match.
    pub fn vendor_id(&self, vendor: &VendorRef) -> CliResult<VendorId> {
        Ok(self.vendor_named(vendor)?.0)
    }

    /// The vendor's id and its name (quoted, for messages), as `vendor_id` finds it.
    pub fn vendor_named(&self, vendor: &VendorRef) -> CliResult<(VendorId, String)> {
        let all = self.vendors()?;
        let named = |name: &str| {
            all.iter()
                .find(|v| v.value.fields.name.as_str() == name)
                .map(|v| {
                    (
                        v.value.id.clone(),
                        output::quoted(v.value.fields.name.as_str()),
                    )
                })
        };
        match vendor {
            VendorRef::Id(id) => {
                if let Some(v) = all.iter().find(|v| v.value.id == *id) {
                    return Ok((id.clone(), output::quoted(v.value.fields.name.as_str())));
                }
                if let Some(found) = named(id.as_str()) {
                    return Ok(found);
                }
                // Neither: the server says there is no such vendor, as for any id.
                let d: Doc<VendorDetail> = self.client.get(&format!("/v1/vendors/{id}"), &[])?;
                let v = d.value.vendor;
                Ok((v.id, output::quoted(v.fields.name.as_str())))
            }
            VendorRef::Name(name) => {
                if let Some(found) = named(name.as_str()) {
                    return Ok(found);
                }
                let mut hint = "carnet vendor list shows names and ids".to_owned();
                let lower = name.as_str().to_lowercase();
                if let Some(close) = all
                    .iter()
                    .find(|v| v.value.fields.name.as_str().to_lowercase() == lower)
                {
                    hint = format!(
                        "names match exactly: did you mean {}? {hint}",
                        output::quoted(close.value.fields.name.as_str())
                    );
                } else if name.as_str().starts_with("ven_") {
                    hint =
                        format!("vendor ids are ven_ and 16 characters from 0-9 and a-v; {hint}");
                }
                Err(
                    CliError::failed(format!("no vendor named {}", output::quoted(name.as_str())))
                        .with_hint(hint),
                )
            }
        }
    }

    pub fn vendors(&self) -> CliResult<Vec<Doc<Vendor>>> {
        self.client.list_all("/v1/vendors", &[])
    }

    /// Vendor names by id, to show names in listings.
    pub fn vendor_names(&self) -> CliResult<HashMap<VendorId, Line>> {
        Ok(self
            .vendors()?
            .into_iter()
            .map(|v| (v.value.id, v.value.fields.name))
            .collect())
    }

    /// Prints a created, changed or shown object: in full as JSON, or as `human` says.
    pub fn print<T>(&self, doc: &Doc<T>, human: impl FnOnce(&T)) {
        if self.json {
            output::json(&doc.raw);
        } else {
            human(&doc.value);
        }
    }

    /// Prints a listing: one JSON array of full objects, or as `human` says; an empty
    /// listing says so on stderr.
    pub fn print_list<T>(&self, docs: &[Doc<T>], empty: &str, human: impl FnOnce(&[&T])) {
        if self.json {
            output::json(&serde_json::Value::Array(
                docs.iter().map(|d| d.raw.clone()).collect(),
            ));
        } else if docs.is_empty() {
            output::message(empty);
        } else {
            human(&docs.iter().map(|d| &d.value).collect::<Vec<_>>());
        }
    }

    /// A one-line result (`added vendor …`): stdout in human mode, stderr with `--json`
    /// (stdout then carries only JSON).
    pub fn done(&self, line: &str) {
        if self.json {
            output::message(line);
        } else {
            output::stdout(&format!("{}\n", output::one_line(line)));
        }
    }
}

fn warn_if_cleartext(server: &ServerUrl) {
    if server.is_cleartext_remote() {
        output::message(&format!(
            "carnet: warning: {server} is plain http to another machine: the owner token crosses the network readable; put carnetd behind https"
        ));
    }
}

/// What a confirmation question is about: `remove vendor … ? [y/N]`.
pub struct Confirm<'a> {
    /// `remove`, `removing`, `removed`.
    pub verb: [&'a str; 3],
    pub what: &'a str,
    /// The same command with `--yes`, for the hint.
    pub with_yes: String,
    /// What to say when the owner does not answer yes (default: nothing was changed).
    pub declined_hint: Option<String>,
}

/// Asks `[y/N]` on a terminal (stdin and stderr); refuses without one.
pub fn confirm(c: &Confirm<'_>) -> CliResult<()> {
    let [verb, doing, done] = c.verb;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(
            CliError::failed(format!("not {doing} {} without confirmation", c.what))
                .with_hint(format!("pass --yes to {verb} it: {}", c.with_yes)),
        );
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{verb} {}? [y/N] ", output::one_line(c.what));
    let _ = err.flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).map_err(|e| {
        CliError::failed(format!("cannot read the answer: {e}")).with_hint(format!(
            "nothing was changed; without the question: {}",
            c.with_yes
        ))
    })?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(
            CliError::failed(format!("not {done}: you did not answer yes")).with_hint(
                c.declined_hint.clone().unwrap_or_else(|| {
                    "nothing was changed; pass --yes to skip the question".into()
                }),
            ),
        )
    }
}

/// `carnet KIND rm ID`: deletes `/v1/COLLECTION/ID`, asking first unless `yes`. The question
/// names the record as `KIND ID` followed by what `describe` says of it, fetched from there.
pub fn delete_asking<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    kind: &str,
    collection: &str,
    id: &impl std::fmt::Display,
    yes: bool,
    describe: impl FnOnce(&T) -> String,
) -> CliResult<()> {
    let path = format!("/v1/{collection}/{id}");
    if !yes {
        let record = ctx.client.get::<T>(&path, &[])?;
        confirm(&Confirm {
            verb: ["delete", "deleting", "deleted"],
            what: &format!("{kind} {id}{}", describe(&record.value)),
            declined_hint: None,
            with_yes: format!("carnet {kind} rm {id} --yes"),
        })?;
    }
    ctx.client.delete(&path)?;
    ctx.done(&format!("deleted {kind} {id}"));
    Ok(())
}

/// The items of a listing answered at once (`{"items": […]}`), each with its JSON as sent.
pub fn listed<T>(items: Vec<T>, raw: &serde_json::Value) -> Vec<Doc<T>> {
    let raw = raw.get("items").and_then(|i| i.as_array()).cloned();
    items
        .into_iter()
        .zip(raw.unwrap_or_default())
        .map(|(value, raw)| Doc { value, raw })
        .collect()
}

/// Items joined with `, ` (categories, scopes).
pub fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of a vendor for a listing, or its id if it is gone.
pub fn name_of(names: &HashMap<VendorId, Line>, id: &VendorId) -> String {
    names
        .get(id)
        .map_or_else(|| id.to_string(), |n| n.as_str().to_owned())
}
