//! `hostile-inputs`: measures the resource attacks of [`mailex_tests::hostile`] at full size
//! against a release build of `mailex`, one fresh process per attack, one worker thread.
//!
//! ```text
//! scripts/hostile-inputs.sh [--size BYTES] [--mailex PATH] [NAME ...]
//! ```
//!
//! For each attack it writes the email to a temporary file, runs
//! `mailex extract --jobs 1 --config tests/fixtures/hostile/mailex.toml FILE`, and prints the
//! record's status and codes, the wall time and the peak RSS of the process (`ru_maxrss` of
//! `wait4`). It checks the promise of docs/security.md: exactly one record, the expected
//! status and code, under 2 s and under 256 MiB; the exit code is 1 if any attack misses it.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailex_tests::hostile::{self, Attack, Expect};

const MAX_TIME: Duration = Duration::from_secs(2);
const MAX_RSS_BYTES: u64 = 256 * 1024 * 1024;

fn main() -> std::process::ExitCode {
    let mut size = hostile::FULL_SIZE;
    let mut mailex = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("mailex")))
        .unwrap_or_else(|| PathBuf::from("mailex"));
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some(WRITE) {
        return write_attack(args.skip(1).collect());
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--size" => match args.next().and_then(|s| s.parse().ok()) {
                Some(s) => size = s,
                None => return usage("--size needs a number of bytes"),
            },
            "--mailex" => match args.next() {
                Some(path) => mailex = PathBuf::from(path),
                None => return usage("--mailex needs a path"),
            },
            "-h" | "--help" => return usage(""),
            name => names.push(name.to_owned()),
        }
    }
    let attacks: Vec<Attack> = hostile::attacks()
        .into_iter()
        .filter(|a| names.is_empty() || names.iter().any(|n| n == a.name))
        .collect();
    if attacks.is_empty() {
        return usage("no attack of that name");
    }
    let root = mailex_tests::workspace_root();
    let dir = std::env::temp_dir().join(format!("mailex-hostile-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return std::process::ExitCode::from(2);
    }
    println!(
        "| attack | size | records | status | code | time | peak RSS | promise |\n|---|---|---|---|---|---|---|---|"
    );
    let mut missed = 0;
    for attack in attacks {
        let file = dir.join(format!("{}.eml", attack.name));
        // Built by a child process: the peak RSS of a child counts its parent's memory at the
        // time it was spawned, so this process never holds an attack itself.
        let written = std::env::current_exe().and_then(|exe| {
            Command::new(exe)
                .args([WRITE, attack.name, &size.to_string()])
                .arg(&file)
                .status()
        });
        if !written.is_ok_and(|status| status.success()) {
            eprintln!("cannot write {}", file.display());
            return std::process::ExitCode::from(2);
        }
        let bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
        let run = match measure(&mailex, &root, &file) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("cannot run {}: {e}", mailex.display());
                return std::process::ExitCode::from(2);
            }
        };
        let _ = std::fs::remove_file(&file);
        let (status, code, shown) = summary(&run.records, attack.expect);
        let kept = run.records.len() == 1
            && shown
            && run.exit_code == Some(0)
            && run.time < MAX_TIME
            && run.peak_rss < MAX_RSS_BYTES;
        if !kept {
            missed += 1;
        }
        println!(
            "| {} | {:.1} MB | {} | {status} | {code} | {:.2} s | {:.0} MiB | {} |",
            attack.name,
            bytes as f64 / 1e6,
            run.records.len(),
            run.time.as_secs_f64(),
            run.peak_rss as f64 / 1048576.0,
            if kept {
                "kept".to_owned()
            } else {
                format!("MISSED (exit {:?})", run.exit_code)
            }
        );
    }
    let _ = std::fs::remove_dir(&dir);
    if missed > 0 {
        eprintln!("{missed} attack(s) missed the promise: one record, under 2 s and 256 MiB");
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

/// The internal mode that writes one attack: `hostile-inputs --write NAME SIZE PATH`.
const WRITE: &str = "--write";

fn write_attack(args: Vec<String>) -> std::process::ExitCode {
    let [name, size, path] = args.as_slice() else {
        return usage("--write takes NAME SIZE PATH");
    };
    let Some(attack) = hostile::attacks().into_iter().find(|a| a.name == name) else {
        return usage("no attack of that name");
    };
    let Ok(size) = size.parse() else {
        return usage("--write needs a number of bytes");
    };
    match std::fs::write(path, (attack.build)(size)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write {path}: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn usage(problem: &str) -> std::process::ExitCode {
    if !problem.is_empty() {
        eprintln!("hostile-inputs: {problem}");
    }
    eprintln!("usage: hostile-inputs [--size BYTES] [--mailex PATH] [NAME ...]");
    eprintln!("attacks:");
    for attack in hostile::attacks() {
        eprintln!("  {:<24} {}", attack.name, attack.description);
    }
    std::process::ExitCode::from(2)
}

/// One run of `mailex extract` on one file.
struct Run {
    records: Vec<serde_json::Value>,
    exit_code: Option<i32>,
    time: Duration,
    peak_rss: u64,
}

fn measure(mailex: &PathBuf, root: &PathBuf, file: &PathBuf) -> std::io::Result<Run> {
    let started = Instant::now();
    let mut child = Command::new(mailex)
        .current_dir(root)
        .args(["extract", "--jobs", "1", "--config", hostile::CONFIG])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let (exit_code, peak_rss) = wait(child)?;
    let time = started.elapsed();
    let out = reader.join().unwrap_or_default();
    let records = out
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok(Run {
        records,
        exit_code,
        time,
        peak_rss,
    })
}

/// Waits for `child` and returns its exit code and peak resident set size in bytes.
#[cfg(unix)]
fn wait(child: std::process::Child) -> std::io::Result<(Option<i32>, u64)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's `Child` is never waited on),
    // and both pointers are to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        return Err(std::io::Error::last_os_error());
    }
    let exit_code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Linux reports ru_maxrss in KiB.
    let peak = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    Ok((exit_code, peak))
}

#[cfg(not(unix))]
fn wait(mut child: std::process::Child) -> std::io::Result<(Option<i32>, u64)> {
    let status = child.wait()?;
    Ok((status.code(), 0))
}

fn as_strs(codes: &[String]) -> Vec<&str> {
    codes.iter().map(String::as_str).collect()
}

/// The record's status, its error code (or the expected warning), and whether it shows
/// `expect`.
fn summary(records: &[serde_json::Value], expect: Expect) -> (String, String, bool) {
    let Some(record) = records.first() else {
        return ("-".to_owned(), "-".to_owned(), false);
    };
    let status = record["status"].as_str().unwrap_or("?").to_owned();
    let codes = |key: &str| -> Vec<String> {
        record[key]
            .as_array()
            .map(|issues| {
                issues
                    .iter()
                    .filter_map(|i| i["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (errors, warnings) = (codes("errors"), codes("warnings"));
    let shown = expect.shown_by(&status, &as_strs(&errors), &as_strs(&warnings));
    // The warning that shows the expectation, if a warning is what it asks for.
    let shown_warning = warnings.iter().find(|w| {
        !expect.shown_by(&status, &[], &[]) && expect.shown_by(&status, &[], &[w.as_str()])
    });
    let code = match (shown_warning, errors.first()) {
        (Some(warning), _) => format!("warning `{warning}`"),
        (None, Some(error)) => format!("`{error}`"),
        (None, None) => "-".to_owned(),
    };
    (status, code, shown)
}
