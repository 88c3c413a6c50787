//! `carnet vendor connect | rotate-secret | invite | client | disconnect`: a vendor as an OAuth
//! client. The secrets are what connect, rotate-secret and invite produce, so they go to
//! stdout, once (carnetd keeps only a hash of each); everything said about them goes to stderr.

use carnet_schemas::{
    Client, ClientCredentials, ClientFields, Grant, GrantState, Invitation, RotateSecret, VendorId,
};

use super::{Confirm, Ctx, confirm};
use crate::cli::{VendorConnect, VendorEditClient, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{self, Fields, long_time};

fn client_path(id: &VendorId) -> String {
    format!("/v1/vendors/{id}/client")
}

/// A 404 about a vendor that exists means it has no client: say how to connect it.
fn not_connected(id: &VendorId, name: &str) -> impl FnOnce(CliError) -> CliError {
    let (id, name) = (id.clone(), name.to_owned());
    move |e| {
        if e.status == Some(404) {
            CliError {
                message: format!("vendor {name} ({id}) is not connected"),
                ..e
            }
            .with_hint(format!(
                "connect it with `carnet vendor connect {id} --redirect-uri URI`"
            ))
        } else {
            e
        }
    }
}

pub fn connect(ctx: &Ctx, a: VendorConnect) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(&a.vendor)?;
    let body = ClientFields {
        redirect_uris: a.redirect_uris,
        webhook_url: a.webhook_url,
    };
    let creds: Doc<ClientCredentials> =
        ctx.client.post(&client_path(&id), &body).map_err(|e| {
            if e.status == Some(409) {
                e.with_hint(format!(
                    "`carnet vendor rotate-secret {id}` gives it a new secret; `carnet vendor edit-client {id}` changes its URIs"
                ))
            } else {
                e
            }
        })?;
    output::message(&format!(
        "connected vendor {name} ({id}) as OAuth client {}",
        creds.value.client_id
    ));
    print_secrets(ctx, &creds);
    output::message(
        "these secrets are not shown again: hand them to the vendor now (a lost one can be replaced with `carnet vendor rotate-secret`)",
    );
    Ok(())
}

/// The credentials on stdout: the whole object with `--json`, else `key: value` lines of the
/// id and whichever secrets the answer carries.
fn print_secrets(ctx: &Ctx, creds: &Doc<ClientCredentials>) {
    ctx.print(creds, |c| {
        let mut out = Fields::new();
        out.add("client_id", &c.client_id)
            .opt("client_secret", c.client_secret.as_ref())
            .opt("webhook_secret", c.webhook_secret.as_ref());
        out.print();
    });
}

pub fn rotate_secret(ctx: &Ctx, vendor: &VendorRef, webhook: bool) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(vendor)?;
    let creds: Doc<ClientCredentials> = ctx
        .client
        .post(
            &format!("{}/rotate-secret", client_path(&id)),
            &RotateSecret { webhook },
        )
        .map_err(not_connected(&id, &name))
        .map_err(|e| {
            if webhook && e.status == Some(409) {
                e.with_hint(format!(
                    "give it a webhook URL first: `carnet vendor edit-client {id} --webhook-url URL` (that prints its secret)"
                ))
            } else {
                e
            }
        })?;
    print_secrets(ctx, &creds);
    if webhook {
        output::message(&format!(
            "webhooks to {name} are signed with this new secret from now on, no longer with the old one; it is not shown again: hand it to the vendor now"
        ));
    } else {
        output::message(&format!(
            "the old client secret of {name} stopped working, and every token issued with it; the new one is not shown again: hand it to the vendor now"
        ));
    }
    Ok(())
}

/// An initial access token for the vendor to register its own client (RFC 7591).
pub fn invite(ctx: &Ctx, vendor: &VendorRef) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(vendor)?;
    // Asked first: carnetd hands out the token, but refuses the registration of a vendor that
    // already has a client.
    let client = match ctx.client.get::<Client>(&client_path(&id), &[]) {
        Ok(c) => Some(c.value.client_id),
        Err(e) if e.status == Some(404) => None,
        Err(e) => return Err(e),
    };
    let invitation: Doc<Invitation> = ctx.client.post_empty(&format!("/v1/vendors/{id}/invite"))?;
    ctx.print(&invitation, |i| {
        let mut out = Fields::new();
        out.add("initial_access_token", &i.initial_access_token)
            .add("registration_endpoint", &i.registration_endpoint);
        out.print();
    });
    output::message(&format!(
        "invited vendor {name} ({id}) to register its own OAuth client: hand it this token and endpoint now, they are not shown again"
    ));
    output::message(&format!(
        "the token works once, until {} (24 hours): the vendor sends it as `Authorization: Bearer TOKEN` with its registration (RFC 7591) and receives its own client id and secret",
        long_time(&invitation.value.expires_at)
    ));
    output::message(
        "its client will show as \"not verified\" on the consent page and in `carnet consent list`: Carnet cannot vouch for what a client says about itself",
    );
    if let Some(client_id) = client {
        output::message(&format!(
            "carnet: warning: {name} is connected already (OAuth client {client_id}): its registration is refused until you run `carnet vendor disconnect {id}`"
        ));
    }
    Ok(())
}

/// Changes what the client is told to use; whatever is not given stays.
pub fn edit_client(ctx: &Ctx, a: VendorEditClient) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(&a.vendor)?;
    let current: Doc<Client> = ctx
        .client
        .get(&client_path(&id), &[])
        .map_err(not_connected(&id, &name))?;
    let mut body = ClientFields {
        redirect_uris: current.value.redirect_uris,
        webhook_url: current.value.webhook_url,
    };
    if !a.redirect_uris.is_empty() {
        body.redirect_uris = a.redirect_uris;
    }
    if let Some(w) = a.webhook_url {
        body.webhook_url = w.into_option();
    }
    let creds: Doc<ClientCredentials> = ctx
        .client
        .put(&client_path(&id), &body)
        .map_err(not_connected(&id, &name))?;
    if creds.value.webhook_secret.is_some() || ctx.json {
        print_secrets(ctx, &creds);
    }
    let hook = creds
        .value
        .webhook_url
        .as_ref()
        .map_or("no webhook URL".to_owned(), |u| format!("webhooks to {u}"));
    output::message(&format!(
        "changed OAuth client {} of {name} ({id}): {} redirect URI(s), {hook}; its secrets, grant and tokens stay",
        creds.value.client_id,
        creds.value.redirect_uris.len()
    ));
    if creds.value.webhook_secret.is_some() {
        output::message(
            "webhooks are signed with this new secret; it is not shown again: hand it to the vendor now",
        );
    }
    Ok(())
}

pub fn show(ctx: &Ctx, vendor: &VendorRef) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(vendor)?;
    let client: Doc<Client> = ctx
        .client
        .get(&client_path(&id), &[])
        .map_err(not_connected(&id, &name))?;
    ctx.print(&client, |c| {
        let mut out = Fields::new();
        out.add("client id", &c.client_id)
            .add("vendor", format!("{name} ({})", c.vendor_id))
            .add(
                "redirect URIs",
                c.redirect_uris
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .add(
                "webhook URL",
                c.webhook_url
                    .as_ref()
                    .map_or("none (no pushes)", |u| u.as_str()),
            )
            .add("connected", long_time(&c.created_at))
            .add("changed", long_time(&c.updated_at));
        out.print();
    });
    Ok(())
}

pub fn disconnect(ctx: &Ctx, vendor: &VendorRef, yes: bool) -> CliResult<()> {
    let (id, name) = ctx.vendor_named(vendor)?;
    let client: Doc<Client> = ctx
        .client
        .get(&client_path(&id), &[])
        .map_err(not_connected(&id, &name))?;
    let what = format!(
        "vendor {id} {name} (OAuth client {})",
        client.value.client_id
    );
    if !yes {
        confirm(&Confirm {
            verb: ["disconnect", "disconnecting", "disconnected"],
            what: &what,
            declined_hint: None,
            with_yes: format!("carnet vendor disconnect {id} --yes"),
        })?;
    }
    ctx.client
        .delete(&client_path(&id))
        .map_err(not_connected(&id, &name))?;
    ctx.done(&format!(
        "disconnected {what}: its client secret and every token it held stopped working"
    ));
    // Grants belong to the vendor, not to the client: they would apply to a new connection.
    let live: Vec<Doc<Grant>> = ctx
        .client
        .get_array("/v1/grants", &[("vendor", id.to_string())])?;
    let live: Vec<String> = live
        .into_iter()
        .filter(|g| g.value.state == GrantState::Live)
        .map(|g| g.value.id.to_string())
        .collect();
    if !live.is_empty() {
        output::message(&format!(
            "its live grant {} stays and applies again if you reconnect it; `carnet grant revoke {}` ends it",
            live.join(", "),
            live.join(" ")
        ));
    }
    Ok(())
}
