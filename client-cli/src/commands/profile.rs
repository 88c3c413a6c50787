//! `carnet profile show | set`.

use carnet_schemas::{Line, Locale, Profile, TimeZoneName};

use super::Ctx;
use crate::cli::{OrClear, ProfileCmd};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{Fields, long_time};

pub fn run(ctx: &Ctx, cmd: ProfileCmd) -> CliResult<()> {
    match cmd {
        ProfileCmd::Show => show(ctx),
        ProfileCmd::Set {
            display_name,
            locale,
            city,
            postal_code,
            time_zone,
        } => set(ctx, display_name, locale, city, postal_code, time_zone),
    }
}

fn print_profile(p: &Profile) {
    let f = &p.fields;
    let unset = || "-".to_owned();
    let mut out = Fields::new();
    out.add(
        "display name",
        f.display_name
            .as_ref()
            .map_or_else(unset, ToString::to_string),
    )
    .add(
        "locale",
        f.locale.as_ref().map_or_else(unset, ToString::to_string),
    )
    .add(
        "city",
        f.city.as_ref().map_or_else(unset, ToString::to_string),
    )
    .add(
        "postal code",
        f.postal_code
            .as_ref()
            .map_or_else(unset, ToString::to_string),
    )
    .add(
        "time zone",
        f.time_zone
            .as_ref()
            .map_or_else(|| "the server's".to_owned(), ToString::to_string),
    )
    .add(
        "changed",
        p.updated_at.as_ref().map_or("never".to_owned(), long_time),
    );
    out.print();
}

fn show(ctx: &Ctx) -> CliResult<()> {
    let doc: Doc<Profile> = ctx.client.get("/v1/profile", &[])?;
    ctx.print(&doc, print_profile);
    Ok(())
}

fn set(
    ctx: &Ctx,
    display_name: Option<OrClear<Line>>,
    locale: Option<OrClear<Locale>>,
    city: Option<OrClear<Line>>,
    postal_code: Option<OrClear<Line>>,
    time_zone: Option<OrClear<TimeZoneName>>,
) -> CliResult<()> {
    let mut f = ctx.client.get::<Profile>("/v1/profile", &[])?.value.fields;
    OrClear::set(&mut f.display_name, display_name);
    OrClear::set(&mut f.locale, locale);
    OrClear::set(&mut f.city, city);
    OrClear::set(&mut f.postal_code, postal_code);
    OrClear::set(&mut f.time_zone, time_zone);
    let doc: Doc<Profile> = ctx.client.put("/v1/profile", &f)?;
    ctx.print(&doc, print_profile);
    Ok(())
}
