//! `carnet-vendor answers`: prints each verified answer to the vendor's offers (accepted or
//! declined), one JSON object a line with --json, and one line on stderr for each one dropped.

use carnet_market::relay;
use carnet_market::sdk::answers::{AnswerListener, HeardAnswer};
use carnet_market::tool::{self, ToolError};
use clap::Args;

use crate::{Opened, RelayArgs, open, relay_options, sdk_error};

#[derive(Debug, Args)]
pub struct AnswersArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// One JSON object a line, instead of one line of text.
    #[arg(long)]
    json: bool,
    /// Stop after N answers.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

pub async fn run(args: AnswersArgs) -> Result<(), ToolError> {
    let Opened { id, keys, state } = open(&args.relay)?;
    let client = relay::connect(&relay_options(&args.relay, &id, true))
        .await
        .map_err(crate::relay_error)?;
    let js = async_nats::jetstream::new(client);
    let mut listener = AnswerListener::start(&js, &id, keys.identity, state, |why| {
        eprintln!("carnet-vendor: waiting for the relay: {why}");
    })
    .await
    .map_err(sdk_error)?;
    eprintln!("carnet-vendor: listening for answers to {id}");
    let mut heard = 0u64;
    while args.count.is_none_or(|n| heard < n) {
        match listener.next().await.map_err(sdk_error)? {
            None => break,
            Some(HeardAnswer::Answer(a)) => {
                heard += 1;
                if args.json {
                    tool::print_line(&serde_json::to_string(&a).unwrap_or_default());
                } else {
                    let decision = match a.decision {
                        carnet_market::wire::answer::Decision::Accepted => "accepted",
                        carnet_market::wire::answer::Decision::Declined => "declined",
                    };
                    tool::print_line(&format!(
                        "offer {} to intent {}: {decision}",
                        a.offer_id, a.intent_ref
                    ));
                }
            }
            Some(HeardAnswer::Dropped(reason)) => {
                eprintln!("carnet-vendor: dropped an answer: {reason}");
            }
        }
    }
    Ok(())
}
