//! The configuration file (`kam.toml`): one setting a line, each named as its environment
//! variable is without `KAM_` and in lower case (`KAM_DATABASE_URL` ↔ `database_url`). The file
//! is read before anything else; a setting it gives becomes the environment variable's value
//! when the environment does not set it, so the order is: a command-line flag, then the
//! environment, then the file, then the default. The known names are the command line's own
//! (every flag with an environment variable), so the file and the flags cannot drift apart.
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

/// The variable (and `--config` flag) naming the file.
pub const CONFIG_VAR: &str = "KAM_CONFIG";

/// Settings read by the process itself rather than by a flag: (variable, meaning, default).
const EXTRA: [(&str, &str, &str); 3] = [
    ("KAM_LOG", "Log filter (tracing's syntax), e.g. \"kam=debug,warn\".", "kam=info,warn"),
    ("KAM_LOG_FORMAT", "Log format: text, or json (one JSON object a line).", "text"),
    ("KAM_DB_CONNECTIONS", "Database connections per server (8 on SQLite, 16 on PostgreSQL).", "8"),
];

/// Every environment variable the command line reads, across all its commands.
pub fn known_vars() -> BTreeSet<String> {
    use clap::CommandFactory;
    fn walk(c: &clap::Command, out: &mut BTreeSet<String>) {
        for a in c.get_arguments() {
            if let Some(e) = a.get_env() {
                out.insert(e.to_string_lossy().into_owned());
            }
        }
        for s in c.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&crate::cli::Cli::command(), &mut out);
    for (v, _, _) in EXTRA {
        out.insert(v.to_string());
    }
    out.remove(CONFIG_VAR);
    out
}

/// The file's setting name of an environment variable.
pub fn key_of(var: &str) -> String {
    var.trim_start_matches("KAM_").to_ascii_lowercase()
}

/// Where the file is: `--config PATH` (or `--config=PATH`) among the arguments, else
/// `KAM_CONFIG`; none when neither says.
pub fn path_from(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os(CONFIG_VAR).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The settings a file's text gives, as (environment variable, value), or what is wrong with
/// it: not TOML, a name the command line does not know, or a value that is not a string, a
/// number or true/false.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let known = known_vars();
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for (k, v) in table {
        let var = format!("KAM_{}", k.to_ascii_uppercase());
        if !known.contains(&var) || k != k.to_ascii_lowercase() {
            unknown.push(k);
            continue;
        }
        let value = match v {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => return Err(format!("`{k}`: a {} is not a setting's value", other.type_str())),
        };
        out.push((var, value));
    }
    if !unknown.is_empty() {
        let names: Vec<String> = known.iter().map(|v| key_of(v)).collect();
        return Err(format!("unknown setting(s): {}; the known ones are: {}", unknown.join(", "), names.join(", ")));
    }
    Ok(out)
}

/// Reads the file named by the arguments or `KAM_CONFIG` and gives its settings to the
/// environment where the environment has none. Call it first thing, before any thread starts
/// (it sets environment variables). Answers the file read, if any.
pub fn load(args: &[OsString]) -> Result<Option<PathBuf>, String> {
    let Some(path) = path_from(args) else { return Ok(None) };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let settings = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for (var, value) in settings {
        if std::env::var_os(&var).is_none() {
            std::env::set_var(&var, value);
        }
    }
    Ok(Some(path))
}

/// A commented example file with every setting (`kam config example`): the name, what it does
/// (the flag's help) and its default.
pub fn example() -> String {
    use clap::CommandFactory;
    let mut seen = BTreeSet::new();
    let mut out = String::from(
        "# kam.toml: KAM's configuration file. Each setting is also an environment variable\n\
         # (KAM_ and the name in capitals), which wins over the file; a command-line flag wins\n\
         # over both. Point KAM at the file with --config PATH or KAM_CONFIG=PATH.\n",
    );
    fn walk(c: &clap::Command, seen: &mut BTreeSet<String>, out: &mut String) {
        for a in c.get_arguments() {
            let Some(e) = a.get_env() else { continue };
            let var = e.to_string_lossy().into_owned();
            if var == CONFIG_VAR || !seen.insert(var.clone()) {
                continue;
            }
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            out.push('\n');
            for line in help.lines().filter(|l| !l.trim().is_empty()) {
                out.push_str(&format!("# {line}\n"));
            }
            let default: Vec<String> =
                a.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
            let key = key_of(&var);
            let flag = matches!(a.get_action(), clap::ArgAction::SetTrue);
            let value = match default.first() {
                _ if flag => "false".to_string(),
                Some(d) if d.parse::<i64>().is_ok() => d.clone(),
                Some(d) => toml::Value::String(d.clone()).to_string(),
                None => "\"\"".to_string(),
            };
            out.push_str(&format!("# {key} = {value}\n"));
        }
        for s in c.get_subcommands() {
            walk(s, seen, out);
        }
    }
    walk(&crate::cli::Cli::command(), &mut seen, &mut out);
    for (var, help, default) in EXTRA {
        let value = if default.parse::<i64>().is_ok() {
            default.to_string()
        } else {
            toml::Value::String(default.into()).to_string()
        };
        out.push_str(&format!("\n# {help}\n# {} = {value}\n", key_of(var)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_names_settings_as_their_variables_do() {
        let got = parse("database_url = \"postgres://db/kam\"\nscheduler_secs = 10\nsecure_cookies = true\n")
            .expect("parses");
        assert!(got.contains(&("KAM_DATABASE_URL".into(), "postgres://db/kam".into())));
        assert!(got.contains(&("KAM_SCHEDULER_SECS".into(), "10".into())));
        assert!(got.contains(&("KAM_SECURE_COOKIES".into(), "true".into())));
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_known_ones() {
        let e = parse("databse_url = \"x\"").expect_err("refused");
        assert!(e.contains("databse_url") && e.contains("database_url"), "{e}");
        let e = parse("listen = [1, 2]").expect_err("refused");
        assert!(e.contains("listen"), "{e}");
        assert!(parse("listen = ").is_err());
    }

    #[test]
    fn the_example_lists_every_setting_and_parses_uncommented() {
        let ex = example();
        let uncommented: String = ex
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| {
                l.split_once(" = ")
                    .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let got = parse(&uncommented).expect("the example's settings parse");
        let vars: BTreeSet<String> = got.into_iter().map(|(v, _)| v).collect();
        assert_eq!(vars, known_vars(), "every setting once in the example");
    }

    #[test]
    fn the_path_comes_from_the_flag_first() {
        let args: Vec<OsString> =
            ["kam", "--config", "/etc/kam/kam.toml", "serve"].iter().map(OsString::from).collect();
        assert_eq!(path_from(&args), Some(PathBuf::from("/etc/kam/kam.toml")));
        let args: Vec<OsString> = ["kam", "serve", "--config=/x.toml"].iter().map(OsString::from).collect();
        assert_eq!(path_from(&args), Some(PathBuf::from("/x.toml")));
    }
}
