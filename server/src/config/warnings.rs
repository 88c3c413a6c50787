//! What carnetd says at start about a configuration it still runs with: an OAuth issuer no one
//! can reach, a log level that silences it. Never refuses a configuration (`Layer::check` does).

/// A public URL whose host is 0.0.0.0 or `::` (what `--listen 0.0.0.0:8787` alone gives): it
/// becomes the OAuth issuer and the consent links, and no one can reach it.
pub(super) fn unreachable_issuer(public_url: &str) -> Option<String> {
    let host = url::Url::parse(public_url).ok()?.host()?.to_owned();
    let unspecified = match host {
        url::Host::Ipv4(ip) => ip.is_unspecified(),
        url::Host::Ipv6(ip) => ip.is_unspecified(),
        url::Host::Domain(_) => false,
    };
    unspecified.then(|| {
        format!(
            "public_url is {public_url}, an address no vendor can reach, yet it is the OAuth issuer and the consent page's address: set --public-url (CARNET_PUBLIC_URL) to the URL vendors use, e.g. https://carnet.example.net"
        )
    })
}

/// A `log_level` whose bare words are neither a level nor one of carnetd's targets, such as
/// `verbose`: tracing reads such a word as a target name, so carnetd would log nothing at all.
/// Said on stderr at start, since the log itself is what it silences.
pub fn log_level_warning(level: &str) -> Option<String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let stray: Vec<&str> = level
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.contains(['=', '[', ':']))
        .filter(|d| !LEVELS.contains(&d.to_ascii_lowercase().as_str()) && !d.starts_with("carnet"))
        .collect();
    (!stray.is_empty()).then(|| {
        format!(
            "log_level {level:?}: {} is not a level, so it is read as the name of a log target and carnetd logs nothing of its own; use trace, debug, info, warn or error, or a filter such as carnet_server=debug",
            stray.join(", ")
        )
    })
}
