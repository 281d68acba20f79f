//! What the benchmark examples share about reporting: the command that was run, and appending
//! a section to BENCHMARKS.md (included with `#[path]`).

/// `cargo run --release --example NAME -- ARGS…` as this process was started.
pub fn command(example: &str) -> String {
    let mut command = format!("cargo run --release --example {example} --");
    for x in std::env::args().skip(1) {
        command.push(' ');
        command.push_str(&x);
    }
    command
}

/// Prints the section, and appends it to BENCHMARKS.md unless told not to.
pub fn publish(section: &str, append: bool) -> anyhow::Result<()> {
    println!("{section}");
    if append {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(section);
        std::fs::write(&path, text)?;
        eprintln!("appended to {}", path.display());
    }
    Ok(())
}
