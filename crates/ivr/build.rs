//! Embeds the rendered prompt sets (`prompts/LANG/NAME.ulaw`) in the crate,
//! so the server speaks with nothing else installed: writes a table of
//! `include_bytes!` to `OUT_DIR/embedded_prompts.rs`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut entries = Vec::new();
    if let Ok(languages) = std::fs::read_dir(&root) {
        for language in languages.flatten().filter(|e| e.path().is_dir()) {
            println!("cargo:rerun-if-changed={}", language.path().display());
            let lang = language.file_name().to_string_lossy().into_owned();
            for file in std::fs::read_dir(language.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let path = file.path();
                if path.extension().and_then(|e| e.to_str()) == Some("ulaw")
                    && let Some(name) = path.file_stem().and_then(|s| s.to_str())
                {
                    entries.push((lang.clone(), name.to_string(), path.display().to_string()));
                }
            }
        }
    }
    entries.sort();
    let mut out = String::from("pub(crate) static EMBEDDED: &[(&str, &str, &[u8])] = &[\n");
    for (lang, name, path) in entries {
        let _ = writeln!(out, "    ({lang:?}, {name:?}, include_bytes!({path:?})),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("embedded_prompts.rs");
    std::fs::write(dest, out).expect("write the embedded prompt table");
}
