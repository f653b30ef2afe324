//! Regenerates the fuzzers' seeds from the case files of `testdata/` and `examples/`: every
//! file's plugin configuration (into `fuzz/configs/`, which the `request` target routes through,
//! and as seeds of `config_json` and `compile`) and every case's request (`request`'s seeds).
//!
//! `scripts/fuzz seeds` runs it with the seed folder as its argument, then merges the seeds into
//! the committed corpora, keeping only those that add coverage.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gatewasm_fuzz::request_text::encode;
use host_sim::cases::LoadedFile;

fn main() -> Result<()> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = fuzz.join("..");
    let mut files = Vec::new();
    for dir in ["testdata", "examples"] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    let configs = fuzz.join("configs");
    let seeds = PathBuf::from(std::env::args_os().nth(1).context("usage: seeds OUT_DIR")?);
    for dir in [&configs, &seeds] {
        let _ = std::fs::remove_dir_all(dir);
    }
    for target in ["config_json", "compile", "request"] {
        std::fs::create_dir_all(seeds.join(target))?;
    }
    std::fs::create_dir_all(&configs)?;
    let mut index = 0;
    for path in &files {
        let Ok(file) = LoadedFile::load(path) else {
            continue;
        };
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
            .replace(['/', '.'], "-");
        // The mesh's workload namespace, which a case file gives beside the configuration,
        // goes into the configuration's own `namespace`.
        let mut configuration: serde_json::Value = serde_json::from_slice(&file.configuration)?;
        if let Some(namespace) = &file.namespace {
            configuration["namespace"] = namespace.as_str().into();
        }
        let configuration = serde_json::to_vec(&configuration)?;
        std::fs::write(
            configs.join(format!("{index:03}-{name}.json")),
            &configuration,
        )?;
        for target in ["config_json", "compile"] {
            std::fs::write(seeds.join(target).join(&name), &configuration)?;
        }
        for (number, case) in file.cases.iter().enumerate() {
            let Ok(request) = case.request_spec().build() else {
                continue;
            };
            let seed = seeds.join("request").join(format!("{name}-{number}"));
            std::fs::write(&seed, encode(index, &request))
                .with_context(|| format!("failed to write {}", seed.display()))?;
        }
        index += 1;
    }
    println!("{index} configurations, seeds in {}", seeds.display());
    Ok(())
}

/// Case files (YAML with a top-level `cases:` key) under `dir`.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml")
            && std::fs::read_to_string(&path)
                .is_ok_and(|t| t.lines().any(|l| l.starts_with("cases:")))
        {
            out.push(path);
        }
    }
}
