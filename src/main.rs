//! `geokho`: the one binary. Subcommands: migrate, import, rollback, layers,
//! serve, samples. Each opens the database given by `DATABASE_URL` (default:
//! the private cluster that `make run` starts) and applies migrations first.

mod cli;

use clap::Parser;

/// mimalloc instead of glibc's malloc: the server allocates per request and
/// the importer per record, from many threads (docs/benchmarks.md, "Queries").
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let args = cli::Cli::parse();
    if !matches!(args.command, cli::Command::Serve(_)) {
        // A command's output piped into `head` ends quietly, as other Unix
        // tools do, instead of panicking in println! on a closed pipe. Not
        // for the server: a client closing its socket must not stop it.
        // SAFETY: signal() only sets the process's disposition of SIGPIPE,
        // which nothing else in geokho changes.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("GEOKHO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=error,tower_http=info"));
    // The server logs JSON lines (with request ids) for log collectors; the
    // other commands talk to a person. GEOKHO_LOG_FORMAT=json|text overrides.
    let json = match std::env::var("GEOKHO_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => matches!(args.command, cli::Command::Serve(_)),
    };
    // Colours only on a terminal: logs sent to a file or a pipe stay plain.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(true).init();
    } else {
        logs.init();
    }
    if let Err(e) = cli::run(args).await {
        // One line: what happened and, where known, what to do.
        let mut msg = e.to_string();
        for cause in e.chain().skip(1) {
            let c = cause.to_string();
            if !msg.contains(&c) {
                msg.push_str(": ");
                msg.push_str(&c);
            }
        }
        eprintln!("geokho: {}", msg.replace('\n', " "));
        std::process::exit(1);
    }
}
