//! Runs every case file in `testdata/` and `examples/` through the real `gatewasm.wasm`, one
//! trial per case, named `<file>::<case>` so `cargo test --test cases -- seed/` filters.
//!
//! A case file is a YAML file with a top-level `cases:` key; other YAML (manifests) is skipped.
//! The module is built and compiled once per run; each case gets a fresh simulated proxy.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use host_sim::cases::LoadedFile;
use host_sim::envoy::WasmModule;
use host_sim::wasm;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["testdata", "examples"] {
        collect_case_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut trials = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match LoadedFile::load(&path) {
            Ok(file) => {
                let file = Arc::new(file);
                for index in 0..file.cases.len() {
                    let file = Arc::clone(&file);
                    let trial_name = format!("{name}::{}", file.cases[index].name);
                    trials.push(Trial::test(trial_name, move || run(&file, index)));
                }
            }
            Err(err) => trials.push(Trial::test(name, move || Err(format!("{err:#}").into()))),
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn module() -> Result<&'static WasmModule, Failed> {
    static MODULE: OnceLock<Result<WasmModule, String>> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            wasm::locate(None, wasm::FILTER_PACKAGE)
                .and_then(|path| WasmModule::from_file(&path))
                .map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| Failed::from(e.as_str()))
}

fn run(file: &LoadedFile, index: usize) -> Result<(), Failed> {
    let mut proxy = file.start(module()?).map_err(|e| format!("{e:#}"))?;
    let case = &file.cases[index];
    case.run(&mut proxy, file)
        .map(|_| ())
        .map_err(|problems| format!("{}\n  {}", case.name, problems.join("\n  ")).into())
}

/// YAML files with a top-level `cases:` key, recursively.
fn collect_case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_case_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            let is_case_file = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_norway::from_str::<serde_json::Value>(&text).ok())
                .is_some_and(|v| v.get("cases").is_some());
            if is_case_file {
                out.push(path);
            }
        }
    }
}
