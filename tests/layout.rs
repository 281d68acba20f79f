//! The shape of the code, checked: no use-case module imports one that imports it back,
//! directly or through others (docs/ARCHITECTURE.md). A module's dependencies are the other
//! use-case modules it names as `super::x`, `crate::app::x` (also inside `{…}` groups) or,
//! after `use super::x` / `use crate::app::x`, as `x::…`.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Use-case modules: `src/app/x.rs` and `src/app/x/mod.rs` are module `x`; a file in a part's
/// folder, `src/app/part/y.rs`, is module `part::y`.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).expect("src/app") {
            let p = e.expect("entry").path();
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
            if p.is_dir() {
                walk(&p, &format!("{prefix}{name}::"), out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let module =
                    if name == "mod" { prefix.trim_end_matches("::").to_string() } else { format!("{prefix}{name}") };
                if !module.is_empty() {
                    out.insert(module, std::fs::read_to_string(&p).expect("source"));
                }
            }
        }
    }
    walk(Path::new("src/app"), "", &mut out);
    out
}

/// The modules a source names, resolved against the known module names.
fn deps(me: &str, src: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        // Tests may reach anywhere.
        .take_while(|l| !l.contains("#[cfg(test)]"))
        .collect::<Vec<_>>()
        .join("\n");
    let parent = me.rsplit_once("::").map(|(p, _)| p.to_string());
    let mut found = BTreeSet::new();
    let mut names = |path: &str| {
        // `path` is what follows `crate::app::` (absolute) — try the longest known prefix.
        let segs: Vec<&str> = path.split("::").collect();
        for n in (1..=segs.len()).rev() {
            let cand = segs[..n].join("::");
            if known.contains(&cand) && cand != me {
                found.insert(cand);
                return;
            }
        }
    };
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect::<String>();
    for (prefix, base) in
        [("crate::app::", String::new()), ("super::", parent.clone().map(|p| format!("{p}::")).unwrap_or_default())]
    {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let item = ident(item.trim());
                    if !item.is_empty() {
                        names(&format!("{base}{item}"));
                    }
                }
            } else {
                names(&format!("{base}{}", ident(rest)));
            }
        }
    }
    found
}

fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components.
    struct St<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = vec![];
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = St {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        next: 0,
        out: vec![],
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v.as_str());
        }
    }
    s.out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter().map(|(m, src)| (m.clone(), deps(m, src, &known))).collect()
}

#[test]
fn no_use_case_module_imports_one_that_imports_it_back() {
    let g = graph();
    assert!(g.len() >= 20, "found only {} use-case modules", g.len());
    let found = cycles(&g);
    let text: Vec<String> = found
        .iter()
        .map(|c| {
            let edges: Vec<String> = c
                .iter()
                .flat_map(|a| g[a].iter().filter(|b| c.contains(b)).map(move |b| format!("{a} → {b}")))
                .collect();
            format!("{{{}}}: {}", c.join(", "), edges.join(", "))
        })
        .collect();
    assert!(found.is_empty(), "import circles among use-case modules:\n{}", text.join("\n"));
}

#[test]
fn the_cycle_check_sees_a_circle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["c".to_string()].into());
    g.insert("c".into(), ["a".to_string()].into());
    g.insert("d".into(), ["a".to_string()].into());
    assert_eq!(cycles(&g), vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]);
    let known: BTreeSet<String> = ["x", "y", "part::z"].iter().map(|s| s.to_string()).collect();
    let d = deps("x", "use super::{y, part::z};\nfn f() { crate::app::y::g() }", &known);
    assert_eq!(d, ["part::z".to_string(), "y".to_string()].into());
}

/// An account's derived figures move in one place (`customers::derived`, which knows the lock
/// order): no other use-case module, nor anything else in `src/`, calls their refreshers.
#[test]
fn only_derived_refreshes_an_accounts_figures() {
    let refreshers = [
        "visibility::refresh_account(",
        "visibility::refresh_opportunity(",
        "totals::refresh(",
        "months::refresh(",
        "classify::refresh(",
        "classify::touch_activity(",
    ];
    let mut callers = BTreeMap::new();
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = vec![];
    walk(Path::new("src"), &mut files);
    assert!(files.iter().any(|f| f.ends_with("app/customers/derived.rs")), "derived.rs exists");
    for f in files.iter().filter(|f| !f.ends_with("app/customers/derived.rs")) {
        let src = std::fs::read_to_string(f).expect("source");
        for r in refreshers.iter() {
            if src.lines().any(|l| l.contains(r) && !l.trim_start().starts_with("//") && !l.contains("fn ")) {
                callers.insert(f.display().to_string(), r.to_string());
            }
        }
    }
    assert!(callers.is_empty(), "an account's figures refreshed outside customers::derived: {callers:?}");
}

/// The texts' keys across `locales/*.yml`: each is defined once. rust-i18n would keep one of
/// two definitions without a word, and a page would say the other file's words (a bid's
/// 「投标价低于产品底价」 in a quote export's header).
#[test]
fn no_text_key_is_defined_twice() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut twice = vec![];
    let mut files: Vec<_> =
        std::fs::read_dir("locales").expect("locales").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|x| x == "yml")) {
        let text = std::fs::read_to_string(path).expect("locale file");
        let file = path.display().to_string();
        for line in text.lines() {
            // A key is a line at the margin ending in `:`; `_version` is each file's own.
            let Some(key) = line.strip_suffix(':').filter(|k| !k.starts_with([' ', '#', '_']) && !k.contains(' '))
            else {
                continue;
            };
            if let Some(first) = seen.insert(key.to_string(), file.clone()) {
                twice.push(format!("{key}: {first} and {file}"));
            }
        }
    }
    assert!(seen.len() > 1000, "the texts were read: {}", seen.len());
    assert!(twice.is_empty(), "keys defined twice: {twice:#?}");
}
