//! Measures `mailex check` on every hostile rule file and config of
//! `mailex_tests::hostile_rules`, each in a fresh process, and prints a Markdown table of wall
//! time, CPU time and peak RSS (from `wait4`'s resource usage).
//!
//! ```text
//! cargo build --release -p mailex-cli -p mailex-tests --bin mailex --bin measure-check
//! target/release/measure-check [--mailex target/release/mailex] [--timeout-secs 60]
//! ```
//!
//! Sizes: rule files just under the 256 KiB cap, oversized rule files of 1 MB, configs of
//! 1 MB. The goal (issue 8): every run under 5 s and 512 MB, or a rejection with a diagnostic.
//! Exit code 1 when a run misses the goal or does not report the expected diagnostic.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mailex_tests::hostile_rules;

const GOAL_SECS: f64 = 5.0;
const GOAL_RSS_MB: f64 = 512.0;

struct Usage {
    exit: Option<i32>,
    wall: Duration,
    cpu: Duration,
    max_rss_kb: i64,
    timed_out: bool,
}

fn main() {
    let mut mailex = PathBuf::from("target/release/mailex");
    let mut timeout = Duration::from_secs(60);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mailex" => mailex = args.next().map(PathBuf::from).unwrap_or(mailex),
            "--timeout-secs" => {
                timeout = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(timeout)
            }
            other => {
                eprintln!("measure-check: unknown argument `{other}`");
                std::process::exit(2);
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("mailex-measure-check-{}", std::process::id()));
    let cap = mailex_grammar::limits::MAX_FILE_BYTES;
    let cases = hostile_rules::all(cap - 1024, 1_000_000, 1_000_000);
    println!("| case | bytes | exit | expected | reported | wall s | cpu s | peak RSS MB | goal |");
    println!("|---|---:|---:|---|---|---:|---:|---:|---|");
    let mut missed = 0;
    for case in &cases {
        let config = match case.write(&dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cannot write {}: {e}", case.name);
                std::process::exit(2);
            }
        };
        let (usage, stderr) = run(&mailex, &config, timeout);
        let expected = case.expect.unwrap_or("(loads)");
        let reported = first_code(&stderr);
        let diagnosed = match case.expect {
            None => usage.exit == Some(0),
            Some(fragment) => usage.exit == Some(1) && stderr.contains(fragment),
        };
        let wall = usage.wall.as_secs_f64();
        let rss_mb = usage.max_rss_kb as f64 / 1024.0;
        let ok = !usage.timed_out && wall < GOAL_SECS && rss_mb < GOAL_RSS_MB && diagnosed;
        missed += usize::from(!ok);
        println!(
            "| {} | {} | {} | {expected} | {reported} | {wall:.2} | {:.2} | {rss_mb:.1} | {} |",
            case.name,
            case.size(),
            usage
                .exit
                .map_or_else(|| "killed".to_owned(), |c| c.to_string()),
            usage.cpu.as_secs_f64(),
            if ok { "ok" } else { "MISSED" }
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    if missed > 0 {
        eprintln!("{missed} case(s) missed the goal");
        std::process::exit(1);
    }
}

/// The first diagnostic code (`E010`) or config error in `stderr`.
fn first_code(stderr: &str) -> String {
    if let Some(at) = stderr.find("[E") {
        return stderr[at + 1..].chars().take(4).collect();
    }
    stderr
        .lines()
        .find(|l| l.contains("error"))
        .map(|l| {
            let l = l.rsplit("error: ").next().unwrap_or(l);
            let short: String = l.chars().take(48).collect();
            short.replace('|', "/")
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// Runs `mailex check --config CONFIG` and reports its resource usage.
fn run(mailex: &PathBuf, config: &std::path::Path, timeout: Duration) -> (Usage, String) {
    let started = Instant::now();
    let mut child = match Command::new(mailex)
        .arg("check")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot run {}: {e}", mailex.display());
            std::process::exit(2);
        }
    };
    // Drain stderr on a thread so a chatty child never blocks on a full pipe.
    let mut stderr_pipe = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(pipe) = stderr_pipe.as_mut() {
            let _ = pipe.take(4 << 20).read_to_end(&mut text);
            let _ = std::io::copy(pipe, &mut std::io::sink());
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our child, not yet reaped; the pointers are valid for the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid || reaped < 0 {
            break;
        }
        if started.elapsed() > timeout && !timed_out {
            timed_out = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = started.elapsed();
    let stderr = reader.join().unwrap_or_default();
    let exit = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (
        Usage {
            exit,
            wall,
            cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
            max_rss_kb: usage.ru_maxrss,
            timed_out,
        },
        stderr,
    )
}
