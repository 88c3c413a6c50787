//! The `carnet` binary on its own (no server): help, completions, usage errors. Commands
//! against a server are tested end to end in the `carnet-tests` crate.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::process::Command;

fn carnet(args: &[&str]) -> std::process::Output {
    carnet_env(args, &[])
}

/// `carnet` with these variables set, and none of the owner's that change the output.
fn carnet_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_carnet"))
        .args(args)
        .env_remove("CARNET_SERVER")
        .env_remove("CARNET_TOKEN")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Whether a program is on PATH.
fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `check`, which needs `program`, can run. Under CI (`CI` set) a missing program fails
/// the test, since .ci/run installs it: a check that never runs there would pass unseen.
/// Elsewhere the check is skipped, and stderr says so.
fn can_check(program: &str, check: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{program} is not installed, so {check} cannot be checked; CI must install it \
             (.ci/run installs zsh, fish and man-db)"
        );
    }
    eprintln!("skipped: {check} ({program} is not installed)");
    false
}

/// The top-level commands a user sees.
fn top_level_commands() -> Vec<String> {
    use clap::CommandFactory;
    carnet_cli::cli::Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let out = carnet(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Exit codes",
        "vendor",
        "interaction",
        "followups",
        "grant",
        "receipts",
        "audit",
        "SCOPE",
        "CARNET_TOKEN",
        "unlock",
        "lock",
        "5  the vault is sealed",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from --help:\n{text}"
        );
    }
}

#[test]
fn completions_name_every_command_for_each_shell() {
    let commands = top_level_commands();
    assert!(commands.len() > 15, "{commands:?}");
    for (shell, check) in [
        ("bash", Some(["bash", "-n"])),
        ("zsh", Some(["zsh", "-n"])),
        ("fish", Some(["fish", "--no-execute"])),
    ] {
        let out = carnet(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        assert!(out.stderr.is_empty(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for command in &commands {
            assert!(
                script.contains(command.as_str()),
                "{shell}: {command} missing"
            );
        }
        // Flags, and values carnet knows (a scope, a channel; zsh escapes the colon).
        for flag in ["redirect-uri", "all-categories", "relationship", "phone"] {
            assert!(script.contains(flag), "{shell}: {flag} missing");
        }
        // The shell itself accepts the script (without the shell, see `can_check`).
        if let Some([program, flag]) =
            check.filter(|[p, _]| can_check(p, &format!("the {shell} completion script")))
        {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("carnet.{shell}"));
            std::fs::write(&path, &script).unwrap();
            let checked = Command::new(program).arg(flag).arg(&path).output().unwrap();
            assert!(checked.status.success(), "{program} {flag}: {checked:?}");
        }
    }
    let out = carnet(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_page_names_every_command_and_renders() {
    let out = carnet(&["man"]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH CARNET 1"), "{page}");
    for command in top_level_commands() {
        let shown = format!("carnet {}", command.replace('-', "\\-"));
        assert!(page.contains(&shown), "{command} missing from carnet(1)");
    }
    if !can_check("man", "rendering carnet(1)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carnet.1");
    std::fs::write(&path, &page).unwrap();
    let text = render_man(&path);
    for needle in [
        "SYNOPSIS",
        "COMMANDS",
        "EXIT STATUS",
        "EXAMPLES",
        "carnet vendor add",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the rendered page:\n{text}"
        );
    }
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let out = carnet(&["man", "--dir", pages.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "the pages go to files: {out:?}");
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for command in top_level_commands() {
        assert!(
            names.contains(&format!("carnet-{command}.1")),
            "{command}: {names:?}"
        );
    }
    for name in ["carnet.1", "carnet-vendor-add.1", "carnet-audit-verify.1"] {
        assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
    }
    if can_check("man", "rendering carnet-vendor-add(1)") {
        let text = render_man(&pages.join("carnet-vendor-add.1"));
        assert!(text.contains("--website"), "{text}");
        assert!(text.contains("EXAMPLES"), "{text}");
    }
}

/// The page as `man -l` shows it, plain.
fn render_man(path: &std::path::Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "")
        .env_remove("MANROFFOPT")
        .output()
        .unwrap();
    assert!(out.status.success(), "man -l {}: {out:?}", path.display());
    // Bold and underline are overstrikes when not on a terminal: keep the letters.
    let raw = String::from_utf8_lossy(&out.stdout);
    let mut text = String::new();
    for c in raw.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

#[test]
fn errors_are_coloured_only_when_asked_or_on_a_terminal() {
    // Nothing listens on port 1: the error is "cannot reach carnetd", exit 3.
    let unreachable = ["--server", "http://127.0.0.1:1", "vendor", "list"];
    let token = ("CARNET_TOKEN", "t");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let args: Vec<&str> = extra.iter().chain(&unreachable).copied().collect();
        let mut env = env.to_vec();
        env.push(token);
        let out = carnet_env(&args, &env);
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let plain = run(&[], &[]);
    assert!(
        plain.starts_with("carnet: error: cannot reach carnetd"),
        "{plain}"
    );
    assert!(plain.contains("\n  hint: "), "{plain}");
    assert!(
        !plain.contains('\u{1b}'),
        "a pipe gets no colour: {plain:?}"
    );
    let always = run(&["--color", "always"], &[]);
    assert!(
        always.starts_with("\u{1b}[1m\u{1b}[31mcarnet: error:\u{1b}[0m cannot reach"),
        "{always:?}"
    );
    assert!(
        always.contains("\u{1b}[1m\u{1b}[36mhint:\u{1b}[0m"),
        "{always:?}"
    );
    assert_eq!(
        run(&["--color=always"], &[("NO_COLOR", "1")]),
        always,
        "the flag is the owner's word for this run: it wins over NO_COLOR"
    );
    assert_eq!(run(&["--color", "never"], &[]), plain);
    assert_eq!(
        run(&[], &[("CLICOLOR_FORCE", "1")]),
        always,
        "CLICOLOR_FORCE colours a pipe, for carnet's errors as for clap's help"
    );
    let help = carnet_env(&["--color", "always", "--help"], &[]);
    assert!(help.stdout.contains(&0x1b), "clap's help follows --color");
    let help = carnet_env(&["--color", "never", "--help"], &[]);
    assert!(!help.stdout.contains(&0x1b));
}

/// On a real terminal (a pty from util-linux's `script`), colour is the default, and
/// NO_COLOR with any non-empty value turns it off, for carnet's errors and clap's help.
#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    if !have("script") {
        return;
    }
    let on_a_terminal = |line: &str, no_color: Option<&str>| {
        let mut command = Command::new("script");
        command
            .args(["-q", "-e", "-c"])
            .arg(format!("'{}' {line}", env!("CARGO_BIN_EXE_carnet")))
            .arg("/dev/null")
            .env("CARNET_TOKEN", "t")
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .env_remove("CARNET_SERVER");
        if let Some(v) = no_color {
            command.env("NO_COLOR", v);
        }
        let out = command.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let error = "--server http://127.0.0.1:1 vendor list";
    let coloured = on_a_terminal(error, None);
    if !coloured.contains("cannot reach carnetd") {
        // `script` could not give it a terminal here.
        return;
    }
    assert!(
        coloured.contains("\u{1b}[1m\u{1b}[31mcarnet: error:"),
        "{coloured:?}"
    );
    assert!(on_a_terminal("--help", None).contains('\u{1b}'));
    for value in ["1", "0", "false"] {
        let text = on_a_terminal(error, Some(value));
        assert!(text.contains("carnet: error: cannot reach"), "{text:?}");
        assert!(!text.contains('\u{1b}'), "NO_COLOR={value}: {text:?}");
        let help = on_a_terminal("--help", Some(value));
        assert!(!help.contains('\u{1b}'), "NO_COLOR={value}: {help:?}");
    }
    assert!(
        on_a_terminal(error, Some("")).contains('\u{1b}'),
        "an empty NO_COLOR counts as unset"
    );
    assert!(!on_a_terminal(&format!("--color never {error}"), None).contains('\u{1b}'));
}

#[test]
fn a_bad_value_is_a_usage_error_naming_the_flag() {
    let out = carnet(&[
        "purchase",
        "add",
        "Acme",
        "--item",
        "x",
        "--amount",
        "12,50",
        "--currency",
        "EUR",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--amount"), "{err}");
}

/// `carnet man` is a command like the others: `carnet --help` lists it.
#[test]
fn help_lists_the_man_command() {
    let text = String::from_utf8(carnet(&["--help"]).stdout).unwrap();
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("man ")),
        "man missing from --help:\n{text}"
    );
}

/// Help is laid out for the same width as listings: COLUMNS when set, else the terminal's,
/// else 80 (and never wider than 100, past which lines are hard to read).
#[test]
fn help_fits_the_width_listings_use() {
    let widest = |args: &[&str], env: &[(&str, &str)]| {
        let out = carnet_env(args, env);
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        // clap never breaks a usage line: it is one command line.
        text.lines()
            .filter(|l| !l.starts_with("Usage: "))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    for args in [
        &["--help"][..],
        &["interaction", "add", "--help"],
        &["man", "--help"],
    ] {
        assert!(widest(args, &[("COLUMNS", "60")]) <= 60, "{args:?} at 60");
        assert!(widest(args, &[]) <= 80, "{args:?} with no terminal: 80");
        let wide = widest(args, &[("COLUMNS", "200")]);
        assert!(wide <= 100 && wide > 80, "{args:?} at 200: {wide}");
    }
}

/// A 70,000-character value is refused in a few lines that say the limit, not the text.
#[test]
fn an_over_long_value_is_not_echoed() {
    let pasted = "y".repeat(70_000);
    for (flag, other) in [("--summary", "--outcome"), ("--with", "--summary")] {
        let out = carnet(&[
            "interaction",
            "add",
            "Acme",
            "--channel",
            "web",
            other,
            "s",
            flag,
            &pasted,
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.len() < 600,
            "{flag}: {} bytes:\n{}",
            err.len(),
            &err[..300]
        );
        assert!(err.contains(flag), "{flag}: {err}");
    }
}
