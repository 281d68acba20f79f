use clap::Parser;

/// mimalloc instead of glibc's malloc: under load the server allocates on tokio's threads and
/// frees on sqlx-sqlite's (and back); glibc's arenas then took about a quarter of the
/// server's time in locks and consolidation (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // The configuration file first, before any thread starts: it fills environment variables.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = kam::config::load(&args) {
        eprintln!("kam: configuration file: {e}");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the async runtime");
    runtime.block_on(run());
}

async fn run() {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KAM_LOG").unwrap_or_else(|_| "kam=info,warn".into()),
        )
        .with_writer(std::io::stderr);
    // KAM_LOG_FORMAT=json: one JSON object a line (for a log collector); text otherwise.
    match std::env::var("KAM_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => {
            logs.init();
            tracing::warn!("KAM_LOG_FORMAT={other:?} is neither json nor text; logging as text");
        }
    }
    let cli = kam::cli::Cli::parse();
    if let Err(e) = kam::cli::run(cli).await {
        eprintln!("kam: {e:#}");
        std::process::exit(1);
    }
}
