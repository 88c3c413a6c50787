//! `carnet-vendor listen`: prints each new verified announcement in the vendor's categories (one
//! JSON object a line with --json), and one line on stderr for each one it dropped. Sealed and
//! notify announcements are opened with the vendor's X25519 key: the JSON has their content
//! under `opened`; one sealed for other vendors is dropped.

use std::time::Duration;

use carnet_market::relay;
use carnet_market::sdk::{Heard, HeardIntent, ListenOptions, Listener};
use carnet_market::tool::{self, Direction, ToolError, parse_when};
use carnet_market::wire::Region;
use chrono::Utc;
use clap::Args;

use crate::{Opened, RelayArgs, bad_value, open, relay_options, sdk_error};

#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// A category to listen to: one level (home) or two (home.appliances); repeat or list. With
    /// --creds, one level stands for your directory categories under it.
    #[arg(long = "category", value_name = "CAT", num_args = 1.., required = true)]
    categories: Vec<String>,
    /// Only this region (ISO 3166, e.g. FR or FR-75) [default: every region].
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// One JSON object a line (with "intent_ref"), instead of one line of text.
    #[arg(long)]
    json: bool,
    /// Stop after N intents.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Read again from this time on: RFC 3339 or a duration before now (2h, 3d).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
}

/// With credentials from `carnet-market vendor-user`, a first-level category (`home`) stands
/// for the vendor's directory categories under it: its credentials allow no other consumer.
fn expand(categories: Vec<String>, creds: &std::path::Path) -> Result<Vec<String>, ToolError> {
    let mine = carnet_market::creds::categories_of(creds)
        .map_err(|e| ToolError::failed(e, "give the credentials file the operator issued you"))?;
    if mine.is_empty() {
        return Ok(categories);
    }
    let mut out = Vec::new();
    for c in categories {
        if c.contains('.') {
            out.push(c);
            continue;
        }
        let under: Vec<String> = mine
            .iter()
            .filter(|m| m.top() == c)
            .map(ToString::to_string)
            .collect();
        if under.is_empty() {
            return Err(ToolError::usage(
                format!("category {c} has none of your directory categories"),
                "listen to the categories of your directory entry",
            ));
        }
        out.extend(under);
    }
    Ok(out)
}

pub async fn run(args: ListenArgs) -> Result<(), ToolError> {
    let Opened { id, state, keys } = open(&args.relay)?;
    let region = args
        .region
        .as_deref()
        .map(str::parse::<Region>)
        .transpose()
        .map_err(bad_value)?;
    let since = args
        .since
        .as_deref()
        .map(|w| parse_when(w, Utc::now(), Direction::Past))
        .transpose()?;
    let categories = match &args.relay.creds {
        Some(creds) => expand(args.categories, creds)?,
        None => args.categories,
    };
    let options = ListenOptions {
        vendor: id.clone(),
        categories,
        region,
        since,
        ack_wait: Duration::from_secs(30),
    };
    // Checked before waiting on the relay, so a typo fails at once.
    for c in &options.categories {
        carnet_market::wire::listen_subject(c, None).map_err(bad_value)?;
    }
    let client = relay::connect(&relay_options(&args.relay, &id, true))
        .await
        .map_err(crate::relay_error)?;
    let js = async_nats::jetstream::new(client);
    let mut last_wait = String::new();
    let mut listener = Listener::start(&js, &options, state, |why| {
        if why != last_wait {
            eprintln!("carnet-vendor: waiting for the relay: {why}");
            last_wait = why.to_owned();
        }
    })
    .await
    .map_err(sdk_error)?
    .opening_with(keys.identity);
    eprintln!("carnet-vendor: listening as {id}");
    let mut heard = 0u64;
    while args.count.is_none_or(|n| heard < n) {
        match listener.next().await.map_err(sdk_error)? {
            None => break,
            Some(Heard::Intent(a)) => {
                heard += 1;
                print(&a, args.json);
            }
            Some(Heard::Dropped {
                subject,
                msg_id,
                reason,
            }) => {
                let id = msg_id.as_deref().unwrap_or("-");
                eprintln!("carnet-vendor: dropped {id} on {subject}: {reason}");
            }
        }
    }
    Ok(())
}

fn print(heard: &HeardIntent, json: bool) {
    let a = &heard.announcement;
    let line = if json {
        serde_json::to_string(heard).unwrap_or_default()
    } else {
        format!(
            "{} rev {} {} {} {} until {}{}",
            a.intent_ref,
            a.revision,
            a.event.as_str(),
            a.category,
            a.region,
            a.window
                .valid_through
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            title(heard)
                .map(|t| format!(": {}", t.replace(|c: char| c.is_control(), " ")))
                .unwrap_or_default()
        )
    };
    tool::print_line(&line);
}

/// The title to show: the public one, the sealed intent's, or where to pull a notify intent.
fn title(heard: &HeardIntent) -> Option<String> {
    let opened = heard.opened.as_ref();
    heard
        .announcement
        .public
        .title
        .clone()
        .or_else(|| {
            let intent = opened?.intent.as_ref()?;
            Some(format!("(sealed) {}", intent.get("title")?.as_str()?))
        })
        .or_else(|| Some(format!("(notify) {}", opened?.pointer.as_ref()?.intent_url)))
}
