//! Embeds `web-demo/` and `www/` (at the repository root) into the gateway binary, so that
//! it is self-contained: `$OUT_DIR/assets.rs` defines `WEB_DEMO` and `CONSOLE` as
//! `&[(path, bytes)]` with `include_bytes!` of every file (empty when a directory is absent).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        if p.is_dir() {
            collect(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push((rel.to_string_lossy().replace('\\', "/"), p.clone()));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let repo = manifest
        .parent()
        .expect("gateway/ is inside the repository")
        .to_path_buf();
    let mut code = String::new();
    for (konst, dir) in [("WEB_DEMO", "web-demo"), ("CONSOLE", "www")] {
        let root = repo.join(dir);
        // Watched even when absent: Cargo then reruns this script on every build until the
        // directory exists, which is the price of never serving stale assets once it does.
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        let _ = writeln!(
            code,
            "/// Files of `{dir}/`.\npub static {konst}: &[(&str, &[u8])] = &["
        );
        for (rel, path) in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let _ = writeln!(
                code,
                "    ({rel:?}, include_bytes!({:?})),",
                path.display().to_string()
            );
        }
        code.push_str("];\n");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("assets.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
